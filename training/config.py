"""Training configuration: one flat dataclass, saved in every checkpoint so a run can resume.

The model and objective fields (backbone, head, s, m, ...) are not used by `fit` itself; they
travel with the checkpoint so that `--resume` and `export` can rebuild what was trained.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from torch import nn

from training.backbones import create_backbone
from training.heads import create_head
from training.metric_losses import METRIC_LOSS_NAMES, create_metric_loss
from training.spec import ModelSpec


@dataclass
class TrainConfig:
    # what is trained (recorded; the caller builds the modules)
    backbone: str = "mbf"
    embedding_dim: int = 512
    head: str = "arcface"
    s: float | None = None  # None: heads.auto_scale(num_classes)
    m: float | list[float] | None = None  # None: the head's published default
    sub_centers: int = 1
    data: str = "synthetic"
    init: str | None = None  # model file (safetensors, with its .json spec) to start from
    # how long
    steps: int | None = None  # total optimizer steps; wins over epochs
    epochs: float = 1.0
    batch_size: int = 128
    m_per_class: int | None = None  # class-balanced batches of m samples per class
    # optimizer and schedule
    optimizer: str = "sgd"  # "sgd" (momentum 0.9) or "adamw"
    lr: float = 0.1
    weight_decay: float = 5e-4  # never applied to norm layers and biases
    schedule: str = "cosine"  # "cosine", "poly" or "constant", after linear warmup
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    poly_power: float = 2.0
    clip_grad: float | None = 5.0
    freeze_backbone_steps: int = 0  # phase 1: train the head only on a frozen backbone
    backbone_lr_factor: float = 1.0  # backbone lr = lr * this (use < 1 when fine-tuning)
    augment: bool = True  # horizontal flip + small brightness/contrast jitter
    # runtime
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    amp: str = (
        "auto"  # "auto" (bf16 if supported, else fp16 on CUDA; off on CPU), "bf16", "fp16", "off"
    )
    num_workers: int = 0
    checkpoint_dir: str | None = None
    checkpoint_every: int | None = None  # steps; a checkpoint is always written at the end
    validate_every: int | None = None  # steps; validation also runs at the end
    budget_minutes: float | None = None  # stop cleanly (with a checkpoint) after this long

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


# Preprocessing each backbone family was designed for; a new model's spec starts from here and
# every other module reads it from the spec. dlib values: notes/dlib-models.md.
_ARCFACE = {
    "input_size": 112,
    "alignment": "arcface_112",
    "mean": (127.5,) * 3,
    "std": (127.5,) * 3,
}
_DLIB = {
    "input_size": 150,
    "alignment": "dlib_chip",
    "mean": (122.782, 117.001, 104.298),
    "std": (256.0,) * 3,
}


def default_spec(backbone: str, embedding_dim: int, name: str | None = None) -> ModelSpec:
    """The spec of a freshly initialised `backbone`: input size, alignment and normalization."""
    preprocessing = _DLIB if backbone == "dlib_resnet" else _ARCFACE
    return ModelSpec(
        name=name or backbone, backbone=backbone, embedding_dim=embedding_dim, **preprocessing
    )


def build_model(config: TrainConfig) -> tuple[nn.Module, ModelSpec]:
    """The backbone to train and its spec: `config.init`'s model file, else a fresh backbone."""
    if config.init:
        from training.export import load_model

        return load_model(config.init)
    model = create_backbone(config.backbone, embedding_dim=config.embedding_dim, pretrained=False)
    return model, default_spec(config.backbone, config.embedding_dim)


def build_objective(config: TrainConfig, embedding_dim: int, num_classes: int) -> nn.Module:
    """A margin head or a metric loss, by `config.head`."""
    if config.head in METRIC_LOSS_NAMES:
        margin = config.m if not isinstance(config.m, list) else config.m[0]
        return create_metric_loss(config.head, embedding_dim, num_classes, margin, config.s)
    margin = tuple(config.m) if isinstance(config.m, list) and len(config.m) > 1 else config.m
    if isinstance(margin, list):
        margin = margin[0]
    return create_head(
        config.head, embedding_dim, num_classes, config.s, margin, config.sub_centers
    )
