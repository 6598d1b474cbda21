"""Suggestions: "this unnamed cluster / unsorted face is probably <named person>" to confirm,
and the same counted per person as offers ("12 more photos may be Anna"): how naming, and a
retrained model that knows the named people better, raise recall without grouping strangers in.

A unit's score for a person is the average cosine between the unit's faces and the person's
faces (the clustering criterion), read off mean vectors. Never proposed: a person any face
of the unit rejected, or a person already in one of the unit's photos (cannot-link).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from album.library.schema import Person
from album.people.assign import FaceTable, person_means, rejections_by_face
from album.people.types import Offer, Suggestion
from album.search.index import VectorIndex


def suggestions(
    session: Session, index: VectorIndex, floor: float, limit: int | None = 50
) -> list[Suggestion]:
    """Best named person per unnamed cluster and per unsorted face, scores >= floor, best first."""
    named_rows = session.execute(select(Person.id, Person.name).where(Person.name.is_not(None)))
    names = {pid: name for pid, name in named_rows}
    table = FaceTable.load(session, index)
    pids, means = person_means(index, table)
    named = np.isin(pids, list(names))
    if not named.any():
        return []
    named_ids, named_means = pids[named], means[named]
    units = _units(index, table, pids[~named], means[~named])
    if not units:
        return []
    scores = np.stack([vector for _, _, vector in units]) @ named_means.T
    blocked = _blocked(session, table, named_ids)
    found = []
    for (source, rows, _), row_scores in zip(units, scores, strict=True):
        for col in np.argsort(-row_scores).tolist():
            if row_scores[col] < floor:
                break
            if not any(int(named_ids[col]) in blocked.get(r, ()) for r in rows):
                pid = int(named_ids[col])
                faces = tuple(int(table.ids[r]) for r in rows)
                found.append(Suggestion(faces, pid, names[pid], float(row_scores[col]), source))
                break
    found.sort(key=lambda s: (-s.similarity, s.face_ids))
    return found if limit is None else found[:limit]


def _units(
    index: VectorIndex, table: FaceTable, cluster_ids: np.ndarray, cluster_means: np.ndarray
) -> list:
    """(source person or None, table rows, mean vector) for each unnamed cluster and unsorted face."""
    units = [
        (int(pid), np.flatnonzero(table.people == pid).tolist(), mean)
        for pid, mean in zip(cluster_ids.tolist(), cluster_means, strict=True)
    ]
    loose = np.flatnonzero(table.people == 0).tolist()
    return units + [(None, [r], index.vectors[table.rows[r]]) for r in loose]


def _blocked(session: Session, table: FaceTable, named_ids: np.ndarray) -> dict[int, set[int]]:
    """Per table row, the named people it may not be proposed for."""
    by_face = rejections_by_face(session)
    named = set(named_ids.tolist())
    in_photo: dict[int, set[int]] = {}
    for photo, pid in zip(table.photos.tolist(), table.people.tolist(), strict=True):
        if pid in named:
            in_photo.setdefault(photo, set()).add(pid)
    return {
        row: by_face.get(fid, set()) | in_photo.get(photo, set())
        for row, (fid, photo) in enumerate(
            zip(table.ids.tolist(), table.photos.tolist(), strict=True)
        )
    }


def offers(found: list[Suggestion]) -> list[Offer]:
    """`found` counted per named person, most faces first."""
    faces: dict[int, set[int]] = {}
    count: dict[int, int] = {}
    names: dict[int, str] = {}
    for suggestion in found:
        faces.setdefault(suggestion.person_id, set()).update(suggestion.face_ids)
        count[suggestion.person_id] = count.get(suggestion.person_id, 0) + 1
        names[suggestion.person_id] = suggestion.person_name
    found_offers = [Offer(pid, names[pid], len(faces[pid]), count[pid]) for pid in faces]
    return sorted(found_offers, key=lambda o: (-o.faces, o.person_name, o.person_id))
