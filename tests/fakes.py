"""An honest fake face pipeline for tests of scanning and storage.

"Faces" are solid coloured squares on a white background: the fake detector really finds them
(connected components), the fake embedder really maps a colour to a direction, so the same colour
in two photos is "the same person". No stage looks at file names or test-only metadata.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from album.faces.pipeline import FacePipeline
from album.faces.types import Detection
from training.spec import ModelSpec, Thresholds

PALETTE = {
    "red": (220, 30, 30),
    "green": (30, 200, 30),
    "blue": (30, 30, 220),
    "yellow": (230, 220, 20),
    "purple": (150, 30, 160),
}


def draw_photo(path, faces: list[tuple[str, int, int, int]], size=(320, 240), fmt=None) -> None:
    """Write a photo with squares: (colour name, left, top, side)."""
    image = np.full((size[1], size[0], 3), 255, np.uint8)
    for name, left, top, side in faces:
        image[top : top + side, left : left + side] = PALETTE[name]
    Image.fromarray(image).save(path, format=fmt)


class SquareDetector:
    min_face_size = 12

    def detect(self, image: np.ndarray) -> list[Detection]:
        mask = (image.min(axis=2) < 128).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        found = []
        for left, top, w, h, _area in stats[1:count]:
            if min(w, h) >= self.min_face_size:
                found.append(
                    Detection((float(left), float(top), float(left + w), float(top + h)), 1.0)
                )
        return sorted(found, key=lambda d: d.box)

    def detect_batch(self, images):
        return [self.detect(image) for image in images]


class CornerLandmarks:
    def predict(self, image, boxes):
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        out = np.zeros((len(boxes), 5, 2), np.float32)
        for i, (x0, t, r, b) in enumerate(boxes):
            w, h = r - x0, b - t
            out[i] = [
                (x0 + 0.8 * w, t + 0.3 * h),
                (x0 + 0.6 * w, t + 0.3 * h),
                (x0 + 0.2 * w, t + 0.3 * h),
                (x0 + 0.4 * w, t + 0.3 * h),
                (x0 + 0.5 * w, t + 0.7 * h),
            ]
        return out


class CropAligner:
    """Crops the square spanned by the landmarks (inside the coloured square)."""

    size = 32

    def align(self, image, landmarks):
        chips = np.zeros((len(landmarks), self.size, self.size, 3), np.uint8)
        for i, points in enumerate(landmarks):
            x0, y0 = np.floor(points.min(axis=0)).astype(int)
            x1, y1 = np.ceil(points.max(axis=0)).astype(int)
            chips[i] = cv2.resize(image[y0 : y1 + 1, x0 : x1 + 1], (self.size, self.size))
        return chips


class ColourEmbedder:
    spec = ModelSpec(
        name="fake_colour_v1",
        backbone="fake",
        input_size=32,
        alignment="fake_crop",
        embedding_dim=3,
        thresholds=Thresholds(same_person=0.99, suggestion=0.95),
    )

    def embed(self, chips):
        vectors = chips.reshape(len(chips), -1, 3).mean(axis=1).astype(np.float32) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fake_pipeline() -> FacePipeline:
    return FacePipeline(
        SquareDetector(), CornerLandmarks(), CropAligner(), ColourEmbedder(), alignment="fake_crop"
    )
