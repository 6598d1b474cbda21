"""Building the face pipeline a library uses: the default offline models, or the library's
active (e.g. retrained) embedding model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from album import settings as library_settings
from album.faces.pipeline import FacePipeline
from album.settings import DEFAULT_MIN_FACE_SIZE

__all__ = ["DEFAULT_MIN_FACE_SIZE", "load_library_embedder", "load_pipeline"]


def load_pipeline(
    lib=None, *, min_face_size: int | None = None, device: str | None = None, embed: bool = True
) -> FacePipeline:
    """The pipeline for `lib` (its settings and active model), or the defaults when `lib` is None;
    `min_face_size` and `device` override the library's settings."""
    from album.faces.align import DlibChipAligner
    from album.faces.detector import MMODDetector
    from album.faces.landmarks import ShapePredictor5

    settings = library_settings.read(lib) if lib is not None else library_settings.DEFAULTS
    min_face = min_face_size or settings.min_face_size
    if settings.insightface_pack:
        return _pack_pipeline(settings.insightface_pack, settings.insightface_root, min_face, embed)
    device = device or settings.device
    cache_dir = _cache_dir(lib)
    embedder = load_library_embedder(lib, device=device) if embed else None
    return FacePipeline(
        detector=MMODDetector(
            min_face_size=min_face, device=device, precision=settings.detector_precision
        ),
        landmarks=InclusiveRectLandmarks(ShapePredictor5(cache_dir=cache_dir)),
        aligner=DlibChipAligner(),
        embedder=embedder,
        alignment="dlib_chip",
    )


def _pack_pipeline(name: str, root: str | None, min_face_size: int, embed: bool) -> FacePipeline:
    """An insightface ONNX pack the user has locally (SCRFD + ArcFace); never downloaded."""
    from album.faces.insightface_pack import load_pack

    pack = load_pack(name, root, min_face_size=min_face_size)
    return FacePipeline(
        detector=pack.detector,
        landmarks=None,
        aligner=pack.aligner,
        embedder=pack.embedder if embed else None,
        alignment="arcface_112",
    )


def load_library_embedder(lib=None, *, device: str = "auto"):
    """The embedder of `lib`'s active model (the built-in default when it has none). A retrained
    model's weights are checked against the sha256 the library recorded, and run under the
    library's copy of its spec (a file beside the weights is never trusted).

    A library still on an older built-in geometry (e.g. dlib_resnet_v1's centring) keeps
    embedding under that model's own stored spec until it is upgraded
    (`album.retrain.adopt.upgrade_default_model`), so its vectors never mix two geometries.
    """
    from album.faces.embedder import (
        TorchEmbedder,
        WeightsRefused,
        load_default_embedder,
        load_default_spec,
        load_trusted_embedder,
    )
    from training.backbones import create_backbone
    from training.spec import ModelSpec

    if lib is not None:
        active = lib.active_model()
        if active is not None and active["weights_path"]:
            spec = ModelSpec.from_dict(active["spec"])
            weights = lib.weights_file(active["weights_path"])
            try:
                sha = active["weights_sha256"] or spec.weights_sha256 or ""
                return load_trusted_embedder(weights, spec, sha, device=device)
            except WeightsRefused as error:
                back = lib.builtin_model_id()
                hint = f"; go back with `face-album use-model {back}`" if back else ""
                raise WeightsRefused(f"model {active['id']}: {error}{hint}") from error
        stored = (active or {}).get("spec") or {}
        if stored.get("backbone") and stored.get("name") != load_default_spec().name:
            spec = ModelSpec.from_dict(stored)
            return TorchEmbedder(spec, create_backbone(spec.backbone, pretrained=True), device)
    return load_default_embedder(device=device)


class InclusiveRectLandmarks:
    """Feeds dlib's shape predictor the integer, inclusive rectangles it was trained on.

    Detections are (left, top, right, bottom) with right/bottom exclusive (see
    `album.faces.detector`); dlib's rectangle for that box is (l, t, r - 1, b - 1).
    """

    def __init__(self, predictor) -> None:
        self.predictor = predictor

    def predict(self, image, boxes):
        rects = np.round(np.asarray(boxes, np.float64).reshape(-1, 4))
        rects[:, 2:] -= 1
        return self.predictor.predict(image, rects)


def _cache_dir(lib) -> Path | None:
    if lib is None:
        return None
    return lib.data_dir / "cache"
