"""A labeled library built from faces-dev, for the retrain tests and bench; and the low-resolution
camera that makes its album hard for the shipped model.

Scanning faces-dev with the app's CNN detector costs minutes on a 2-core CI box, so this helper
finds each photo's face with dlib's HOG detector (dlib-bin is the test reference, never app code)
on a downscaled copy, then uses the app's own landmarks, aligner and embedder, and stores photos,
faces, chips and embeddings as a scan would. Faces are confirmed from labels.csv.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.conftest import FACES_DEV

DETECT_SIDE = 480  # longest side the HOG detector sees
LOW_RES = 14  # the side chips are shrunk to by `low_resolution`


def low_resolution(chips: np.ndarray, side: int = LOW_RES) -> np.ndarray:
    """Chips as a low-resolution camera takes them: shrunk to `side` pixels and back to 150."""
    small = [cv2.resize(c, (side, side), interpolation=cv2.INTER_AREA) for c in chips]
    return np.stack([cv2.resize(s, (150, 150), interpolation=cv2.INTER_LINEAR) for s in small])


def faces_dev_chips(root: Path = FACES_DEV) -> tuple[list[str], list[str], np.ndarray, list]:
    """(photo relpaths, person names, dlib chips (N,150,150,3), landmarks) of the photos where
    exactly one face is found (the largest, when there are several)."""
    import dlib

    from album.faces.align import DlibChipAligner
    from album.faces.landmarks import ShapePredictor5

    detector, predictor, aligner = (
        dlib.get_frontal_face_detector(),
        ShapePredictor5(),
        DlibChipAligner(),
    )
    paths, names, chips, points = [], [], [], []
    for row in csv.DictReader(open(root / "labels.csv")):
        image = np.asarray(Image.open(root / row["path"]).convert("RGB"))
        scale = min(1.0, DETECT_SIDE / max(image.shape[:2]))
        small = np.asarray(
            Image.fromarray(image).resize(
                (round(image.shape[1] * scale), round(image.shape[0] * scale))
            )
        )
        found = detector(small, 1 if max(small.shape) < 300 else 0)
        if not found:
            continue
        box = max(found, key=lambda r: r.width() * r.height())
        full = np.array([[box.left(), box.top(), box.right(), box.bottom()]]) / scale
        landmarks = predictor.predict(image, full)
        chips.append(aligner.align(image, landmarks)[0])
        paths.append(row["path"])
        names.append(row["person"])
        points.append(landmarks[0])
    return paths, names, np.stack(chips), points


def build_library(lib, paths, names, chips, points, *, confirm=None, burst_every: int = 3):
    """Store the faces as a scan would (photo, face, chip, embedding under the default model)
    and confirm those whose index is in `confirm` (default all) for their named person.
    Photos get capture times so every `burst_every` consecutive photos of a person form a burst.
    Returns the face ids in input order."""
    from album.faces.embedder import load_default_embedder
    from album.library.clock import now
    from album.library.models import ensure_model
    from album.library.schema import Decision, Embedding, Face, FaceChip, Person, Photo
    from album.scan.store import encode_chip

    embedder = load_default_embedder(device="cpu")
    vectors = embedder.embed(chips)
    root_id = lib.add_root(FACES_DEV / "images")
    start = datetime(2024, 1, 1)
    seen: dict[str, int] = {}
    with lib.transaction() as s:
        model_id = ensure_model(s, embedder.spec)
        people = {n: Person(name=n, created_at=now()) for n in sorted(set(names))}
        s.add_all(people.values())
        ids = []
        for i, (path, name) in enumerate(zip(paths, names, strict=True)):
            k = seen[name] = seen.get(name, -1) + 1
            day = start + timedelta(days=sorted(people).index(name) * 30 + k // burst_every)
            photo = Photo(
                root_id=root_id,
                relpath=Path(path).name,
                size=1,
                mtime_ns=0,
                taken_at=day + timedelta(seconds=10 * (k % burst_every)),
                status="done",
            )
            s.add(photo)
            s.flush()
            x0, y0 = points[i].min(axis=0)
            x1, y1 = points[i].max(axis=0)
            chosen = confirm is None or i in confirm
            face = Face(
                photo_id=photo.id,
                left=float(x0),
                top=float(y0),
                right=float(x1),
                bottom=float(y1),
                landmarks=points[i].astype(np.float32),
                score=1.0,
                quality=float(x1 - x0),
                person_id=None,
                decision=Decision.NONE,
            )
            s.add(face)
            s.flush()
            if chosen:
                face.person_id, face.decision = people[name].id, Decision.CONFIRMED
            s.add(
                FaceChip(
                    face_id=face.id, alignment="dlib_chip", size=150, image=encode_chip(chips[i])
                )
            )
            s.add(Embedding(face_id=face.id, model_id=model_id, vector=vectors[i]))
            ids.append(face.id)
    return ids
