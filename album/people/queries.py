"""Read side of the people API: summaries and face lists straight from SQL, as plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from album.library.schema import Decision, Face, Person, Photo, Root
from album.people.edits import chunked
from album.people.types import (
    UNSORTED,
    FaceInfo,
    FacePhoto,
    PeopleError,
    PersonSummary,
    PhotoInfo,
)

_UNSORTED_WHERE = (Face.person_id.is_(None), Face.decision == Decision.NONE)


def list_people(
    session: Session, include_hidden: bool = False, include_unsorted: bool = False
) -> list[PersonSummary]:
    """Named people by name, then unnamed clusters by size; the unsorted pseudo person last."""
    people = _summaries(session, () if include_hidden else (Person.hidden.is_(False),), None)
    people.sort(key=lambda s: (s.name is None, (s.name or "").casefold(), -s.face_count, s.id))
    if include_unsorted:
        people.append(unsorted_summary(session))
    return people


def summaries(session: Session, person_ids: Iterable[int]) -> dict[int, PersonSummary]:
    """These people's summaries, hidden ones included (UNSORTED: the unsorted faces); ids of
    people that do not exist are left out."""
    wanted = {int(p) for p in person_ids}
    ids = sorted(wanted - {UNSORTED})
    found = {
        summary.id: summary
        for chunk in chunked(ids)
        for summary in _summaries(session, (Person.id.in_(chunk),), chunk)
    }
    if UNSORTED in wanted:
        found[UNSORTED] = unsorted_summary(session)
    return found


def _summaries(session: Session, where: tuple, person_ids: list[int] | None) -> list[PersonSummary]:
    confirmed = func.sum(case((Face.decision == Decision.CONFIRMED, 1), else_=0))
    query = (
        select(Person, func.count(Face.id), func.count(distinct(Face.photo_id)), confirmed)
        .outerjoin(Face, Face.person_id == Person.id)
        .where(*where)
        .group_by(Person.id)
    )
    covers = default_covers(session, person_ids)
    return [
        PersonSummary(
            id=p.id,
            name=p.name,
            face_count=faces,
            photo_count=photos,
            cover_face_id=p.cover_face_id or covers.get(p.id),
            hidden=p.hidden,
            confirmed_count=sure or 0,
        )
        for p, faces, photos, sure in session.execute(query)
    ]


def unsorted_summary(session: Session) -> PersonSummary:
    faces, photos, cover = session.execute(
        select(func.count(Face.id), func.count(distinct(Face.photo_id)), func.max(Face.id)).where(
            *_UNSORTED_WHERE
        )
    ).one()
    return PersonSummary(UNSORTED, None, faces, photos, cover, False)


def default_covers(session: Session, person_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Per person (or only those of `person_ids`), the largest confirmed face, else the largest
    face (SQLite's bare-column max)."""
    rank = func.max(case((Face.decision == Decision.CONFIRMED, 1e9), else_=0) + Face.quality)
    query = select(Face.person_id, Face.id, rank).group_by(Face.person_id)
    if person_ids is None:
        wheres = [Face.person_id.is_not(None)]
    else:
        wheres = [Face.person_id.in_(chunk) for chunk in chunked(sorted(set(person_ids)))]
    return {pid: fid for where in wheres for pid, fid, _ in session.execute(query.where(where))}


def person_summary(session: Session, person_id: int) -> PersonSummary:
    summary = summaries(session, [person_id]).get(person_id)
    if summary is None:
        raise PeopleError(f"no person {person_id}")
    return summary


def _face_info(face: Face) -> FaceInfo:
    return FaceInfo(
        face.id, face.photo_id, face.person_id, str(face.decision), face.box, face.quality
    )


def person_faces(session: Session, person_id: int) -> list[FaceInfo]:
    """A person's faces, confirmed first, then largest first (UNSORTED: the unsorted faces)."""
    if person_id == UNSORTED:
        where = _UNSORTED_WHERE
    else:
        require_person(session, person_id)
        where = (Face.person_id == person_id,)
    order = (case((Face.decision == Decision.CONFIRMED, 0), else_=1), Face.quality.desc(), Face.id)
    return [_face_info(f) for f in session.scalars(select(Face).where(*where).order_by(*order))]


def faces_info(session: Session, face_ids: Iterable[int]) -> dict[int, FaceInfo]:
    found: dict[int, FaceInfo] = {}
    for chunk in chunked([int(f) for f in face_ids]):
        found.update(
            (f.id, _face_info(f)) for f in session.scalars(select(Face).where(Face.id.in_(chunk)))
        )
    return found


def photo_faces(session: Session, photo_id: int) -> list[FaceInfo]:
    faces = session.scalars(
        select(Face).where(Face.photo_id == photo_id).order_by(Face.left, Face.id)
    )
    return [_face_info(f) for f in faces]


def photo_info(session: Session, photo_id: int) -> PhotoInfo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise PeopleError(f"no photo {photo_id}")
    root = session.get(Root, photo.root_id)
    faces = tuple(f for f in photo_faces(session, photo_id) if f.decision != Decision.NOT_FACE)
    ids = {f.person_id for f in faces} - {None}
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all())
    size = (photo.width, photo.height) if photo.width and photo.height else None
    return PhotoInfo(photo.id, _path(root.path, photo.relpath), size, photo.taken_at, faces, names)


def face_photos(
    session: Session, face_ids: Sequence[int], newest_first: bool = True
) -> list[FacePhoto]:
    """The photos of `face_ids`, one per photo (shown through its first listed face): newest
    first, or else in the order of `face_ids` (e.g. best search match first)."""
    order = {int(face_id): i for i, face_id in reversed(list(enumerate(face_ids)))}
    query = select(Face.id, Face.left, Face.top, Face.right, Face.bottom, Photo, Root.path).join(
        Photo, Face.photo_id == Photo.id
    )
    rows = [
        row
        for chunk in chunked(list(order))
        for row in session.execute(query.join(Root).where(Face.id.in_(chunk)))
    ]
    photos: dict[int, FacePhoto] = {}
    for face_id, left, top, right, bottom, photo, root in sorted(rows, key=lambda r: order[r[0]]):
        if photo.id not in photos:
            path = _path(root, photo.relpath)
            box = (left, top, right, bottom)
            photos[photo.id] = FacePhoto(photo.id, face_id, path, box, photo.taken_at)
    if not newest_first:
        return list(photos.values())
    return sorted(photos.values(), key=lambda p: (p.taken_at or datetime.min, p.photo_id))[::-1]


def _path(root: str, relpath: str) -> str:
    return str(Path(root) / relpath)


def require_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise PeopleError(f"no person {person_id}")
    return person


def require_faces(session: Session, face_ids: Iterable[int]) -> list[Face]:
    ids = sorted({int(f) for f in face_ids})
    faces = [
        f for chunk in chunked(ids) for f in session.scalars(select(Face).where(Face.id.in_(chunk)))
    ]
    missing = set(ids) - {f.id for f in faces}
    if missing:
        raise PeopleError(f"no face {sorted(missing)[0]}")
    return faces
