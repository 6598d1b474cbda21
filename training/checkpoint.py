"""Training checkpoints: one safetensors file holding every tensor, with the rest as JSON.

A checkpoint stores the model, head, optimizer (state tensors + JSON param groups), grad scaler,
RNG states, step and sampler position, config and spec. The JSON lives in the safetensors
header's metadata, so one `os.replace` makes the whole checkpoint appear atomically: a kill
mid-save leaves the previous checkpoint intact. Loading never unpickles anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

FORMAT = "face-album-checkpoint/1"
SUFFIX = ".ckpt.safetensors"


def checkpoint_path(directory: str | Path, name: str) -> Path:
    """`<directory>/<name>.ckpt.safetensors`, e.g. name 'last' or 'best'."""
    return Path(directory) / f"{name}{SUFFIX}"


def save_checkpoint(
    path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    temporary = path.with_name(path.name + ".tmp")
    save_file(plain, str(temporary), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    os.replace(temporary, path)
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata() or {}
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not a training checkpoint ({header.get('format')!r})")
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    return tensors, json.loads(header["meta"])


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in state.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def optimizer_state(
    optimizer: torch.optim.Optimizer,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state_dict into tensors and JSON (param groups, scalar state)."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def restore_optimizer(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in unprefixed("optim", tensors).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for name, value in meta["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def rng_state(augment: torch.Generator) -> dict[str, torch.Tensor]:
    """Global torch RNG (dropout), the augmentation generator, and every CUDA device's RNG."""
    tensors = {"rng.torch": torch.get_rng_state(), "rng.augment": augment.get_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    return tensors


def restore_rng(tensors: dict[str, torch.Tensor], augment: torch.Generator) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    augment.set_state(tensors["rng.augment"])
    cuda = sorted(
        (int(k.rsplit(".", 1)[1]), v) for k, v in tensors.items() if k.startswith("rng.cuda.")
    )
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([state for _, state in cuda])
