"""Constrained average-link clustering on the thresholded k-NN graph (pure numpy; no database).

Why average link: single link (and DBSCAN, and connected components of a threshold graph)
chain different people through one look-alike pair; average link merges two groups only when
their *mean* pairwise similarity clears the threshold, which a lone bridge cannot do.
For unit vectors the mean pairwise cosine of groups A and B is `sum(A)·sum(B) / (|A||B|)`, so
each group is a running sum and a merge costs one dot product per neighbouring group.
Candidate pairs come from the k-NN graph, so the work stays near-linear in the face count.
Measured against alternatives on faces-dev in `bench/bench_cluster_quality.py`.

Constraints, checked at every merge:
- cannot-link: a group never holds two faces of one photo;
- must-link: faces confirmed for one person start as one group, and two groups anchored to
  different people never merge;
- rejections: a group holding a face the user said is not person P never joins P's group.
  Faces with a rejection join groups last, so one wrong face cannot pull its look-alikes
  away from the person they belong to.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from album.search.graph import knn_graph

FREE = -1  # `anchors` value of a face not confirmed for anyone


@dataclass
class _Group:
    total: np.ndarray  # sum of member vectors
    members: list[int]
    photos: set[int]
    anchor: int  # person id, or FREE
    rejected: set[int]
    neighbours: set[int] = field(default_factory=set)
    version: int = 0


@dataclass(frozen=True)
class Clustering:
    """labels[i]: group number of row i, or -1 (unsorted); anchor_of[label]: person id or FREE."""

    labels: np.ndarray
    anchor_of: dict[int, int]


def cluster(
    vectors: np.ndarray,
    photo_ids: np.ndarray,
    threshold: float,
    min_size: int = 3,
    k: int = 30,
    anchors: np.ndarray | None = None,
    rejected: dict[int, set[int]] | None = None,
) -> Clustering:
    """Group unit `vectors` whose average pairwise cosine is >= `threshold`.

    `anchors[i]` is the person row i is confirmed for (or FREE); `rejected[i]` the people row i
    must never join. Free groups smaller than `min_size` come back unsorted (-1); anchored
    groups are kept whatever their size.
    """
    n = len(vectors)
    anchors = np.full(n, FREE, np.int64) if anchors is None else np.asarray(anchors)
    rejected = rejected or {}
    groups, group_of = _initial_groups(vectors, photo_ids, anchors, rejected)
    heap = _link_graph(vectors, groups, group_of, k, threshold)
    late = {int(group_of[r]) for r in rejected if anchors[r] == FREE}
    _agglomerate(groups, heap, threshold, late)
    for gid in late:  # then the faces the user rejected somewhere, one by one
        if gid in groups:
            _push_links(groups, gid, list(groups[gid].neighbours), heap, threshold)
    _agglomerate(groups, heap, threshold, set())
    return _labels(groups, n, min_size)


def _initial_groups(vectors, photo_ids, anchors, rejected) -> tuple[dict[int, _Group], np.ndarray]:
    """One group per free face and one per anchored person (must-link)."""
    groups: dict[int, _Group] = {}
    group_of = np.empty(len(vectors), np.int64)
    by_person: dict[int, int] = {}
    for row in range(len(vectors)):
        person = int(anchors[row])
        gid = by_person.setdefault(person, row) if person != FREE else row
        group = groups.get(gid)
        if group is None:
            group = groups[gid] = _Group(np.zeros(vectors.shape[1]), [], set(), person, set())
        group.total = group.total + vectors[row]
        group.members.append(row)
        group.photos.add(int(photo_ids[row]))
        group.rejected |= rejected.get(row, set())
        group_of[row] = gid
    return groups, group_of


def _link_graph(vectors, groups, group_of, k, threshold) -> list:
    """Neighbour sets from the k-NN graph, and the heap of candidate merges with their linkage."""
    heads, tails, _ = knn_graph(vectors, k, threshold)
    for a, b in zip(group_of[heads].tolist(), group_of[tails].tolist(), strict=True):
        if a != b:
            groups[a].neighbours.add(b)
            groups[b].neighbours.add(a)
    heap: list = []
    for gid, group in groups.items():
        _push_links(groups, gid, [n for n in group.neighbours if n > gid], heap, threshold)
    return heap


def _push_links(
    groups: dict[int, _Group], gid: int, others: list[int], heap: list, threshold: float
) -> None:
    """Push (gid, other) with their average-link similarity, for each neighbouring group that
    could merge (pairs under the threshold never will, so they stay out of the heap)."""
    group = groups[gid]
    total, size = group.total, len(group.members)
    for other in others:
        peer = groups[other]
        link = float(total @ peer.total) / (size * len(peer.members))
        if link >= threshold:
            heapq.heappush(heap, (-link, gid, other, group.version, peer.version))


def _compatible(a: _Group, b: _Group) -> bool:
    if a.anchor != FREE and b.anchor != FREE and a.anchor != b.anchor:
        return False
    if a.anchor in b.rejected or b.anchor in a.rejected:
        return False
    small, large = sorted((a.photos, b.photos), key=len)
    return small.isdisjoint(large)


def _agglomerate(groups: dict[int, _Group], heap: list, threshold: float, late: set[int]) -> None:
    """Merge best pairs first (the heap holds only pairs above the threshold); pairs touching
    `late` groups are dropped here and pushed again by the caller afterwards."""
    while heap:
        _, a, b, version_a, version_b = heapq.heappop(heap)
        if a in late or b in late:
            continue
        ga, gb = groups.get(a), groups.get(b)
        if ga is None or gb is None or ga.version != version_a or gb.version != version_b:
            continue  # stale: one side merged since this entry was pushed
        if not _compatible(ga, gb):
            continue
        if len(ga.members) < len(gb.members):
            a, b, ga, gb = b, a, gb, ga
        _merge(groups, a, b)
        _push_links(groups, a, list(ga.neighbours), heap, threshold)


def _merge(groups: dict[int, _Group], a: int, b: int) -> None:
    ga, gb = groups[a], groups.pop(b)
    ga.total = ga.total + gb.total
    ga.members.extend(gb.members)
    ga.photos |= gb.photos
    ga.rejected |= gb.rejected
    ga.anchor = ga.anchor if ga.anchor != FREE else gb.anchor
    ga.version += 1
    for other in gb.neighbours:
        if other != a:
            groups[other].neighbours.discard(b)
            groups[other].neighbours.add(a)
            ga.neighbours.add(other)
    ga.neighbours.discard(b)


def _labels(groups: dict[int, _Group], n: int, min_size: int) -> Clustering:
    labels = np.full(n, -1, np.int64)
    anchor_of: dict[int, int] = {}
    ordered = sorted(groups.values(), key=lambda g: (-len(g.members), min(g.members)))
    for group in ordered:
        if group.anchor == FREE and len(group.members) < min_size:
            continue
        label = len(anchor_of)
        labels[group.members] = label
        anchor_of[label] = group.anchor
    return Clustering(labels, anchor_of)
