"""The fine-tune recipe (training/finetune.py, what a retrain runs): it learns the labeled people,
its head starts at their mean embeddings, cancel stops with a checkpoint, a re-run resumes."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from album.faces.embedder import load_default_spec
from tests.training_support import tiny_spec
from training.backbones import create_backbone
from training.data import Preprocess, SyntheticFaces
from training.finetune import TrainPlan, class_prototypes, finetune, freeze_early_stages


def _chips(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 150, 150, 3), dtype=np.uint8), np.arange(n) % 2


SPEC = tiny_spec(16, "base")


def _album(noise_seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = SyntheticFaces(5, 12, size=8, noise=60.0, seed=4, noise_seed=noise_seed)
    chips = np.stack([data[i][0].permute(1, 2, 0).numpy() for i in range(len(data))])
    names = np.array(["ann", "bob", "cy", "dee", "eve"])[data.labels]
    return chips, names


def _separation(model: nn.Module, chips: np.ndarray, names: np.ndarray) -> float:
    """Mean cosine of same-person pairs minus different-person pairs."""
    with torch.no_grad():
        x = Preprocess(SPEC)(torch.from_numpy(chips).permute(0, 3, 1, 2))
        emb = nn.functional.normalize(model(x), dim=1)
    same, cos = torch.from_numpy(names[:, None] == names[None, :]), emb @ emb.t()
    return float(cos[same].mean() - cos[~same].mean())


def _tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.PReLU(), nn.Linear(32, 16))


@pytest.mark.usefixtures("one_torch_thread")
def test_finetune_learns_the_labeled_people(tmp_path):
    model, (chips, names), held = _tiny(), _album(0), _album(1)
    before = _separation(model, *held)
    plan = TrainPlan(steps=120, head_steps=20, batch_size=20, m_per_class=4, device="cpu")
    result = finetune(model, SPEC, chips, names, plan, tmp_path)
    assert result.stopped == "done" and result.step == 120
    assert _separation(model.eval(), *held) > max(before + 0.2, 0.3)


def _drift(model: nn.Module, before: torch.Tensor, chips: np.ndarray) -> float:
    """Mean cosine distance of `chips`' embeddings from `before`."""
    with torch.no_grad():
        x = Preprocess(SPEC)(torch.from_numpy(chips).permute(0, 3, 1, 2))
        now = nn.functional.normalize(model.eval()(x), dim=1)
    return float((1 - (now * before).sum(dim=1)).mean())


@pytest.mark.usefixtures("one_torch_thread")
def test_the_keep_term_holds_unlabeled_faces_where_they_were(tmp_path):
    """With the keep term, faces of people nobody named (here five others) move far less than
    without it, and the named people are still learned."""
    data = SyntheticFaces(5, 12, size=8, noise=60.0, seed=9, noise_seed=2)
    others = np.stack([data[i][0].permute(1, 2, 0).numpy() for i in range(len(data))])
    (chips, names), held = _album(0), _album(1)
    drift, learned = {}, {}
    for weight in (0.0, 50.0):
        model = _tiny()
        with torch.no_grad():
            x = Preprocess(SPEC)(torch.from_numpy(others).permute(0, 3, 1, 2))
            start = nn.functional.normalize(model(x), dim=1)
        plan = TrainPlan(
            steps=120, head_steps=20, batch_size=20, m_per_class=4, device="cpu",
            keep_weight=weight, keep_batch=20,
        )  # fmt: skip
        finetune(model, SPEC, chips, names, plan, tmp_path / str(weight), unlabeled=others)
        drift[weight], learned[weight] = _drift(model, start, others), _separation(model, *held)
    assert drift[50.0] < drift[0.0] / 3, drift
    assert learned[50.0] > 0.2, learned


@pytest.mark.usefixtures("one_torch_thread")
def test_a_resumed_run_with_the_keep_term_matches_a_straight_one(tmp_path):
    """The keep term draws its faces from a counter kept in the checkpoint: stop at step 30,
    resume, and the weights are those of one uninterrupted run."""
    (chips, names), others = _album(0), _album(1)[0]
    plan = TrainPlan(
        steps=60, head_steps=10, batch_size=20, m_per_class=4, device="cpu", keep_weight=5.0,
        keep_batch=8,
    )  # fmt: skip
    straight = _tiny()
    finetune(straight, SPEC, chips, names, plan, tmp_path / "straight", unlabeled=others)
    cancel = threading.Event()
    stop = lambda p: p.step == 30 and cancel.set()  # noqa: E731
    resumed = _tiny()
    first = finetune(resumed, SPEC, chips, names, plan, tmp_path / "resumed", progress=stop,
                     cancel=cancel, unlabeled=others)  # fmt: skip
    assert first.step == 30
    resumed = _tiny()
    finetune(resumed, SPEC, chips, names, plan, tmp_path / "resumed", unlabeled=others)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_finetune_needs_two_people(tmp_path):
    chips = np.zeros((3, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="two"):
        finetune(_tiny(), SPEC, chips, np.array(["a"] * 3), TrainPlan(device="cpu"), tmp_path)


def test_head_centres_start_at_class_means():
    chips, names = _album(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16))
    centres = class_prototypes(model, chips, names, SPEC, "cpu")
    with torch.no_grad():
        x = Preprocess(SPEC)(torch.from_numpy(chips[names == "ann"]).permute(0, 3, 1, 2))
        first = nn.functional.normalize(nn.functional.normalize(model(x), dim=1).mean(0), dim=0)
    assert torch.allclose(centres[0], first, atol=1e-5)


@pytest.mark.slow
def test_only_the_last_stages_train():
    model = create_backbone("dlib_resnet", pretrained=False)
    freeze_early_stages(model, "dlib_resnet")
    trainable = {n.split(".")[0] + "." + n.split(".")[1] for n, p in model.named_parameters()
                 if p.requires_grad and n.startswith("blocks.")}  # fmt: skip
    assert trainable == {"blocks.10", "blocks.11", "blocks.12", "blocks.13"}
    assert model.fc.weight.requires_grad and not model.conv.weight.requires_grad


@pytest.mark.slow
def test_cancel_then_resume_continues_from_the_checkpoint(tmp_path):
    chips, labels = _chips()
    spec = load_default_spec()
    plan = TrainPlan(steps=4, head_steps=1, batch_size=8, m_per_class=4, device="cpu")
    cancel = threading.Event()
    seen = []

    def stop_after_two(progress):
        seen.append(progress.step)
        if progress.step == 2:
            cancel.set()

    first = create_backbone("dlib_resnet", pretrained=True)
    result = finetune(first, spec, chips, labels, plan, tmp_path, progress=stop_after_two,
                      cancel=cancel)  # fmt: skip
    assert result.stopped == "cancelled" and result.step == 2
    resumed = create_backbone("dlib_resnet", pretrained=True)
    result = finetune(resumed, spec, chips, labels, plan, tmp_path, progress=seen.append)
    assert result.stopped == "done" and result.step == 4
    assert [getattr(p, "step", p) for p in seen] == [1, 2, 3, 4]
    untouched = create_backbone("dlib_resnet", pretrained=True)
    assert not torch.equal(resumed.fc.weight, untouched.fc.weight)
    assert torch.equal(resumed.conv.weight, untouched.conv.weight)


@pytest.mark.slow
def test_a_changed_plan_starts_afresh(tmp_path):
    chips, labels = _chips(8)
    spec = load_default_spec()
    plan = TrainPlan(steps=1, head_steps=1, batch_size=8, m_per_class=4, device="cpu")
    finetune(create_backbone("dlib_resnet", pretrained=True), spec, chips, labels, plan, tmp_path)
    longer = TrainPlan(steps=2, head_steps=1, batch_size=8, m_per_class=4, device="cpu", seed=3)
    steps = []
    model = create_backbone("dlib_resnet", pretrained=True)
    finetune(model, spec, chips, labels, longer, tmp_path, progress=lambda p: steps.append(p.step))
    assert steps == [1, 2]
