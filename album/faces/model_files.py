"""Locate the default model files shipped by the PyPI package `face_recognition_models`.

We never import that package: its `__init__` needs `pkg_resources`, which fresh venvs lack.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

DETECTOR = "mmod_human_face_detector.dat"
LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
EMBEDDER = "dlib_face_recognition_resnet_model_v1.dat"


class ModelFilesMissing(FileNotFoundError):
    pass


@cache
def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesMissing(
            "The default face models are missing: install them with "
            "`pip install face_recognition_models`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def dlib_model_path(name: str) -> Path:
    path = models_dir() / name
    if not path.is_file():
        raise ModelFilesMissing(f"default model file not found: {path}")
    return path
