"""Read-only queries that shape library rows for the views (run on the ops thread, never in paint).

Each returns plain frozen dataclasses, so nothing ORM-bound crosses into Qt models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from album.gui.loaders import PhotoKey
from album.gui.photo_canvas import FaceBox
from album.library.library import Library
from album.library.schema import Decision, Face, Person, Photo, Root

UNSORTED_LABEL = ""


@dataclass(frozen=True)
class PhotoRow:
    """One photo in a grid, showing one of its faces."""

    photo_id: int
    face_id: int
    path: str
    box: tuple[float, float, float, float]
    taken_at: datetime | None

    @property
    def key(self) -> PhotoKey:
        return PhotoKey(self.path, self.box)


@dataclass(frozen=True)
class PhotoDetail:
    photo_id: int
    path: str
    size: tuple[int, int]
    taken_at: datetime | None
    faces: list[FaceBox]


def face_photos(lib: Library, face_ids: Sequence[int], newest_first: bool = True) -> list[PhotoRow]:
    """The photos of `face_ids`, one row per photo (its first listed face).

    Newest first, or else in the order of `face_ids` (e.g. best search match first).
    """
    order = {face_id: i for i, face_id in enumerate(face_ids)}
    with lib.session() as s:
        rows = s.execute(
            select(
                Face.id,
                Face.left,
                Face.top,
                Face.right,
                Face.bottom,
                Photo.id,
                Photo.relpath,
                Photo.taken_at,
                Root.path,
            )
            .join(Photo, Face.photo_id == Photo.id)
            .join(Root, Photo.root_id == Root.id)
            .where(Face.id.in_(list(face_ids)))
        ).all()
    best: dict[int, PhotoRow] = {}
    for face_id, left, top, right, bottom, photo_id, relpath, taken_at, root in sorted(
        rows, key=lambda r: order[r[0]]
    ):
        if photo_id not in best:
            best[photo_id] = PhotoRow(
                photo_id, face_id, str(Path(root) / relpath), (left, top, right, bottom), taken_at
            )
    return sorted(
        best.values(), key=lambda r: (r.taken_at or datetime.min, r.photo_id), reverse=True
    )


def photo_detail(lib: Library, photo_id: int) -> PhotoDetail:
    """The photo's file, rotated size and every face on it with its person's name."""
    with lib.session() as s:
        photo = s.get(Photo, photo_id)
        root = s.get(Root, photo.root_id)
        rows = s.execute(
            select(
                Face.id,
                Face.left,
                Face.top,
                Face.right,
                Face.bottom,
                Face.decision,
                Person.name,
                Person.id,
            )
            .outerjoin(Person, Face.person_id == Person.id)
            .where(Face.photo_id == photo_id)
            .order_by(Face.left)
        ).all()
        faces = [
            FaceBox(face_id, (left, top, right, bottom), _label(decision, name, person_id))
            for face_id, left, top, right, bottom, decision, name, person_id in rows
            if decision != Decision.NOT_FACE
        ]
        size = (photo.width or 1, photo.height or 1)
        return PhotoDetail(
            photo_id, str(Path(root.path) / photo.relpath), size, photo.taken_at, faces
        )


def photo_of_face(lib: Library, face_id: int) -> int:
    with lib.session() as s:
        return s.scalar(select(Face.photo_id).where(Face.id == face_id))


def _label(decision: str, name: str | None, person_id: int | None) -> str:
    if person_id is None:
        return UNSORTED_LABEL
    return name or "Unnamed"
