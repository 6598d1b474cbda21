"""A model's groups, kept while another model is in use and given back exactly on return.

Groups are a model's work: the faces it placed (AUTO) and the unnamed people it formed, in its
own geometry. When the library switches away from a model, `save_groups` records where that
model left every face the user has not decided, and its unnamed people's rows. Switching back,
`restore_groups` puts those faces back and replays what the user decided since, which the live
rows already hold:
- confirmed and not-a-face faces are never touched (a name, a move, a merge confirmed them);
- a face rejected for its old person since stays unsorted, and so does an automatic face whose
  photo now holds a confirmed face of that person (as `decisions.move` makes way);
- a person merged away since hands its faces to the person it joined (the `merge` edits);
- an unnamed person the other model's regrouping deleted comes back with its id;
- unnamed people the other model formed are deleted once nothing is left in them;
- faces the saved grouping never saw (scanned since) are returned for the caller to place.
Both run in the caller's transaction, so a switch is one commit: a kill leaves either model's
groups whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from album.library.clock import now
from album.library.schema import (
    Decision,
    Edit,
    Face,
    FaceRejection,
    Person,
    SavedGrouping,
    SavedPlacement,
)
from album.people.edits import chunked

UNDECIDED = (Decision.AUTO, Decision.NONE)


@dataclass(frozen=True)
class Restored:
    """What `restore_groups` did: faces whose person or decision changed, faces to place (not
    in the saved grouping), and the grouped-faces count the model had."""

    changed: frozenset[int]
    unplaced: list[int]
    grouped_faces: int


def has_saved_groups(session: Session, model_id: int) -> bool:
    return session.get(SavedGrouping, model_id) is not None


def save_groups(session: Session, model_id: int, grouped_faces: int) -> None:
    """Record the live placement as `model_id`'s groups (replacing any saved before)."""
    drop_saved_groups(session, model_id)
    unnamed = session.scalars(select(Person).where(Person.name.is_(None)))
    session.add(
        SavedGrouping(
            model_id=model_id,
            saved_at=now(),
            last_edit_id=session.scalar(select(func.max(Edit.id))),
            grouped_faces=int(grouped_faces),
            people={str(p.id): _person_row(p) for p in unnamed},
        )
    )
    session.flush()
    faces = select(literal(model_id), Face.id, Face.person_id).where(Face.decision.in_(UNDECIDED))
    session.execute(insert(SavedPlacement).from_select(["model_id", "face_id", "person_id"], faces))


def drop_saved_groups(session: Session, model_id: int) -> None:
    session.execute(delete(SavedPlacement).where(SavedPlacement.model_id == model_id))
    session.execute(delete(SavedGrouping).where(SavedGrouping.model_id == model_id))


def restore_groups(session: Session, model_id: int) -> Restored | None:
    """Give `model_id`'s saved groups back (see the module), then forget them; None when it
    has none (a model never used here, or used before groups were saved)."""
    saved = session.get(SavedGrouping, model_id)
    if saved is None:
        return None
    people = {int(pid): row for pid, row in saved.people.items()}
    placements = dict(
        session.execute(
            select(SavedPlacement.face_id, SavedPlacement.person_id).where(
                SavedPlacement.model_id == model_id
            )
        ).all()
    )
    grouped, after = saved.grouped_faces, saved.last_edit_id
    drop_saved_groups(session, model_id)
    faces = _live_faces(session)
    existing = set(session.scalars(select(Person.id)))
    joined = _merged_into(session, after)
    target = {
        fid: _follow(pid, joined, existing, people)
        for fid, (_, decision, _) in faces.items()
        if decision in UNDECIDED and fid in placements
        for pid in [placements[fid]]
    }
    _drop_conflicts(session, target, faces)
    _recreate(session, {p for p in target.values() if p} - existing, people)
    unplaced = [f for f, (_, d, _) in faces.items() if d in UNDECIDED and f not in placements]
    changed = _write(session, target, faces, unplaced)
    _drop_empty_unnamed(session)
    _restore_covers(session, people)
    return Restored(frozenset(changed), sorted(unplaced), grouped)


def _live_faces(session: Session) -> dict[int, tuple[int | None, Decision, int]]:
    """Every face: (person id, decision, photo id)."""
    query = select(Face.id, Face.person_id, Face.decision, Face.photo_id)
    return {fid: (pid, Decision(d), photo) for fid, pid, d, photo in session.execute(query)}


def _merged_into(session: Session, after: int | None) -> dict[int, int]:
    """person id -> the person it was merged into, by the merges since edit `after` not undone."""
    query = select(Edit.payload).where(Edit.action == "merge", Edit.undone.is_(False))
    if after is not None:
        query = query.where(Edit.id > after)
    joined: dict[int, int] = {}
    for payload in session.scalars(query.order_by(Edit.id)):
        detail = payload.get("detail", {})
        for other in detail.get("others", []):
            joined[int(other)] = int(detail["keep"])
    return joined


def _follow(
    pid: int | None, joined: dict[int, int], existing: set[int], people: dict[int, dict]
) -> int | None:
    """Where a saved person's faces go now: itself if it exists or can be recreated (an unnamed
    person a regrouping deleted), else the person it was merged into, else unsorted (None)."""
    seen: set[int] = set()
    while pid is not None and pid not in seen:
        seen.add(pid)
        if pid in joined and pid not in existing:
            pid = joined[pid]
        elif pid in existing or pid in people:
            return pid
        else:
            return None
    return None


def _drop_conflicts(
    session: Session,
    target: dict[int, int | None],
    faces: dict[int, tuple[int | None, Decision, int]],
) -> None:
    """Unsorted instead, for a face rejected for its target since, or whose photo holds a
    confirmed face of it (or an earlier face restored into it: one face per photo and person)."""
    rejected = set(session.execute(select(FaceRejection.face_id, FaceRejection.person_id)).all())
    taken = {(photo, pid) for pid, d, photo in faces.values() if d == Decision.CONFIRMED and pid}
    for fid in sorted(target):
        pid = target[fid]
        if pid is None:
            continue
        key = (faces[fid][2], pid)
        if (fid, pid) in rejected or key in taken:
            target[fid] = None
        else:
            taken.add(key)


def _recreate(session: Session, person_ids: Iterable[int], people: dict[int, dict]) -> None:
    """Unnamed people of the saved grouping that a regrouping deleted, with their ids."""
    for pid in sorted(person_ids):
        row = people[pid]
        session.add(
            Person(
                id=pid,
                name=None,
                hidden=row["hidden"],
                cover_face_id=None,
                created_at=datetime.fromisoformat(row["created_at"]),
            )
        )
    session.flush()


def _write(
    session: Session,
    target: dict[int, int | None],
    faces: dict[int, tuple[int | None, Decision, int]],
    unplaced: list[int],
) -> list[int]:
    """Faces to their target (AUTO, or unsorted), faces to place to unsorted; the changed ids."""
    wanted = {fid: (pid, Decision.AUTO if pid else Decision.NONE) for fid, pid in target.items()}
    wanted.update({fid: (None, Decision.NONE) for fid in unplaced})
    rows = [
        {"id": fid, "person_id": pid, "decision": decision}
        for fid, (pid, decision) in wanted.items()
        if faces[fid][:2] != (pid, decision)
    ]
    if rows:
        session.execute(update(Face), rows)
    return [row["id"] for row in rows]


def _drop_empty_unnamed(session: Session) -> None:
    """Unnamed people left without a face (those the other model formed)."""
    session.flush()
    used = select(Face.person_id).where(Face.person_id.is_not(None)).distinct()
    empty = list(
        session.scalars(select(Person.id).where(Person.name.is_(None), ~Person.id.in_(used)))
    )
    for chunk in chunked(empty):
        session.execute(delete(Person).where(Person.id.in_(chunk)))


def _restore_covers(session: Session, people: dict[int, dict]) -> None:
    """A saved unnamed person shows its saved cover again when that face is back in it; a cover
    that left its person is cleared (the default cover applies)."""
    rows = session.execute(
        select(Person.id, Person.cover_face_id, Face.person_id).outerjoin(
            Face, Face.id == Person.cover_face_id
        )
    ).all()
    saved_covers = {pid: row["cover_face_id"] for pid, row in people.items()}
    homes = _homes(session, [c for c in saved_covers.values() if c])
    for pid, cover, home in rows:
        saved = saved_covers.get(pid)
        if saved and homes.get(saved) == pid and cover != saved and (cover is None or home != pid):
            session.execute(update(Person).where(Person.id == pid).values(cover_face_id=saved))
        elif cover is not None and home != pid:
            session.execute(update(Person).where(Person.id == pid).values(cover_face_id=None))


def _homes(session: Session, face_ids: list[int]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    for chunk in chunked(face_ids):
        found.update(session.execute(select(Face.id, Face.person_id).where(Face.id.in_(chunk))))
    return found


def _person_row(person: Person) -> dict:
    return {
        "hidden": person.hidden,
        "cover_face_id": person.cover_face_id,
        "created_at": person.created_at.isoformat(),
    }
