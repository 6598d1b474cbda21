"""One call for the app: fine-tune an embedding model on the faces a user has labeled.

    model, summary = finetune(model, spec, chips, labels, budget_minutes=5, callbacks=[bar])
    save_model(model, summary.spec, models_dir)

The recipe suits a few to a few hundred identities with a handful to hundreds of chips each:
class-balanced batches (4 chips per identity), a margin head whose centres start at each
person's mean embedding, trained alone on the frozen backbone first (so that it cannot wreck
the pretrained features while it settles), then everything at a tenth of the head's learning
rate, with flips and colour jitter, cosine decay, and a time budget that stops cleanly. With `validate`, the best-scoring weights are the ones returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training.config import TrainConfig, build_objective
from training.data import ChipDataset, Preprocess
from training.heads import MarginHead
from training.loop import Callback, FitResult, fit
from training.model import resolve_device
from training.spec import ModelSpec


@dataclass
class FinetuneSummary:
    stopped: str  # "done", "cancelled" or "budget"
    steps: int
    seconds: float
    loss: float
    accuracy: float | None  # training-batch accuracy over the last steps
    images_per_s: float
    num_classes: int
    classes: list[Any]  # label of each class index, as given
    best_value: float | None
    spec: ModelSpec  # the fine-tuned model's spec (parent = the input spec); save with save_model
    config: dict[str, Any] = field(default_factory=dict)


def default_steps(num_chips: int, batch_size: int) -> int:
    """About 20 passes over the chips, at least 100 and at most 2000 steps."""
    return int(np.clip(20 * max(num_chips // batch_size, 1), 100, 2000))


def finetune(
    model: nn.Module,
    spec: ModelSpec,
    chips: np.ndarray,
    labels: np.ndarray,
    head: str = "arcface",
    *,
    steps: int | None = None,
    budget_minutes: float | None = None,
    device: str = "auto",
    callbacks: Sequence[Callback] = (),
    cancel: threading.Event | None = None,
    checkpoint_dir: str | None = None,
    validate: Callable[[nn.Module], float] | None = None,
    seed: int = 0,
    **config_overrides: Any,
) -> tuple[nn.Module, FinetuneSummary]:
    """Fine-tune `model` (in place) on `chips` (N, S, S, 3) uint8 RGB aligned per `spec`, with
    `labels` one per chip (any hashable: person ids or names).

    `config_overrides` are `TrainConfig` fields (lr, batch_size, freeze_backbone_steps, ...).
    Returns the model in eval mode (the best validated weights when `validate` is given) and a
    summary whose `spec` records the parent model and how it was trained; its thresholds are
    the parent's until the caller recalibrates them.
    """
    dataset = ChipDataset(chips, labels)
    if dataset.num_classes < 2:
        raise ValueError("fine-tuning needs at least two labeled people")
    runtime = {"seed": seed, "device": device, "checkpoint_dir": checkpoint_dir, "budget_minutes": budget_minutes}  # fmt: skip
    config = finetune_config(spec, head, len(dataset), steps, **runtime, **config_overrides)
    objective = build_objective(config, spec.embedding_dim, dataset.num_classes)
    if isinstance(objective, MarginHead) and objective.sub_centers == 1:
        init_centres(objective, model, dataset, spec, resolve_device(device))
    result = fit(config, model, objective, dataset, spec, callbacks=callbacks, validate=validate, cancel=cancel, restore_best=True)  # fmt: skip
    return model.eval(), _summary(result, dataset, spec, config)


def finetune_config(
    spec: ModelSpec, head: str, num_chips: int, steps: int | None, **overrides: Any
) -> TrainConfig:
    """The recipe as a TrainConfig; `overrides` are TrainConfig fields."""
    batch_size = int(overrides.pop("batch_size", min(64, num_chips)))
    total = steps or default_steps(num_chips, batch_size)
    recipe = TrainConfig(
        backbone=spec.backbone,
        embedding_dim=spec.embedding_dim,
        head=head,
        data="chips",
        init=spec.name,
        steps=total,
        batch_size=batch_size,
        m_per_class=4,
        lr=0.05,
        warmup_steps=max(total // 20, 1),
        freeze_backbone_steps=total // 5,
        backbone_lr_factor=0.1,
    )
    return recipe.replace(**overrides)


def _summary(
    result: FitResult, dataset: ChipDataset, spec: ModelSpec, config: TrainConfig
) -> FinetuneSummary:
    return FinetuneSummary(
        stopped=result.stopped,
        steps=result.step,
        seconds=result.seconds,
        loss=result.loss,
        accuracy=result.accuracy,
        images_per_s=result.images_per_s,
        num_classes=dataset.num_classes,
        classes=list(dataset.classes),
        best_value=result.best_value,
        spec=_child_spec(spec, config, result.step, dataset.num_classes, result.best_value),
        config=config.to_dict(),
    )


def init_centres(
    head: MarginHead, model: nn.Module, dataset: ChipDataset, spec: ModelSpec, device: torch.device
) -> None:
    """Start each class centre at the class's mean embedding under the pretrained model.

    A random head on a good backbone sends large, arbitrary gradients into it for the first
    steps; centres that already sit on the classes make the head-only phase a polish and the
    unfrozen phase start from a sensible loss.
    """
    preprocess, features = Preprocess(spec), []
    model = model.to(device).eval()
    with torch.no_grad():
        for start in range(0, len(dataset), 64):
            chips = dataset.chips[start : start + 64].to(device)
            features.append(F.normalize(model(preprocess(chips)).float(), dim=1).cpu())
    index = torch.from_numpy(dataset.labels)
    sums = torch.zeros(dataset.num_classes, spec.embedding_dim).index_add_(
        0, index, torch.cat(features)
    )
    with torch.no_grad():
        head.weight.copy_(F.normalize(sums, dim=1))


def _child_spec(
    spec: ModelSpec, config: TrainConfig, steps: int, classes: int, best: float | None
) -> ModelSpec:
    training = {
        "head": config.head,
        "steps": steps,
        "num_classes": classes,
        "lr": config.lr,
        "best_value": best,
        "seed": config.seed,
    }
    return spec.replace(
        name=f"{spec.name}-ft",
        parent=spec.name,
        weights_sha256=None,
        training=training,
        version=spec.version + 1,
    )
