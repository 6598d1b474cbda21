"""The face pipeline's data and the interfaces each stage implements.

Images are RGB uint8 numpy arrays of shape (H, W, 3), already EXIF-rotated. Coordinates are
float pixels in that image, x to the right and y down. Boxes are (left, top, right, bottom).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from training.spec import ModelSpec


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # left, top, right, bottom
    score: float


@dataclass(frozen=True)
class FaceRecord:
    """One face found in an image, with everything the library stores about it."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray  # (5, 2) float32: dlib's 5-point order, or ArcFace's for packs
    chip: np.ndarray  # (S, S, 3) uint8, aligned for the embedder
    embedding: np.ndarray | None  # (D,) float32, L2-normalized


class Detector(Protocol):
    min_face_size: int

    def detect(self, image: np.ndarray) -> list[Detection]: ...

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]: ...


class LandmarkPredictor(Protocol):
    def predict(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """boxes (N, 4) -> landmarks (N, 5, 2) float32."""
        ...


class Aligner(Protocol):
    size: int

    def align(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """landmarks (N, 5, 2) -> chips (N, size, size, 3) uint8."""
        ...


class Embedder(Protocol):
    spec: ModelSpec

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """chips (N, S, S, 3) uint8 RGB -> (N, D) float32, L2-normalized."""
        ...
