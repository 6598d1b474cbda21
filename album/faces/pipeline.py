"""FacePipeline: detector -> landmarks -> aligner -> embedder, batched across photos."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from album.faces.types import Aligner, Detector, Embedder, FaceRecord, LandmarkPredictor


@dataclass
class FacePipeline:
    detector: Detector
    landmarks: LandmarkPredictor | None  # None: the detector gives keypoints (insightface packs)
    aligner: Aligner
    embedder: Embedder | None
    alignment: str = "dlib_chip"  # the chip kind stored for re-embedding and retraining

    @property
    def model_name(self) -> str | None:
        return self.embedder.spec.name if self.embedder else None

    def process(self, image: np.ndarray) -> list[FaceRecord]:
        return self.process_batch([image])[0]

    def process_batch(self, images: list[np.ndarray]) -> list[list[FaceRecord]]:
        """Faces of each image; the chips of all images are embedded in one batch."""
        found = []
        for image, (dets, points) in zip(images, self.locate(images)):
            chips = self.aligner.align(image, points) if dets else _no_chips(self.aligner)
            found.append((dets, points, chips))
        embeddings = self._embed(np.concatenate([chips for _, _, chips in found]))
        results, start = [], 0
        for dets, points, chips in found:
            vectors = embeddings[start : start + len(dets)] if embeddings is not None else None
            start += len(dets)
            results.append(
                [
                    FaceRecord(
                        d.box, d.score, points[i], chips[i], None if vectors is None else vectors[i]
                    )
                    for i, d in enumerate(dets)
                ]
            )
        return results

    def locate(self, images: list[np.ndarray]) -> list[tuple[list, np.ndarray]]:
        """Detections and their 5 keypoints (N, 5, 2) for each image."""
        if self.landmarks is None:
            return [self.detector.detect_with_keypoints(image) for image in images]
        located = []
        for image, dets in zip(images, self.detector.detect_batch(images)):
            boxes = np.array([d.box for d in dets], dtype=np.float64).reshape(-1, 4)
            points = (
                self.landmarks.predict(image, boxes) if dets else np.zeros((0, 5, 2), np.float32)
            )
            located.append((dets, points))
        return located

    def _embed(self, chips: np.ndarray) -> np.ndarray | None:
        if self.embedder is None:
            return None
        if len(chips) == 0:
            return np.zeros((0, self.embedder.spec.embedding_dim), np.float32)
        return self.embedder.embed(chips)


def _no_chips(aligner: Aligner) -> np.ndarray:
    return np.zeros((0, aligner.size, aligner.size, 3), np.uint8)


def scale_records(records: list[FaceRecord], scale: float) -> list[FaceRecord]:
    """Map boxes and landmarks from a downscaled image to full-size pixels (`scale` = full/small)."""
    if scale == 1.0:
        return records
    return [
        replace(r, box=tuple(float(v) * scale for v in r.box), landmarks=r.landmarks * scale)
        for r in records
    ]
