"""Shared by the detector tests: the mmod model file, insightface's t1.jpg sample and a crop of
it (fixtures, registered in conftest.py), and box comparisons."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from album.faces.model_files import DETECTOR, ModelFilesMissing, dlib_model_path
from album.faces.types import Detection


def _samples_dir() -> Path | None:
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "images"
    return folder if (folder / "t1.jpg").is_file() else None


SAMPLES = _samples_dir()


@pytest.fixture(scope="module")
def model_path() -> Path:
    try:
        return dlib_model_path(DETECTOR)
    except ModelFilesMissing:
        pytest.skip("face_recognition_models is not installed")


@pytest.fixture(scope="module")
def t1() -> np.ndarray:
    if SAMPLES is None:
        pytest.skip("insightface sample images are not installed")
    return np.asarray(Image.open(SAMPLES / "t1.jpg").convert("RGB"))


@pytest.fixture(scope="module")
def crop(t1: np.ndarray) -> np.ndarray:
    """Three faces of t1 (about 100-140 px) in a 400 x 620 image."""
    return np.ascontiguousarray(t1[120:520, 0:620])


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def assert_same_faces(got: list[Detection], want: list[Detection], min_iou: float) -> None:
    assert len(got) == len(want), (got, want)
    for w in want:
        assert max(iou(g.box, w.box) for g in got) >= min_iou, (w, got)
