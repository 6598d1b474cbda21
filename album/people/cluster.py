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
    k: int = 10,
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
    groups, group_of, totals = _initial_groups(vectors, photo_ids, anchors, rejected)
    state = _State(groups, totals, threshold)
    heap = _link_graph(vectors, state, group_of, k)
    late = {int(group_of[r]) for r in rejected if anchors[r] == FREE}
    _agglomerate(state, heap, late)
    for gid in late:  # then the faces the user rejected somewhere, one by one
        if gid in groups:
            state.push_links(gid, list(groups[gid].neighbours), heap)
    _agglomerate(state, heap, set())
    return _labels(groups, n, min_size)


@dataclass
class _State:
    """The groups, and each group's vector sum as a row of one matrix (indexed by group id,
    which is the row of its first face), so a group's links to all its neighbours are one
    matrix-vector product."""

    groups: dict[int, _Group]
    totals: np.ndarray  # (n, d) float64; row gid = the sum of group gid's vectors
    threshold: float

    def push_links(self, gid: int, others: list[int], heap: list) -> None:
        """Push (gid, other) with their average-link similarity, for each neighbouring group
        that could merge (pairs under the threshold never will, so they stay out of the heap)."""
        if not others:
            return
        groups, peers = self.groups, np.asarray(others, np.int64)
        size = len(groups[gid].members)
        sizes = np.fromiter((len(groups[o].members) for o in others), np.float64, len(others))
        links = (self.totals[peers] @ self.totals[gid]) / (sizes * size)
        passing = np.flatnonzero(links >= self.threshold)
        version = groups[gid].version
        for other, link in zip(peers[passing].tolist(), links[passing].tolist(), strict=True):
            heapq.heappush(heap, (-link, gid, other, version, groups[other].version))


def _initial_groups(vectors, photo_ids, anchors, rejected):
    """One group per free face and one per anchored person (must-link); the group of each
    row; and the groups' vector sums (rows of a matrix indexed by group id)."""
    groups: dict[int, _Group] = {}
    group_of = np.arange(len(vectors), dtype=np.int64)
    totals = np.array(vectors, dtype=np.float64)
    by_person: dict[int, int] = {}
    for row in np.flatnonzero(anchors != FREE).tolist():
        gid = by_person.setdefault(int(anchors[row]), row)
        group_of[row] = gid
        if gid != row:
            totals[gid] += totals[row]
    for row, (gid, photo) in enumerate(zip(group_of.tolist(), photo_ids.tolist(), strict=True)):
        group = groups.get(gid)
        if group is None:
            group = groups[gid] = _Group([], set(), int(anchors[row]), set())
        group.members.append(row)
        group.photos.add(int(photo))
        if row in rejected:
            group.rejected |= rejected[row]
    return groups, group_of, totals


def _link_graph(vectors, state: _State, group_of, k) -> list:
    """Neighbour sets from the k-NN graph, and the heap of candidate merges with their linkage."""
    groups = state.groups
    heads, tails, sims = knn_graph(vectors, k, state.threshold)
    a, b = group_of[heads], group_of[tails]
    between = a != b
    for x, y in zip(a[between].tolist(), b[between].tolist(), strict=True):
        groups[x].neighbours.add(y)
        groups[y].neighbours.add(x)
    single = np.bincount(group_of, minlength=len(group_of)) == 1  # by group id
    direct = between & single[a] & single[b]  # two lone faces: their link is the edge itself
    heap = [
        (-s, int(x), int(y), 0, 0)
        for x, y, s in zip(
            a[direct].tolist(), b[direct].tolist(), sims[direct].tolist(), strict=True
        )
    ]
    heapq.heapify(heap)
    for gid, group in groups.items():
        if len(group.members) > 1:  # anchored groups: their links need the sums
            state.push_links(gid, list(group.neighbours), heap)
    return heap


def _compatible(a: _Group, b: _Group) -> bool:
    if a.anchor != FREE and b.anchor != FREE and a.anchor != b.anchor:
        return False
    if a.anchor in b.rejected or b.anchor in a.rejected:
        return False
    small, large = sorted((a.photos, b.photos), key=len)
    return small.isdisjoint(large)


def _agglomerate(state: _State, heap: list, late: set[int]) -> None:
    """Merge best pairs first (the heap holds only pairs above the threshold); pairs touching
    `late` groups are dropped here and pushed again by the caller afterwards."""
    groups = state.groups
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
        _merge(state, a, b)
        state.push_links(a, list(ga.neighbours), heap)


def _merge(state: _State, a: int, b: int) -> None:
    groups = state.groups
    ga, gb = groups[a], groups.pop(b)
    state.totals[a] += state.totals[b]
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
