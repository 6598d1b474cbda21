"""A face the detector missed, added from a box the user drew.

Its landmarks, chip and embedding come from the same pipeline as a scan's (landmarks predicted
inside the box, the model's aligner and embedder), so it is grouped, suggested, searched and
retrained like any detected face. It starts unsorted; naming it is the caller's next step.
On faces-dev with the default models, boxes drawn 4-8% looser than the detector's around five
detected faces gave embeddings at cosine 0.86-0.998 to the detected ones (same-person: 0.51).
"""

from __future__ import annotations

import numpy as np

from album.faces.pipeline import FacePipeline
from album.imaging import load_rgb
from album.library.db import LibraryError
from album.library.library import Library
from album.library.models import ensure_model
from album.library.schema import Embedding, Face, FaceChip
from album.scan.store import encode_chip

MIN_SIDE = 12  # pixels: smaller boxes are slips of the mouse


def add_face(
    lib: Library,
    photo_id: int,
    box: tuple[float, float, float, float],
    pipeline: FacePipeline | None = None,
) -> int:
    """Store a face at `box` (full-image pixels, EXIF-rotated: left, top, right, bottom) of
    `photo_id`, embedded with `pipeline` (default: the library's); returns its id."""
    if pipeline is None:
        from album.faces.default import load_pipeline

        pipeline = load_pipeline(lib)
    if pipeline.landmarks is None:
        raise LibraryError("this face model finds its own face points: draw faces with the default")
    image = load_rgb(lib.photo_path(photo_id))
    box = _clip(box, image.shape[1], image.shape[0])
    points = pipeline.landmarks.predict(image, np.array([box], np.float64))
    chip = pipeline.aligner.align(image, points)[0]
    vector = pipeline.embedder.embed(chip[None])[0] if pipeline.embedder is not None else None
    with lib.transaction() as s:
        face = Face(photo_id=photo_id, score=1.0, landmarks=points[0].astype(np.float32))
        face.left, face.top, face.right, face.bottom = box
        face.quality = float(min(box[2] - box[0], box[3] - box[1]))
        s.add(face)
        s.flush()
        s.add(
            FaceChip(
                face_id=face.id,
                alignment=pipeline.alignment,
                size=int(chip.shape[0]),
                image=encode_chip(chip),
            )
        )
        if vector is not None:
            model_id = ensure_model(s, pipeline.embedder.spec)
            s.add(Embedding(face_id=face.id, model_id=model_id, vector=vector))
        return face.id


def _clip(box, width: int, height: int) -> tuple[float, float, float, float]:
    left, top, right, bottom = (float(v) for v in box)
    left, right = sorted((max(0.0, min(left, width)), max(0.0, min(right, width))))
    top, bottom = sorted((max(0.0, min(top, height)), max(0.0, min(bottom, height))))
    if min(right - left, bottom - top) < MIN_SIDE:
        raise ValueError(f"draw a box at least {MIN_SIDE} pixels wide and high around the face")
    return left, top, right, bottom
