"""Split proposal: a person who holds several people, sub-grouped by similarity.

"These 12 look like one person, these 13 like another": the person's faces are clustered on
their own (`album.people.cluster`, average link, a group never holds two faces of one photo) at
the model's same-person threshold, stricter than the grouping threshold that put them together.
Strict clustering also chips a face or two off a real person; such crumbs (groups smaller than
`MIN_GROUP`) then join the group they are most like when their average cosine to it clears the
looser grouping threshold, and stay on their own otherwise. On faces-dev (default model), three
people merged into one (28-35 faces; 3 such merges tried) came back as three pure groups, every
face with its own person, plus in one case a 2-face group of one of them.
Confirmed faces are not anchored here: a mixed person usually has confirmed faces of each of
its people (naming confirms every face shown). Nothing is written: the user splits a group off
with `People.split(face_ids, name)` (one edit, one undo), or moves it to someone with `move`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from album.people.cluster import cluster
from album.people.types import FaceInfo
from album.search.index import VectorIndex

NEIGHBOURS = 30
MIN_GROUP = 3


@dataclass(frozen=True)
class SubGroup:
    """Faces that look like one person; `cohesion`: their mean pairwise cosine (1 for one face)."""

    face_ids: tuple[int, ...]
    cohesion: float


def propose_split(
    faces: list[FaceInfo], index: VectorIndex, threshold: float, attach: float | None = None
) -> list[SubGroup]:
    """Sub-groups of `faces`, largest first; every face with an embedding is in exactly one.

    One group back means the faces look like one person at `threshold`. Crumbs join a group
    at average cosine >= `attach` (default: `threshold`).
    """
    rows = [(f, index.vector(f.id)) for f in faces]
    rows = [(f, v) for f, v in rows if v is not None]
    if not rows:
        return []
    vectors = np.stack([v for _, v in rows]).astype(np.float32)
    photos = np.array([f.photo_id for f, _ in rows], np.int64)
    k = max(1, min(NEIGHBOURS, len(rows) - 1))
    labels = cluster(vectors, photos, threshold, min_size=1, k=k).labels
    members = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    members = _attach_crumbs(members, vectors, photos, threshold if attach is None else attach)
    groups = [SubGroup(tuple(rows[i][0].id for i in m), _cohesion(vectors[m])) for m in members]
    groups.sort(key=lambda g: (-len(g.face_ids), -g.cohesion, g.face_ids))
    return groups


def _attach_crumbs(
    members: list[np.ndarray], vectors: np.ndarray, photos: np.ndarray, attach: float
) -> list[np.ndarray]:
    """Each group smaller than MIN_GROUP joins the big group it is most like (average cosine
    >= attach, no photo in common), if any."""
    big = [m for m in members if len(m) >= MIN_GROUP]
    crumbs = [m for m in members if len(m) < MIN_GROUP]
    if not big:
        return members
    totals = np.stack([vectors[m].sum(axis=0) for m in big])
    kept = []
    for crumb in crumbs:
        mean = (vectors[crumb].sum(axis=0) @ totals.T) / (
            len(crumb) * np.array([len(m) for m in big])
        )
        best = int(np.argmax(mean))
        clash = np.intersect1d(photos[crumb], photos[big[best]]).size > 0
        if mean[best] >= attach and not clash:
            big[best] = np.concatenate([big[best], crumb])
        else:
            kept.append(crumb)
    return big + kept


def _cohesion(vectors: np.ndarray) -> float:
    """Mean pairwise cosine of unit vectors (1 for a single face)."""
    n = len(vectors)
    if n < 2:
        return 1.0
    total = vectors.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))
