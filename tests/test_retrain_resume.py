"""Retrain training mechanics: cancel stops with a checkpoint, a re-run resumes from it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from album.faces.embedder import load_default_spec
from album.retrain.train import TrainPlan, finetune, freeze_early_stages
from training.backbones import create_backbone

pytestmark = pytest.mark.slow


def _chips(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 150, 150, 3), dtype=np.uint8), np.arange(n) % 2


def test_only_the_last_stages_train():
    model = create_backbone("dlib_resnet", pretrained=False)
    freeze_early_stages(model, "dlib_resnet")
    trainable = {n.split(".")[0] + "." + n.split(".")[1] for n, p in model.named_parameters()
                 if p.requires_grad and n.startswith("blocks.")}  # fmt: skip
    assert trainable == {"blocks.10", "blocks.11", "blocks.12", "blocks.13"}
    assert model.fc.weight.requires_grad and not model.conv.weight.requires_grad


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
