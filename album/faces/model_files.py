"""The default model files shipped by the PyPI package `face_recognition_models`.

The lookup itself lives in `training.dlib_format` (the training module reads the embedder's file
too); this module names the three files the app's pipeline uses.
"""

from __future__ import annotations

from pathlib import Path

from training.dlib_format import ModelFilesMissing, shipped_model_path

DETECTOR = "mmod_human_face_detector.dat"
LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
EMBEDDER = "dlib_face_recognition_resnet_model_v1.dat"

__all__ = [
    "DETECTOR",
    "EMBEDDER",
    "LANDMARKS_5",
    "ModelFilesMissing",
    "dlib_model_path",
    "models_dir",
]


def dlib_model_path(name: str) -> Path:
    return shipped_model_path(name)


def models_dir() -> Path:
    return shipped_model_path(EMBEDDER).parent
