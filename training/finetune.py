"""The fine-tune recipe: an embedding model trained on a user's labeled chips with a margin head
(the app's retrain, `album.retrain`, runs it; so can a script).

Two phases through `training.loop.fit`: the head alone on the frozen backbone (its class centres
start at the people's mean embeddings, so this phase only polishes them), then a gentle unfreeze
of the last stages at a twentieth of the head's learning rate. The early stages (edges, textures)
stay as they are: a few hundred faces of a few dozen people cannot teach them anything a
3-million-face model did not know, and freezing them makes each step ~3x cheaper on a CPU.

The backbone is trained on the embeddings that are actually compared: its raw output minus the
spec's `center` (`Centered`), so the margins act on the space that is searched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from training import checkpoint as ckpt
from training.config import TrainConfig
from training.data import ChipDataset, Preprocess
from training.heads import create_head
from training.loop import Callback, FitResult, Progress, fit
from training.model import resolve_device
from training.spec import ModelSpec

HEADS = ("arcface", "cosface", "sphereface")
# dlib_resnet stages (by module name prefix) that a gentle unfreeze trains
TRAINABLE_PREFIXES = {
    "dlib_resnet": ("blocks.10.", "blocks.11.", "blocks.12.", "blocks.13.", "fc.")
}


@dataclass(frozen=True)
class TrainPlan:
    """How a retrain trains. `steps` counts both phases; `budget_minutes` is a hard stop."""

    head: str = "arcface"
    steps: int = 300
    head_steps: int = 60
    batch_size: int = 32
    m_per_class: int = 4
    lr: float = 0.05
    backbone_lr_factor: float = 0.05
    seed: int = 0
    device: str = "auto"
    budget_minutes: float | None = None
    keep_weight: float = 0.0  # weight of the keep term (`Keeping`); 0: margin loss alone
    keep_batch: int = 32  # unlabeled faces per step for the keep term


class Centered(nn.Module):
    """backbone(x) - center: the space the app's embeddings live in."""

    def __init__(self, backbone: nn.Module, center: tuple[float, ...] | None) -> None:
        super().__init__()
        self.backbone = backbone
        values = torch.tensor(center or (), dtype=torch.float32)
        self.register_buffer("center", values, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.backbone(x)
        return out - self.center if self.center.numel() else out


class Keeping(nn.Module):
    """A margin head plus a keep term ("learning without forgetting"): each training step also
    embeds `keep_batch` of the album's *unlabeled* faces with `model` (the backbone's raw
    output: the space the app searches, whatever center the margin head trains around) and
    pays `weight` x the mean cosine distance between their embeddings now and before training. The named people are pulled
    apart by the margin loss while everybody else stays where the shipped model put them, so
    the faces nobody named keep the geometry the model was calibrated on. The anchors' order
    follows a step counter kept in the checkpoint, so a resumed run draws the same faces."""

    def __init__(
        self,
        head: nn.Module,
        model: nn.Module,
        chips: np.ndarray,
        spec: ModelSpec,
        weight: float,
        batch: int,
        seed: int,
        device: str,
    ) -> None:
        super().__init__()
        self.head, self.weight, self.batch, self.seed = head, weight, batch, seed
        self._model = (model,)  # not a submodule: its weights are the backbone's
        self.preprocess = Preprocess(spec)
        self.chips = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2)
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))
        self.teacher = self._embed(model.to(device).eval(), self.chips, device).detach()

    def _embed(self, model: nn.Module, chips: torch.Tensor, device: str) -> torch.Tensor:
        with torch.no_grad():
            out = [
                F.normalize(model(self.preprocess(chips[i : i + 64].to(device))).float(), dim=1)
                for i in range(0, len(chips), 64)
            ]
        return torch.cat(out)

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor):
        loss, logits = self.head.loss(embeddings, labels)
        model = self._model[0]
        if self.weight > 0 and model.training and torch.is_grad_enabled():
            generator = torch.Generator().manual_seed(self.seed * 100_003 + int(self.calls))
            rows = torch.randint(len(self.chips), (self.batch,), generator=generator)
            pixels = self.chips[rows].to(embeddings.device)
            student = F.normalize(model(self.preprocess(pixels)).float(), dim=1)
            teacher = self.teacher[rows].to(embeddings.device)
            loss = loss + self.weight * (1.0 - (student * teacher).sum(dim=1)).mean()
            self.calls += 1
        return loss, logits


class _Relay(Callback):
    def __init__(self, progress: Callable[[Progress], None] | None) -> None:
        self.progress = progress

    def on_step(self, progress: Progress) -> None:
        if self.progress is not None:
            self.progress(progress)


def freeze_early_stages(backbone: nn.Module, backbone_name: str) -> None:
    """Keep only the last stages trainable (all of it for a backbone without a rule)."""
    prefixes = TRAINABLE_PREFIXES.get(backbone_name)
    if prefixes is None:
        return
    for name, param in backbone.named_parameters():
        param.requires_grad_(name.startswith(prefixes))


def class_prototypes(
    model: nn.Module, chips: np.ndarray, labels: np.ndarray, spec: ModelSpec, device: str
) -> torch.Tensor:
    """Unit mean embedding of each class (classes in `ChipDataset`'s order: sorted labels)."""
    preprocess, outputs = Preprocess(spec), []
    model = model.to(device).eval()
    with torch.no_grad():
        for start in range(0, len(chips), 64):
            batch = torch.from_numpy(chips[start : start + 64]).permute(0, 3, 1, 2).to(device)
            outputs.append(F.normalize(model(preprocess(batch)).float(), dim=1).cpu())
    features = torch.cat(outputs)
    _, inverse = np.unique(labels, return_inverse=True)
    index = torch.from_numpy(inverse.astype(np.int64))
    sums = torch.zeros(int(index.max()) + 1, features.shape[1]).index_add_(0, index, features)
    return F.normalize(sums, dim=1)


def finetune(
    backbone: nn.Module,
    spec: ModelSpec,
    chips: np.ndarray,
    labels: np.ndarray,
    plan: TrainPlan,
    checkpoint_dir: Path,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    unlabeled: np.ndarray | None = None,
) -> FitResult:
    """Train `backbone` in place; resumes from `checkpoint_dir` when a checkpoint of this same
    plan is there (the caller clears the folder when the data changed). Needs two people.
    With `unlabeled` chips (faces nobody named) and `plan.keep_weight`, the keep term holds
    their embeddings where they were (`Keeping`)."""
    device = str(resolve_device(plan.device))
    dataset = ChipDataset(chips, labels)
    if dataset.num_classes < 2:
        raise ValueError("fine-tuning needs at least two labeled people")
    model = Centered(backbone, spec.center)
    freeze_early_stages(backbone, spec.backbone)
    head = create_head(plan.head, spec.embedding_dim, dataset.num_classes)
    with torch.no_grad():
        head.weight.copy_(class_prototypes(model, chips, labels, spec, device))
    if unlabeled is not None and len(unlabeled) and plan.keep_weight > 0:
        head = Keeping(
            head, backbone, unlabeled, spec, plan.keep_weight, plan.keep_batch, plan.seed, device
        )
    config = _config(plan, spec, device, checkpoint_dir)
    last = ckpt.checkpoint_path(checkpoint_dir, "last")
    resume = str(last) if last.is_file() and _same_plan(last, config) else None
    return fit(
        config, model, head, dataset, spec, callbacks=[_Relay(progress)], cancel=cancel,
        resume=resume,
    )  # fmt: skip


def _config(plan: TrainPlan, spec: ModelSpec, device: str, checkpoint_dir: Path) -> TrainConfig:
    return TrainConfig(
        backbone=spec.backbone,
        embedding_dim=spec.embedding_dim,
        head=plan.head,
        data="album",
        steps=plan.steps,
        batch_size=plan.batch_size,
        m_per_class=plan.m_per_class,
        lr=plan.lr,
        warmup_steps=min(10, plan.head_steps),
        freeze_backbone_steps=plan.head_steps,
        backbone_lr_factor=plan.backbone_lr_factor,
        seed=plan.seed,
        device=device,
        checkpoint_dir=str(checkpoint_dir),
        checkpoint_every=25,
        budget_minutes=plan.budget_minutes,
    )


def _same_plan(path: Path, config: TrainConfig) -> bool:
    """A checkpoint resumes only the run it was written by (budget aside)."""
    _, meta = ckpt.load_checkpoint(path)
    saved = {k: v for k, v in meta["config"].items() if k != "budget_minutes"}
    wanted = {k: v for k, v in config.to_dict().items() if k != "budget_minutes"}
    return saved == wanted
