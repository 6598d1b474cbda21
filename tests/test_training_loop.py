"""The loop: exact resume mid-epoch, best checkpoint, cancel, budget, two-phase fine-tuning."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from tests.training_support import tiny_spec
from training import checkpoint as ckpt
from training.config import TrainConfig
from training.data import SyntheticFaces
from training.heads import create_head
from training.loop import Callback, Progress, fit
from training.optim import apply_lr, build_optimizer, lr_factor

SPEC = tiny_spec(8)
DATA = SyntheticFaces(6, 10, size=8, noise=50.0, seed=1)  # 60 chips: 5 batches of 12 per epoch


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_model(seed: int = 0) -> nn.Module:
    """Conv + BatchNorm + Dropout: exercises running stats and the global RNG on resume."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.PReLU(4),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(4 * 8 * 8, 8),
        nn.BatchNorm1d(8),
    )


def tiny_head(seed: int = 0, name: str = "arcface") -> nn.Module:
    torch.manual_seed(seed + 100)
    return create_head(name, 8, 6)


class StopAt(Callback):
    def __init__(self, step: int):
        self.step = step

    def on_step(self, progress: Progress) -> bool:
        return progress.step == self.step


def _same(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize(
    "optimizer, m_per_class, head", [("sgd", 2, "arcface"), ("adamw", None, "sphereface")]
)
def test_resume_mid_epoch_matches_an_uninterrupted_run(tmp_path, optimizer, m_per_class, head):
    config = TrainConfig(
        steps=14,
        batch_size=12,
        optimizer=optimizer,
        lr=0.05,
        warmup_steps=3,
        m_per_class=m_per_class,
        freeze_backbone_steps=2,
    )
    straight_model, straight_head = tiny_model(), tiny_head(name=head)
    fit(
        config.replace(checkpoint_dir=str(tmp_path / "a")),
        straight_model,
        straight_head,
        DATA,
        SPEC,
    )

    first = config.replace(checkpoint_dir=str(tmp_path / "b"))
    stopped = fit(first, tiny_model(), tiny_head(name=head), DATA, SPEC, callbacks=[StopAt(7)])
    assert (stopped.stopped, stopped.step) == ("cancelled", 7)  # mid-epoch: 7 = 5 + 2
    resumed_model, resumed_head = tiny_model(seed=5), tiny_head(seed=5, name=head)  # other init
    result = fit(first, resumed_model, resumed_head, DATA, SPEC, resume=stopped.last_checkpoint)
    assert result.step == 14 and result.stopped == "done"
    assert _same(straight_model, resumed_model)
    assert _same(straight_head, resumed_head)


class Scripted:
    """validate(model) returning scripted values; remembers the weights it saw."""

    def __init__(self, values):
        self.values, self.seen = list(values), []

    def __call__(self, model: nn.Module) -> float:
        self.seen.append({k: v.clone() for k, v in model.state_dict().items()})
        return self.values.pop(0)


def test_best_checkpoint_is_kept_and_restored(tmp_path):
    validate = Scripted([0.2, 0.9, 0.5, 0.4])
    config = TrainConfig(steps=8, batch_size=12, validate_every=2, checkpoint_dir=str(tmp_path))
    model = tiny_model()
    result = fit(config, model, tiny_head(), DATA, SPEC, validate=validate, restore_best=True)
    assert result.validations == [(2, 0.2), (4, 0.9), (6, 0.5), (8, 0.4)]
    assert (result.best_value, result.best_step) == (0.9, 4)
    tensors, meta = ckpt.load_checkpoint(result.best_checkpoint)
    assert meta["step"] == 4 and meta["best_value"] == 0.9
    best_weights = validate.seen[1]
    assert all(
        torch.equal(ckpt.unprefixed("model", tensors)[k], v) for k, v in best_weights.items()
    )
    assert all(torch.equal(model.state_dict()[k], v) for k, v in best_weights.items())
    assert ckpt.load_checkpoint(result.last_checkpoint)[1]["step"] == 8


def test_cancel_event_stops_at_the_next_step_with_a_checkpoint(tmp_path):
    cancel = threading.Event()

    class SetAt(Callback):
        def on_step(self, progress: Progress) -> None:
            if progress.step == 3:
                cancel.set()

    config = TrainConfig(steps=50, batch_size=12, checkpoint_dir=str(tmp_path))
    result = fit(config, tiny_model(), tiny_head(), DATA, SPEC, callbacks=[SetAt()], cancel=cancel)
    assert (result.stopped, result.step) == ("cancelled", 3)
    assert ckpt.load_checkpoint(result.last_checkpoint)[1]["step"] == 3


def test_time_budget_stops_cleanly(tmp_path):
    config = TrainConfig(steps=50, batch_size=12, budget_minutes=0.0, checkpoint_dir=str(tmp_path))
    result = fit(config, tiny_model(), tiny_head(), DATA, SPEC)
    assert (result.stopped, result.step) == ("budget", 1)
    assert ckpt.load_checkpoint(result.last_checkpoint)[1]["step"] == 1


def test_progress_reports_every_step():
    seen: list[Progress] = []

    class Record(Callback):
        def on_step(self, progress: Progress) -> None:
            seen.append(progress)

    fit(
        TrainConfig(epochs=2, batch_size=12, freeze_backbone_steps=3),
        tiny_model(),
        tiny_head(),
        DATA,
        SPEC,
        callbacks=[Record()],
    )
    assert [p.step for p in seen] == list(range(1, 11))
    assert [p.epoch for p in seen] == [0, 0, 0, 0, 1, 1, 1, 1, 1, 2]
    assert [p.phase for p in seen[:4]] == ["head", "head", "head", "full"]
    assert all(p.total_steps == 10 and p.images_per_s > 0 and p.eta_s >= 0 for p in seen)
    assert all(0.0 <= p.accuracy <= 1.0 and p.loss > 0 for p in seen)
    assert seen[-1].eta_s == 0


def test_frozen_phase_trains_only_the_head_then_the_backbone_at_its_factor():
    model, head = tiny_model(), tiny_head()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    head_before = head.weight.detach().clone()
    config = TrainConfig(
        steps=3, batch_size=12, freeze_backbone_steps=3, backbone_lr_factor=0.1, schedule="constant"
    )
    fit(config, model, head, DATA, SPEC)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN stats too
    assert not torch.equal(head_before, head.weight)
    fit(config.replace(steps=4), model, head, DATA, SPEC)
    assert not torch.equal(before["0.weight"], model.state_dict()["0.weight"])
    optimizer = build_optimizer(model, head, config)
    apply_lr(optimizer, 3, 4, config)
    rates = {g["role"]: g["lr"] for g in optimizer.param_groups}
    assert rates == {"head": pytest.approx(0.1), "backbone": pytest.approx(0.01)}


def test_no_weight_decay_on_norm_layers_and_biases():
    model, head = tiny_model(), tiny_head()
    groups = build_optimizer(model, head, TrainConfig(weight_decay=1e-3)).param_groups
    decayed = {id(p) for g in groups if g["weight_decay"] > 0 for p in g["params"]}
    assert (
        id(model[0].weight) in decayed
        and id(model[5].weight) in decayed
        and id(head.weight) in decayed
    )
    for plain in (model[0].bias, model[1].weight, model[1].bias, model[2].weight, model[5].bias):
        assert id(plain) not in decayed


def test_lr_schedules():
    config = TrainConfig(warmup_steps=10, schedule="cosine", min_lr_ratio=0.1)
    assert lr_factor(0, 110, config) == pytest.approx(0.1)
    assert lr_factor(9, 110, config) == pytest.approx(1.0)
    assert lr_factor(10, 110, config) == pytest.approx(1.0)
    assert lr_factor(60, 110, config) == pytest.approx(0.55)
    assert lr_factor(110, 110, config) == pytest.approx(0.1)
    poly = config.replace(schedule="poly", poly_power=2.0, min_lr_ratio=0.0)
    assert lr_factor(60, 110, poly) == pytest.approx(0.25)


def test_checkpoints_are_safetensors_with_json_and_refuse_other_files(tmp_path):
    from safetensors.torch import save_file

    config = TrainConfig(steps=2, batch_size=12, checkpoint_dir=str(tmp_path))
    result = fit(config, tiny_model(), tiny_head(), DATA, SPEC)
    tensors, meta = ckpt.load_checkpoint(result.last_checkpoint)
    assert (
        meta["config"]["steps"] == 2 and meta["spec"]["name"] == "tiny" and meta["num_classes"] == 6
    )
    assert {"rng.torch", "rng.augment", "head.weight"} <= tensors.keys()
    assert any(k.startswith("optim.") for k in tensors)
    save_file({"x": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError):
        ckpt.load_checkpoint(tmp_path / "plain.safetensors")
