"""User decisions: each function is one undoable edit in the caller's transaction.

Rules: a face the user placed is CONFIRMED and anchors its person through re-clustering;
naming or merging a cluster confirms the faces the user saw in it; removing or rejecting
a face remembers "not this person" so no later clustering or suggestion proposes it again;
an unnamed person left without faces is deleted (undo brings it back with its id).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from album.library.clock import now
from album.library.schema import Decision, Face, FaceRejection, Person
from album.people.edits import Recorder, chunked
from album.people.queries import default_covers, require_faces, require_person
from album.people.types import ChangeSet, PeopleError


def name(session: Session, person_id: int, new_name: str | None) -> ChangeSet:
    """Name or rename (None or "" clears); the person's auto faces become confirmed."""
    person = require_person(session, person_id)
    rec = Recorder(session, "name")
    auto = list(
        session.scalars(
            select(Face.id).where(Face.person_id == person_id, Face.decision == Decision.AUTO)
        )
    )
    rec.capture(auto, [person_id])
    person.name = (new_name or "").strip() or None
    _set_decision(session, auto, Decision.CONFIRMED)
    return rec.finish({"person_id": person_id, "name": person.name})


def merge(session: Session, keep_id: int, other_ids: Iterable[int]) -> ChangeSet:
    """The `others` become `keep` in one edit (one undo): their faces move (all confirmed),
    their rejections carry over, they are deleted. `keep` takes the first name and cover
    among keep, then the others in order, when it has none."""
    others = list(dict.fromkeys(other_ids))
    if not others:
        raise PeopleError("name at least one person to merge")
    if keep_id in others:
        raise PeopleError("cannot merge a person with itself")
    keep = require_person(session, keep_id)
    merged = [require_person(session, other_id) for other_id in others]
    rec = Recorder(session, "merge")
    everyone = [keep_id, *others]
    faces = [
        face_id
        for chunk in chunked(everyone)
        for face_id in session.scalars(select(Face.id).where(Face.person_id.in_(chunk)))
    ]
    rec.capture(faces, everyone)
    for other in merged:
        keep.name = keep.name or other.name
        keep.cover_face_id = keep.cover_face_id or other.cover_face_id
        other.cover_face_id = None
    leaving = set(others)
    moved_rejections = list(dict.fromkeys(f for f, p in rec.rejections if p in leaving))
    _assign(session, faces, keep_id, Decision.CONFIRMED)
    _add_rejections(session, moved_rejections, keep_id)
    for other_id in others:
        _delete_person(session, rec, other_id)
    return rec.finish({"keep": keep_id, "others": others})


def move(
    session: Session, face_ids: Iterable[int], person_id: int, action: str = "move"
) -> ChangeSet:
    """Put faces in a person as confirmed (also how a suggestion is accepted). The person keeps
    the cover it shows: arriving faces (confirmed, maybe larger) never become it by default."""
    person = require_person(session, person_id)
    faces = require_faces(session, face_ids)
    rec = Recorder(session, action)
    sources = {f.person_id for f in faces} - {None, person_id}
    clash = _same_photo_faces(session, faces, person_id)
    rec.capture([f.id for f in faces] + clash, [person_id, *sources])
    shown = person.cover_face_id or default_covers(session, [person_id]).get(person_id)
    person.cover_face_id = None if shown in clash else shown
    _assign(session, clash, None, Decision.NONE)
    ids = [f.id for f in faces]
    _assign(session, ids, person_id, Decision.CONFIRMED)
    _drop_rejections(session, ids, person_id)
    _after_faces_left(session, rec, sources, ids)
    return rec.finish({"person_id": person_id, "face_ids": ids})


def split(session: Session, face_ids: Iterable[int], new_name: str | None = None) -> ChangeSet:
    """Faces leave their person(s) for a new person, confirmed."""
    faces = require_faces(session, face_ids)
    rec = Recorder(session, "split")
    sources = {f.person_id for f in faces} - {None}
    rec.capture([f.id for f in faces], sources)
    person = Person(name=(new_name or "").strip() or None, hidden=False, created_at=now())
    session.add(person)
    session.flush()
    rec.created(person.id)
    ids = [f.id for f in faces]
    _assign(session, ids, person.id, Decision.CONFIRMED)
    _after_faces_left(session, rec, sources, ids)
    return rec.finish({"person_id": person.id, "face_ids": ids})


def remove(session: Session, face_ids: Iterable[int]) -> ChangeSet:
    """Faces leave their person for unsorted, remembered as "not this person"."""
    faces = require_faces(session, face_ids)
    rec = Recorder(session, "remove")
    sources = {f.person_id for f in faces} - {None}
    rec.capture([f.id for f in faces], sources)
    for face in faces:
        if face.person_id is not None:
            _add_rejections(session, [face.id], face.person_id)
    _assign(session, [f.id for f in faces], None, Decision.NONE)
    _after_faces_left(session, rec, sources, [f.id for f in faces])
    return rec.finish({"face_ids": [f.id for f in faces]})


def reject(
    session: Session, face_ids: Iterable[int], person_id: int, action: str = "reject"
) -> ChangeSet:
    """ "These faces are not this person": remembered; faces currently in that person leave it."""
    require_person(session, person_id)
    faces = require_faces(session, face_ids)
    rec = Recorder(session, action)
    rec.capture([f.id for f in faces], [person_id])
    inside = [f.id for f in faces if f.person_id == person_id]
    _add_rejections(
        session, [f.id for f in faces if (f.id, person_id) not in rec.rejections], person_id
    )
    _assign(session, inside, None, Decision.NONE)
    _after_faces_left(session, rec, {person_id} if inside else set(), inside)
    return rec.finish({"person_id": person_id, "face_ids": [f.id for f in faces]})


def not_a_face(session: Session, face_ids: Iterable[int]) -> ChangeSet:
    """False detections: out of every person, never clustered, suggested or searched again."""
    faces = require_faces(session, face_ids)
    rec = Recorder(session, "not_a_face")
    sources = {f.person_id for f in faces} - {None}
    ids = [f.id for f in faces]
    rec.capture(ids, sources)
    _assign(session, ids, None, Decision.NOT_FACE)
    _after_faces_left(session, rec, sources, ids)
    return rec.finish({"face_ids": ids})


def hide(session: Session, person_id: int, hidden: bool = True) -> ChangeSet:
    person = require_person(session, person_id)
    rec = Recorder(session, "hide")
    rec.capture(person_ids=[person_id])
    person.hidden = hidden
    return rec.finish({"person_id": person_id, "hidden": hidden})


def set_cover(session: Session, person_id: int, face_id: int) -> ChangeSet:
    person = require_person(session, person_id)
    (face,) = require_faces(session, [face_id])
    if face.person_id != person_id:
        raise PeopleError(f"face {face_id} is not in person {person_id}")
    rec = Recorder(session, "cover")
    rec.capture(person_ids=[person_id])
    person.cover_face_id = face_id
    return rec.finish({"person_id": person_id, "face_id": face_id})


def _assign(
    session: Session, face_ids: list[int], person_id: int | None, decision: Decision
) -> None:
    for chunk in chunked(face_ids):
        session.execute(
            update(Face).where(Face.id.in_(chunk)).values(person_id=person_id, decision=decision)
        )


def _drop_rejections(session: Session, face_ids: list[int], person_id: int) -> None:
    for chunk in chunked(face_ids):
        session.execute(
            delete(FaceRejection).where(
                FaceRejection.person_id == person_id, FaceRejection.face_id.in_(chunk)
            )
        )


def _set_decision(session: Session, face_ids: list[int], decision: Decision) -> None:
    for chunk in chunked(face_ids):
        session.execute(update(Face).where(Face.id.in_(chunk)).values(decision=decision))


def _add_rejections(session: Session, face_ids: Iterable[int], person_id: int) -> None:
    stamp = now()
    for face_id in face_ids:
        session.merge(FaceRejection(face_id=face_id, person_id=person_id, created_at=stamp))


def _same_photo_faces(session: Session, faces: list[Face], person_id: int) -> list[int]:
    """Faces of `person_id` in the photos of `faces` (cannot-link): auto ones make way, confirmed refuse."""
    photos = sorted({f.photo_id for f in faces})
    moving = {f.id for f in faces}
    others = [
        row
        for chunk in chunked(photos)
        for row in session.execute(
            select(Face.id, Face.decision).where(
                Face.person_id == person_id, Face.photo_id.in_(chunk)
            )
        )
    ]
    clash = [(fid, d) for fid, d in others if fid not in moving]
    if any(d == Decision.CONFIRMED for _, d in clash):
        raise PeopleError(
            f"a photo of these faces already has a confirmed face of person {person_id}"
        )
    return [fid for fid, _ in clash]


def _after_faces_left(
    session: Session, rec: Recorder, person_ids: Iterable[int], face_ids: list[int]
) -> None:
    """Clear covers that left; delete unnamed people now empty."""
    session.flush()
    face_ids = set(face_ids)
    for pid in person_ids:
        person = session.get(Person, pid)
        if person.cover_face_id in face_ids:
            person.cover_face_id = None
        left = session.scalar(select(Face.id).where(Face.person_id == pid).limit(1))
        if person.name is None and left is None:
            _delete_person(session, rec, pid)


def _delete_person(session: Session, rec: Recorder, person_id: int) -> None:
    rec.deleting(person_id)
    session.flush()
    session.execute(delete(FaceRejection).where(FaceRejection.person_id == person_id))
    session.execute(delete(Person).where(Person.id == person_id))
    session.expire_all()
