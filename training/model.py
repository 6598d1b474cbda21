"""One model API: where a model runs, what its input looks like, and how its weights load.

Everything that runs an embedding model (the app's embedder and its insightface packs, the
trainer, the ONNX export) goes through these three, so preprocessing is written once, read from
the spec (as timm's pretrained config), and weights are never parsed before their sha256 is
checked (safetensors: nothing is unpickled).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from training.backbones import create_backbone
from training.spec import ModelSpec, sha256_file


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' is the first CUDA device if there is one, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def preprocess(pixels: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    """RGB pixels 0..255 (N, 3, S, S), uint8 or float -> the model's input per `spec`: its
    channel order, then (pixel - mean) / std."""
    x = pixels.float()
    if spec.channel_order.upper() == "BGR":
        x = x.flip(1)
    mean = torch.tensor(spec.mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


class WeightsRefused(ValueError):
    """Weights that are missing, changed, or do not fit their spec; never loaded."""


def load_weights(weights_path: str | Path, spec: ModelSpec, sha256: str | None) -> nn.Module:
    """The spec's backbone with the weights at `weights_path`, in eval mode. With `sha256` (the
    caller's record: a library's, or the spec's own), the file must match it before a byte of
    it is parsed."""
    if sha256 is not None:
        try:
            actual = sha256_file(weights_path)
        except OSError as error:
            raise WeightsRefused(
                f"cannot read the model weights {weights_path}: {error}"
            ) from error
        if actual != sha256:
            raise WeightsRefused(
                f"the model weights {weights_path} were changed or replaced (sha256 "
                f"{actual[:12]}..., expected {sha256[:12]}...); refusing to load them"
            )
    model = create_backbone(spec.backbone, pretrained=False, embedding_dim=spec.embedding_dim)
    try:
        model.load_state_dict(load_file(str(weights_path)))
    except (RuntimeError, ValueError, OSError) as error:
        raise WeightsRefused(
            f"the model weights {weights_path} do not fit {spec.backbone}"
        ) from error
    return model.eval()
