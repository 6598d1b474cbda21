"""Optimizer and learning-rate schedule for `fit`.

Weight decay applies to conv/linear weights and class centres only: decaying norm-layer scales,
PReLU slopes and biases only fights the normalization (the usual practice since Goyal et al.
2017). Each param group records its role ("backbone" or "head") so that the backbone can train at
`backbone_lr_factor` of the head's rate when fine-tuning. The schedule is a pure function of the
step: nothing to checkpoint, and a resumed run gets the same rates.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from training.config import TrainConfig


def _groups(module: nn.Module, role: str, weight_decay: float) -> list[dict]:
    decay, plain = [], []
    for param in module.parameters():
        if param.requires_grad:
            (decay if param.ndim > 1 else plain).append(param)
    groups = [
        {"params": decay, "weight_decay": weight_decay, "role": role},
        {"params": plain, "weight_decay": 0.0, "role": role},
    ]
    return [g for g in groups if g["params"]]


def build_optimizer(
    model: nn.Module, head: nn.Module, config: TrainConfig
) -> torch.optim.Optimizer:
    groups = _groups(model, "backbone", config.weight_decay) + _groups(
        head, "head", config.weight_decay
    )
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=0.9)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; use 'sgd' or 'adamw'")


def total_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    if config.steps is not None:
        return config.steps
    return max(1, round(config.epochs * steps_per_epoch))


def lr_factor(step: int, total: int, config: TrainConfig) -> float:
    """Linear warmup to 1, then cosine or polynomial decay to `min_lr_ratio` (or constant)."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min((step - config.warmup_steps) / max(total - config.warmup_steps, 1), 1.0)
    floor = config.min_lr_ratio
    if config.schedule == "cosine":
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "poly":
        return floor + (1 - floor) * (1 - progress) ** config.poly_power
    if config.schedule == "constant":
        return 1.0
    raise ValueError(f"unknown schedule {config.schedule!r}; use 'cosine', 'poly' or 'constant'")


def apply_lr(optimizer: torch.optim.Optimizer, step: int, total: int, config: TrainConfig) -> None:
    base = config.lr * lr_factor(step, total, config)
    for group in optimizer.param_groups:
        group["lr"] = base * (config.backbone_lr_factor if group["role"] == "backbone" else 1.0)
