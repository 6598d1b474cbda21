"""Automatic placement: the full re-cluster and the incremental assignment of new faces.

Neither ever overrides the user: confirmed faces anchor their person, not-a-face faces are
left out, rejections are constraints. Only AUTO/NONE faces move. Both use one criterion, the
average cosine between a face (or group) and a person's faces, so a rescan places new faces
where a full re-cluster would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from album.library.clock import now
from album.library.schema import Decision, Face, FaceRejection, Person
from album.people.cluster import FREE, cluster
from album.people.edits import Recorder
from album.people.types import ChangeSet
from album.search.index import VectorIndex


@dataclass
class FaceTable:
    """The clusterable faces (embedded for the model, not marked not-a-face), as arrays."""

    ids: np.ndarray
    photos: np.ndarray
    people: np.ndarray  # person id or 0
    confirmed: np.ndarray  # bool
    rows: np.ndarray  # row of each face in the index

    @classmethod
    def load(cls, session: Session, index: VectorIndex) -> FaceTable:
        query = select(Face.id, Face.photo_id, Face.person_id, Face.decision).where(
            Face.decision != Decision.NOT_FACE
        )
        found = session.execute(query).all()
        columns = np.array(
            [(r[0], r[1], r[2] or 0, r[3] == Decision.CONFIRMED) for r in found], np.int64
        )
        columns = columns.reshape(-1, 4)
        rows = index.rows_of(columns[:, 0])
        keep = rows >= 0
        ids, photos, people, confirmed = columns[keep].T
        return cls(
            ids=ids, photos=photos, people=people, confirmed=confirmed.astype(bool), rows=rows[keep]
        )


def rejections_by_face(session: Session) -> dict[int, set[int]]:
    rejected: dict[int, set[int]] = {}
    for face_id, person_id in session.execute(
        select(FaceRejection.face_id, FaceRejection.person_id)
    ):
        rejected.setdefault(face_id, set()).add(person_id)
    return rejected


def recluster(
    session: Session,
    index: VectorIndex,
    threshold: float,
    min_size: int,
    k: int,
    logged: bool = True,
) -> ChangeSet:
    """Re-cluster every clusterable face; one undoable edit (`logged`; automatic regrouping
    during a scan is not). Unnamed clusters keep their ids where they keep most of their
    faces; unnamed people left empty are deleted."""
    table = FaceTable.load(session, index)
    by_face = rejections_by_face(session)
    rejected = {r: by_face[f] for r, f in enumerate(table.ids.tolist()) if f in by_face}
    anchors = np.where(table.confirmed, table.people, FREE)
    result = cluster(
        index.vectors[table.rows], table.photos, threshold, min_size, k, anchors, rejected
    )
    rec = Recorder(session, "recluster", logged)
    stale = set(session.scalars(select(Person.id).where(Person.name.is_(None))))
    rec.capture(person_ids=stale)
    person_of_label = _label_people(session, table, result.labels, result.anchor_of, rec)
    target = np.array([person_of_label.get(label, 0) for label in result.labels.tolist()], np.int64)
    for row, people in rejected.items():  # a kept unnamed id must not take back its rejects
        if target[row] in people:
            target[row] = 0
    changed = ~table.confirmed & (target != table.people)
    rec.capture(table.ids[changed].tolist())
    _write_auto(session, table.ids[changed], target[changed])
    _drop_empty_unnamed(session, rec, stale)
    touched = set(table.people[changed].tolist()) | set(target[changed].tolist()) | rec.created_ids
    return rec.finish(
        {"threshold": threshold, "min_size": min_size, "clusters": len(result.anchor_of)},
        touched=touched - {0},
    )


def _label_people(
    session: Session, table: FaceTable, labels: np.ndarray, anchor_of: dict[int, int], rec: Recorder
) -> dict[int, int]:
    """Person id per cluster label: its anchor, else the unnamed person holding most of it, else new."""
    mapping = {label: pid for label, pid in anchor_of.items() if pid != FREE}
    unnamed = set(session.scalars(select(Person.id).where(Person.name.is_(None)))) - set(
        mapping.values()
    )
    votes: list[tuple[int, int, int]] = []
    for label in anchor_of:
        if label in mapping:
            continue
        members = table.people[(labels == label) & ~table.confirmed]
        pids, counts = np.unique(members[np.isin(members, list(unnamed))], return_counts=True)
        votes += [(-int(c), label, int(p)) for p, c in zip(pids, counts, strict=True)]
    for _, label, pid in sorted(votes):
        if label not in mapping and pid in unnamed:
            mapping[label] = pid
            unnamed.discard(pid)
    for label in anchor_of:
        if label not in mapping:
            person = Person(name=None, hidden=False, created_at=now())
            session.add(person)
            session.flush()
            rec.created(person.id)
            mapping[label] = person.id
    return mapping


def _drop_empty_unnamed(session: Session, rec: Recorder, person_ids: set[int]) -> None:
    session.flush()
    used = set(
        session.scalars(select(Face.person_id).where(Face.person_id.is_not(None)).distinct())
    )
    for pid in sorted(person_ids - used):
        person = session.get(Person, pid)
        if person is not None and person.name is None:
            rec.deleting(pid)
            session.delete(person)
    session.flush()


def person_means(index: VectorIndex, table: FaceTable) -> tuple[np.ndarray, np.ndarray]:
    """(person ids, mean unit vector of each person's faces): mean·f is f's average cosine to them."""
    assigned = np.flatnonzero(table.people > 0)
    order = assigned[np.argsort(table.people[assigned], kind="stable")]
    people = table.people[order]
    if not len(people):
        return people, np.zeros((0, index.dim), np.float32)
    starts = np.r_[0, np.flatnonzero(np.diff(people)) + 1]
    sums = np.add.reduceat(index.vectors[table.rows[order]], starts, axis=0)
    counts = np.diff(np.r_[starts, len(people)])
    return people[starts], (sums / counts[:, None]).astype(np.float32)


def assign_new(
    session: Session, index: VectorIndex, face_ids: list[int] | None, threshold: float
) -> ChangeSet:
    """Put unsorted faces (these, or all) into the existing person they match on average.

    Not a user decision, so not an edit: faces become AUTO, and a re-cluster may revise them.
    """
    table = FaceTable.load(session, index)
    pids, means = person_means(index, table)
    free = (table.people == 0) & ~table.confirmed
    if face_ids is not None:
        free &= np.isin(table.ids, np.asarray(face_ids, np.int64))
    if not free.any() or not len(pids):
        return ChangeSet()
    scores = index.vectors[table.rows[free]] @ means.T
    _mask_constraints(session, scores, table, free, pids)
    placed = _greedy_per_photo(scores, table.photos[free], threshold)
    ids = table.ids[free][list(placed)]
    chosen = pids[list(placed.values())]
    _write_auto(session, ids, chosen)
    return ChangeSet(person_ids=frozenset(chosen.tolist()), face_ids=frozenset(ids.tolist()))


def _write_auto(session: Session, face_ids: np.ndarray, person_ids: np.ndarray) -> None:
    """One executemany: each face to its person as AUTO (person 0: back to unsorted)."""
    rows = [
        {"id": f, "person_id": p or None, "decision": Decision.AUTO if p else Decision.NONE}
        for f, p in zip(face_ids.tolist(), person_ids.tolist(), strict=True)
    ]
    if rows:
        session.execute(update(Face), rows)


def _mask_constraints(
    session: Session, scores: np.ndarray, table: FaceTable, free: np.ndarray, pids: np.ndarray
) -> None:
    """-inf where a face rejected the person or its photo already holds a face of them."""
    column = {int(p): c for c, p in enumerate(pids.tolist())}
    rejected = rejections_by_face(session)
    in_photo: dict[int, set[int]] = {}
    shared = np.isin(table.photos, table.photos[free]) & (table.people > 0)  # only these photos
    for photo, pid in zip(
        table.photos[shared].tolist(), table.people[shared].tolist(), strict=True
    ):
        in_photo.setdefault(photo, set()).add(pid)
    for slot, (fid, photo) in enumerate(
        zip(table.ids[free].tolist(), table.photos[free].tolist(), strict=True)
    ):
        for pid in rejected.get(fid, set()) | in_photo.get(photo, set()):
            if pid in column:
                scores[slot, column[pid]] = -np.inf


def _greedy_per_photo(scores: np.ndarray, photos: np.ndarray, threshold: float) -> dict[int, int]:
    """Best person per face above threshold; two faces of one photo never share a person."""
    placed: dict[int, int] = {}
    taken: set[tuple[int, int]] = set()
    best = scores.argmax(axis=1) if scores.shape[1] else np.zeros(0, int)
    order = np.argsort(-scores[np.arange(len(scores)), best])
    for slot in order.tolist():
        for col in np.argsort(-scores[slot]).tolist():
            if scores[slot, col] < threshold:
                break
            if (int(photos[slot]), col) not in taken:
                placed[slot] = col
                taken.add((int(photos[slot]), col))
                break
    return placed


def cluster_unsorted(
    session: Session, index: VectorIndex, threshold: float, min_size: int, k: int
) -> ChangeSet:
    """Group the unsorted faces among themselves into new unnamed people, touching nobody else.

    With `assign_new`, this is the incremental path after a scan: cost grows with the unsorted
    faces only, and no existing person changes. Not an edit (automatic, like `assign_new`).
    """
    table = FaceTable.load(session, index)
    loose = np.flatnonzero((table.people == 0) & ~table.confirmed)
    by_face = rejections_by_face(session)
    rejected = {
        r: by_face[int(table.ids[f])]
        for r, f in enumerate(loose.tolist())
        if int(table.ids[f]) in by_face
    }
    result = cluster(
        index.vectors[table.rows[loose]],
        table.photos[loose],
        threshold,
        min_size,
        k,
        rejected=rejected,
    )
    if not result.anchor_of:
        return ChangeSet()
    people = [Person(name=None, hidden=False, created_at=now()) for _ in result.anchor_of]
    session.add_all(people)
    session.flush()
    grouped = result.labels >= 0
    person_ids = np.array([p.id for p in people], np.int64)[result.labels[grouped]]
    _write_auto(session, table.ids[loose][grouped], person_ids)
    return ChangeSet(
        person_ids=frozenset(p.id for p in people),
        face_ids=frozenset(table.ids[loose][grouped].tolist()),
    )
