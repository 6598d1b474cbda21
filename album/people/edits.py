"""The undo log: every user decision is one `Edit` row holding the before-state it overwrote.

An edit names the faces and people it may touch *before* changing them (`Recorder.capture`);
the recorder snapshots their person/decision, the people rows and every rejection involving
them. Undo writes the snapshot back, recreates deleted people with their ids, and deletes
people the edit created. Edits undo in reverse order (`undo` takes the latest not undone).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from album.library.clock import now
from album.library.schema import Decision, Edit, Face, FaceRejection, Person
from album.people.types import ChangeSet


class Recorder:
    """Collects the before-state of one edit; `finish` writes the `Edit` row."""

    def __init__(self, session: Session, action: str, logged: bool = True) -> None:
        self.session = session
        self.action = action
        self.logged = logged  # False: automatic work (scan-time regrouping), not in the undo log
        self.faces: dict[int, list] = {}
        self.people: dict[int, dict | None] = {}
        self.rejections: set[tuple[int, int]] = set()
        self.removed: set[int] = set()
        self.created_ids: set[int] = set()

    def capture(self, face_ids: Iterable[int] = (), person_ids: Iterable[int] = ()) -> None:
        """Snapshot these faces and people unless already captured (first state wins)."""
        self.session.flush()
        new_faces = [int(f) for f in face_ids if int(f) not in self.faces]
        new_people = [int(p) for p in person_ids if p is not None and int(p) not in self.people]
        for chunk in chunked(new_faces):
            for fid, pid, decision in self.session.execute(
                select(Face.id, Face.person_id, Face.decision).where(Face.id.in_(chunk))
            ):
                self.faces[fid] = [pid, str(decision)]
        for chunk in chunked(new_people):
            rows = {
                p.id: _person_row(p)
                for p in self.session.scalars(select(Person).where(Person.id.in_(chunk)))
            }
            for pid in chunk:
                self.people[pid] = rows.get(pid)
        self._capture_rejections(new_faces, new_people)

    def _capture_rejections(self, face_ids: list[int], person_ids: list[int]) -> None:
        pair = select(FaceRejection.face_id, FaceRejection.person_id)
        for column, ids in (
            (FaceRejection.face_id, face_ids),
            (FaceRejection.person_id, person_ids),
        ):
            for chunk in chunked(ids):
                self.rejections |= {
                    (f, p) for f, p in self.session.execute(pair.where(column.in_(chunk)))
                }

    def created(self, person_id: int) -> None:
        """A person this edit made: it did not exist before, so undo deletes it."""
        self.people.setdefault(person_id, None)
        self.created_ids.add(person_id)

    def deleting(self, person_id: int) -> None:
        self.capture(person_ids=[person_id])
        self.removed.add(person_id)

    def finish(self, detail: dict | None = None, touched: set[int] | None = None) -> ChangeSet:
        """Write the edit. The change set names every captured person, or only `touched` ones
        (a re-cluster captures all unnamed people for undo but changes few)."""
        payload = {
            "faces": [[fid, *state] for fid, state in self.faces.items()],
            "people": {str(pid): row for pid, row in self.people.items()},
            "rejections": sorted(self.rejections),
            "detail": detail or {},
        }
        edit_id = None
        if self.logged:
            edit = Edit(created_at=now(), action=self.action, payload=payload, undone=False)
            self.session.add(edit)
            self.session.flush()
            edit_id = edit.id
        return ChangeSet(
            edit_id=edit_id,
            person_ids=frozenset(self.people if touched is None else touched) - self.removed,
            removed_person_ids=frozenset(self.removed),
            face_ids=frozenset(self.faces),
        )


def _person_row(person: Person) -> dict:
    return {
        "name": person.name,
        "hidden": person.hidden,
        "cover_face_id": person.cover_face_id,
        "created_at": person.created_at.isoformat(),
    }


def chunked(ids: list[int], size: int = 900) -> Iterable[list[int]]:
    """SQLite caps bound parameters per statement; IN lists go in chunks."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def latest_edit(session: Session) -> Edit | None:
    return session.scalar(
        select(Edit).where(Edit.undone.is_(False)).order_by(Edit.id.desc()).limit(1)
    )


def undo_edit(session: Session, edit: Edit) -> ChangeSet:
    """Write back the edit's before-state and mark it undone."""
    payload = edit.payload
    people = {int(pid): row for pid, row in payload["people"].items()}
    faces = {int(f[0]): (f[1], f[2]) for f in payload["faces"]}
    existing = _existing(session, Person.id, people)
    for pid, row in people.items():
        if row is not None:
            _restore_person(session, pid, row, pid in existing)
    session.flush()
    live = _existing(session, Face.id, faces)
    rows = [
        {"id": f, "person_id": p, "decision": Decision(d)}
        for f, (p, d) in faces.items()
        if f in live
    ]
    if rows:
        session.execute(update(Face), rows)  # one executemany, by primary key
    _restore_rejections(session, list(faces), list(people), payload["rejections"])
    created = [pid for pid, row in people.items() if row is None and pid in existing]
    _delete_people(session, created)
    edit.undone = True
    session.flush()
    return ChangeSet(
        edit_id=edit.id,
        person_ids=frozenset(p for p, row in people.items() if row is not None),
        removed_person_ids=frozenset(created),
        face_ids=frozenset(faces),
    )


def _existing(session: Session, column, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunked(list(ids)):
        found |= set(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _restore_person(session: Session, pid: int, row: dict, exists: bool) -> None:
    cover = row["cover_face_id"]
    values = {
        "name": row["name"],
        "hidden": row["hidden"],
        "cover_face_id": cover if cover is None or _existing(session, Face.id, [cover]) else None,
        "created_at": datetime.fromisoformat(row["created_at"]),
    }
    if exists:
        session.execute(update(Person).where(Person.id == pid).values(**values))
    else:
        session.add(Person(id=pid, **values))


def _restore_rejections(
    session: Session, face_ids: list[int], person_ids: list[int], before: list
) -> None:
    for chunk in chunked(face_ids):
        session.execute(delete(FaceRejection).where(FaceRejection.face_id.in_(chunk)))
    for chunk in chunked(person_ids):
        session.execute(delete(FaceRejection).where(FaceRejection.person_id.in_(chunk)))
    live_faces = _existing(session, Face.id, {f for f, _ in before})
    live_people = _existing(session, Person.id, {p for _, p in before})
    stamp = now()
    for fid, pid in before:
        if fid in live_faces and pid in live_people:
            session.add(FaceRejection(face_id=fid, person_id=pid, created_at=stamp))


def _delete_people(session: Session, person_ids: list[int]) -> None:
    """Delete people; faces still pointing at them (added since) go back to unsorted."""
    for chunk in chunked(person_ids):
        session.execute(
            update(Face)
            .where(Face.person_id.in_(chunk))
            .values(person_id=None, decision=Decision.NONE)
        )
        session.execute(delete(FaceRejection).where(FaceRejection.person_id.in_(chunk)))
        session.execute(delete(Person).where(Person.id.in_(chunk)))
