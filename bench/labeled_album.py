"""A labeled album (faces-lfw, faces-dev, or a slice) scanned by the app, for benchmarks.

`album_folder` lays the labeled photos out as symlinks in one folder (the app never sees the
labels, which are the folder names); `scanned_library` scans it once with the app's own pipeline
(cached under /tmp by the labels file and the shipped default spec); `album_faces` reads every
face back with its photo, box, chip and the photo's labeled person. A photo's labeled subject is
its largest face (`subjects`): background faces are grouped like any other but not scored.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import numpy as np

from album.album import Album
from album.faces.embedder import DEFAULT_SPEC_PATH
from album.library.library import Library
from album.library.schema import Face, FaceChip, Photo
from album.scan.store import decode_chip

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LFW = SHARED / "faces-lfw" / "labels.csv"
LFW_SLICE = SHARED / "faces-lfw" / "slice.csv"
DEV = SHARED / "faces-dev" / "labels.csv"
CACHE = Path("/tmp/face-album-bench")


def read_labels(labels_csv: Path) -> dict[str, str]:
    """File name -> person (names are unique across both sets' layouts)."""
    with open(labels_csv, newline="") as handle:
        return {os.path.basename(r["path"]): r["person"] for r in csv.DictReader(handle)}


def _key(labels_csv: Path) -> str:
    spec = DEFAULT_SPEC_PATH.read_bytes()
    return hashlib.sha1(str(labels_csv.resolve()).encode() + spec).hexdigest()[:10]


def album_folder(labels_csv: Path, folder: Path) -> Path:
    """`folder` holding a symlink per labeled photo (made once)."""
    if not folder.is_dir():
        tmp = folder.with_name(folder.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        with open(labels_csv, newline="") as handle:
            for row in csv.DictReader(handle):
                link = tmp / os.path.basename(row["path"])
                if not link.exists():
                    link.symlink_to((labels_csv.parent / row["path"]).resolve())
        tmp.rename(folder)
    return folder


def scanned_library(labels_csv: Path, group: bool = False) -> Library:
    """A library that has scanned the labeled album (reused while the default spec is unchanged)."""
    base = CACHE / f"{labels_csv.parent.name}-{labels_csv.stem}-{_key(labels_csv)}"
    folder = album_folder(labels_csv, base / "photos")
    done = base / "scanned"
    lib = Library(base / "library.db")
    if not done.exists():
        Album(lib).scan([folder], group=group)
        done.touch()
    return lib


def album_faces(lib: Library, labels_csv: Path) -> dict[str, np.ndarray]:
    """Every face of the library: id, photo, box, chip (uint8) and the photo's labeled person."""
    labels = read_labels(labels_csv)
    with lib.session() as s:
        rows = s.execute(
            Face.__table__.select()
            .with_only_columns(
                Face.id,
                Face.photo_id,
                Face.left,
                Face.top,
                Face.right,
                Face.bottom,
                Photo.relpath,
                FaceChip.image,
            )
            .join_from(Face, Photo, Face.photo_id == Photo.id)
            .join(FaceChip, FaceChip.face_id == Face.id)
            .order_by(Face.id)
        ).all()
    return {
        "ids": np.array([r[0] for r in rows], np.int64),
        "photos": np.array([r[1] for r in rows], np.int64),
        "boxes": np.array([r[2:6] for r in rows], np.float32).reshape(-1, 4),
        "person": np.array([labels.get(os.path.basename(r[6]), "") for r in rows]),
        "chips": np.stack([decode_chip(r[7]) for r in rows])
        if rows
        else np.zeros((0, 150, 150, 3), np.uint8),
    }


def subjects(photos: np.ndarray, boxes: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Row of the largest face of each labeled photo (the face a label speaks of)."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    best: dict[int, int] = {}
    for row, (photo, size) in enumerate(zip(photos.tolist(), area.tolist(), strict=True)):
        if person[row] and (photo not in best or size > area[best[photo]]):
            best[photo] = row
    return np.array(sorted(best.values()), np.int64)
