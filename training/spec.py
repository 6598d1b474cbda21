"""The model spec: everything that travels with an embedding model's weights.

A model on disk is two files: `<name>.safetensors` (weights) and `<name>.json` (this spec).
No other module hard-codes preprocessing: the embedder, the trainer and the exporter all read it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Cosine-similarity thresholds on L2-normalized (and centered, if `center` is set) embeddings.

    same_person: above this two faces are taken as the same person (search: "maybe" photos).
    suggestion: above this a face or group is offered as a suggestion to confirm.
    The false-match rates are what calibration measured for each, for showing to the user.
    fmr_curve: the calibration itself, (threshold, false-match rate, different-person pairs
    behind it) by rising threshold, so a caller can pick the threshold for the rate it needs
    (grouping N faces needs a rate below 1/N) and say what any threshold means.
    """

    same_person: float = 0.5
    suggestion: float = 0.4
    same_person_fmr: float | None = None
    suggestion_fmr: float | None = None
    fmr_curve: tuple[tuple[float, float, int], ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        """From JSON (the curve's points come back as lists); unknown keys are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["fmr_curve"] = tuple(tuple(p) for p in values.get("fmr_curve") or ())
        return cls(**values)

    def threshold_at(self, fmr: float) -> float | None:
        """The threshold whose false-match rate is `fmr` (log-linear between calibrated points,
        clamped to the calibrated range); None without a calibration curve."""
        if not self.fmr_curve:
            return None
        thresholds = [t for t, _, _ in self.fmr_curve]
        logs = [-math.log10(max(f, 1e-12)) for _, f, _ in self.fmr_curve]
        return _interp(-math.log10(max(fmr, 1e-12)), logs, thresholds)

    def fmr_at(self, threshold: float) -> float | None:
        """The false-match rate of `threshold` by the calibration curve (None without one)."""
        if not self.fmr_curve:
            return None
        thresholds = [t for t, _, _ in self.fmr_curve]
        logs = [-math.log10(max(f, 1e-12)) for _, f, _ in self.fmr_curve]
        return 10 ** -_interp(threshold, thresholds, logs)


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    """Piecewise-linear y(x) through points sorted by x, clamped at both ends."""
    if x <= xs[0]:
        return ys[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1]


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
    flip: bool = False  # embedding = mean of the chip's and its mirror image's raw outputs
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
        data["thresholds"] = Thresholds.from_dict(data.get("thresholds") or {})
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
