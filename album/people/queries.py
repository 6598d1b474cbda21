"""Read side of the people API: summaries and face lists straight from SQL, as plain values."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from album.library.schema import Decision, Face, Person
from album.people.edits import chunked
from album.people.types import UNSORTED, FaceInfo, PeopleError, PersonSummary

_UNSORTED_WHERE = (Face.person_id.is_(None), Face.decision == Decision.NONE)


def list_people(
    session: Session, include_hidden: bool = False, include_unsorted: bool = False
) -> list[PersonSummary]:
    """Named people by name, then unnamed clusters by size; the unsorted pseudo person last."""
    confirmed = func.sum(case((Face.decision == Decision.CONFIRMED, 1), else_=0))
    query = (
        select(Person, func.count(Face.id), func.count(distinct(Face.photo_id)), confirmed)
        .outerjoin(Face, Face.person_id == Person.id)
        .group_by(Person.id)
    )
    if not include_hidden:
        query = query.where(Person.hidden.is_(False))
    covers = default_covers(session)
    people = [
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
    people.sort(key=lambda s: (s.name is None, (s.name or "").casefold(), -s.face_count, s.id))
    if include_unsorted:
        people.append(unsorted_summary(session))
    return people


def unsorted_summary(session: Session) -> PersonSummary:
    faces, photos, cover = session.execute(
        select(func.count(Face.id), func.count(distinct(Face.photo_id)), func.max(Face.id)).where(
            *_UNSORTED_WHERE
        )
    ).one()
    return PersonSummary(UNSORTED, None, faces, photos, cover, False)


def default_covers(session: Session, person_id: int | None = None) -> dict[int, int]:
    """Per person (or only `person_id`), the largest confirmed face, else the largest face
    (SQLite's bare-column max)."""
    rank = func.max(case((Face.decision == Decision.CONFIRMED, 1e9), else_=0) + Face.quality)
    where = Face.person_id.is_not(None) if person_id is None else Face.person_id == person_id
    rows = session.execute(
        select(Face.person_id, Face.id, rank).where(where).group_by(Face.person_id)
    )
    return {pid: fid for pid, fid, _ in rows}


def person_summary(session: Session, person_id: int) -> PersonSummary:
    if person_id == UNSORTED:
        return unsorted_summary(session)
    for summary in list_people(session, include_hidden=True):
        if summary.id == person_id:
            return summary
    raise PeopleError(f"no person {person_id}")


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
