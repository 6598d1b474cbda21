"""The model spec: everything that travels with an embedding model's weights.

A model on disk is two files: `<name>.safetensors` (weights) and `<name>.json` (this spec).
No other module hard-codes preprocessing: the embedder, the trainer and the exporter all read it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Cosine-similarity thresholds on L2-normalized (and centered, if `center` is set) embeddings.

    same_person: above this two faces are taken as the same person (clustering, search).
    suggestion: above this a face is offered as a suggestion to confirm.
    The false-match rates are what calibration measured for each, for showing to the user.
    """

    same_person: float = 0.5
    suggestion: float = 0.4
    same_person_fmr: float | None = None
    suggestion_fmr: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    backbone: str  # registry key, e.g. "dlib_resnet", "iresnet50"
    input_size: int  # square chip side in pixels
    alignment: str  # "dlib_chip" (150, padding 0.25) or "arcface_112"
    embedding_dim: int
    channel_order: str = "RGB"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # subtracted from 0..255 pixels
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)  # then divided by this
    center: tuple[float, ...] | None = None  # subtracted from the raw descriptor before L2
    thresholds: Thresholds = field(default_factory=Thresholds)
    weights_sha256: str | None = None
    parent: str | None = None
    version: int = 1
    training: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        data = dict(data)
        data["thresholds"] = Thresholds(**data.get("thresholds", {}))
        for key in ("mean", "std", "center"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> ModelSpec:
        return dataclasses.replace(self, **changes)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
