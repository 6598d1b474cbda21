"""Model files: `<name>.safetensors` (backbone weights) + `<name>.json` (its ModelSpec).

The spec carries everything needed to use the weights (registry key, input size, channel order,
mean/std, alignment, embedding size, thresholds, training summary, parent model), so loading is
`create_backbone(spec.backbone)` + `load_state_dict` with no pickle anywhere. The optional ONNX
file embeds the normalization: it takes float RGB pixels 0..255, (N, 3, S, S).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from training import checkpoint as ckpt
from training.backbones import create_backbone
from training.model import load_weights, preprocess
from training.spec import ModelSpec, sha256_file


def save_model(
    model: nn.Module, spec: ModelSpec, out_dir: str | Path, onnx: bool = False
) -> tuple[Path, Path]:
    """Write `<spec.name>.safetensors` and `<spec.name>.json` (with the weights' sha256)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{spec.name}.safetensors"
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(weights), metadata={"format": "pt"})
    spec_path = out_dir / f"{spec.name}.json"
    spec_path.write_text(spec.replace(weights_sha256=sha256_file(weights)).to_json())
    if onnx:
        export_onnx(model, spec, out_dir / f"{spec.name}.onnx")
    return weights, spec_path


def load_model(
    weights: str | Path, spec: str | Path | ModelSpec | None = None, verify: bool = True
) -> tuple[nn.Module, ModelSpec]:
    """Build the spec's backbone from the registry and load the weights (eval mode).

    `spec` defaults to the `.json` beside the weights. With `verify`, a spec that records a
    sha256 must match the file, so a model and a stale spec are never paired silently.
    """
    weights = Path(weights)
    if not isinstance(spec, ModelSpec):
        spec = ModelSpec.from_json(Path(spec or weights.with_suffix(".json")).read_text())
    return load_weights(weights, spec, spec.weights_sha256 if verify else None), spec


def model_from_checkpoint(path: str | Path) -> tuple[nn.Module, ModelSpec, dict[str, Any]]:
    """The backbone and spec saved in a training checkpoint, plus the checkpoint's metadata."""
    tensors, meta = ckpt.load_checkpoint(path)
    spec = ModelSpec.from_dict(meta["spec"])
    model = create_backbone(spec.backbone, embedding_dim=spec.embedding_dim, pretrained=False)
    model.load_state_dict(ckpt.unprefixed("model", tensors))
    return model.eval(), spec, meta


def training_summary(meta: dict[str, Any]) -> dict[str, Any]:
    """What a model's spec records about how it was trained (from checkpoint metadata)."""
    config = meta["config"]
    keys = ("head", "s", "m", "data", "batch_size", "lr", "optimizer", "schedule", "seed")
    summary = {k: config[k] for k in keys}
    summary.update(
        steps=meta["step"],
        epochs=meta["epoch"],
        num_classes=meta["num_classes"],
        objective=meta.get("objective"),
        best_value=meta["best_value"],
        best_step=meta["best_step"],
    )
    return summary


def export_checkpoint(
    path: str | Path, out_dir: str | Path, name: str | None = None, onnx: bool = False
) -> tuple[Path, Path]:
    """Checkpoint -> model files, with the training summary and parent recorded in the spec."""
    model, spec, meta = model_from_checkpoint(path)
    fine_tuned = bool(meta["config"].get("init"))
    parent = spec.name if fine_tuned else spec.parent
    spec = spec.replace(
        name=name or (f"{spec.name}-finetuned" if fine_tuned else spec.name),
        parent=parent,
        training=training_summary(meta),
    )
    return save_model(model, spec, out_dir, onnx=onnx)


class _WithPreprocessing(nn.Module):
    def __init__(self, model: nn.Module, spec: ModelSpec):
        super().__init__()
        self.model, self.spec = model, spec

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(preprocess(pixels, self.spec))


def export_onnx(model: nn.Module, spec: ModelSpec, path: str | Path) -> Path:
    """ONNX graph: float RGB 0..255 (N, 3, S, S) -> raw embeddings (N, D); batch is dynamic."""
    wrapped = _WithPreprocessing(copy.deepcopy(model).to("cpu"), spec).eval()
    example = torch.zeros(2, 3, spec.input_size, spec.input_size)
    # The TorchScript exporter: the torch.export one needs onnxscript, not among our
    # dependencies. It warns that it is deprecated; the test checks its output numerically.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # The spec's mean and std become constants of the graph, as they should.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            wrapped,
            (example,),
            str(path),
            input_names=["pixels"],
            output_names=["embedding"],
            dynamic_axes={"pixels": {0: "batch"}, "embedding": {0: "batch"}},
            dynamo=False,
            opset_version=17,
        )
    return Path(path)
