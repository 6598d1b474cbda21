"""FacePipeline: detector -> landmarks -> aligner -> embedder, batched across photos."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from album.faces.types import Aligner, Detector, Embedder, FaceRecord, LandmarkPredictor


@dataclass
class FacePipeline:
    detector: Detector
    landmarks: LandmarkPredictor
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
        detections = self.detector.detect_batch(images)
        found = []
        for image, dets in zip(images, detections):
            if not dets:
                found.append((dets, np.zeros((0, 5, 2), np.float32), _no_chips(self.aligner)))
                continue
            boxes = np.array([d.box for d in dets], dtype=np.float64)
            points = self.landmarks.predict(image, boxes)
            found.append((dets, points, self.aligner.align(image, points)))
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
