"""The pure clustering function: no chaining, and every constraint honoured."""

from __future__ import annotations

import numpy as np

from album.people.cluster import FREE, cluster
from album.search import normalize_rows


def blobs(
    sizes: list[int], d: int = 32, noise: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = normalize_rows(rng.normal(size=(len(sizes), d)))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    vectors = centres[truth] + rng.normal(0, noise / np.sqrt(d), (len(truth), d))
    return normalize_rows(vectors), truth


def same_partition(labels: np.ndarray, truth: np.ndarray) -> bool:
    pairs = {(a, b) for a, b in zip(labels.tolist(), truth.tolist(), strict=True)}
    return len(pairs) == len(set(labels.tolist())) == len(set(truth.tolist()))


def test_separated_people_are_found():
    vectors, truth = blobs([10, 12, 8, 15])
    result = cluster(vectors, np.arange(len(vectors)), threshold=0.4)
    assert same_partition(result.labels, truth)


def test_a_chain_of_look_alikes_does_not_join_two_people():
    """Two people plus a path of faces between them, each step above threshold:
    single link would merge everything; average link keeps the people apart."""
    vectors, truth = blobs([15, 15], noise=0.3, seed=1)
    a, b = vectors[truth == 0].mean(0), vectors[truth == 1].mean(0)
    path = normalize_rows(np.array([a + (b - a) * t for t in np.linspace(0.15, 0.85, 8)]))
    everything = np.vstack([vectors, path])
    steps = (path[1:] * path[:-1]).sum(1)
    assert steps.min() > 0.6  # each link of the chain clears the threshold
    result = cluster(everything, np.arange(len(everything)), threshold=0.6, min_size=3)
    assert result.labels[0] != result.labels[15]
    assert (
        len(set(result.labels[:15].tolist())) == 1 and len(set(result.labels[15:30].tolist())) == 1
    )


def test_faces_of_one_photo_are_never_grouped():
    vectors, truth = blobs([10, 10])
    photos = np.arange(len(vectors))
    photos[1] = photos[0]  # faces 0 and 1: one person, one photo
    result = cluster(vectors, photos, threshold=0.4, min_size=1)
    assert result.labels[0] != result.labels[1]


def test_confirmed_faces_stay_together_and_apart_from_other_people():
    vectors, truth = blobs([10, 10, 10])
    anchors = np.full(len(vectors), FREE)
    anchors[[0, 10]] = 7  # the user put a face of person 0 and one of person 1 in person 7
    anchors[20] = 8
    result = cluster(vectors, np.arange(len(vectors)), threshold=0.4, anchors=anchors)
    assert result.labels[0] == result.labels[10]
    assert result.anchor_of[result.labels[0]] == 7 and result.anchor_of[result.labels[20]] == 8
    assert result.labels[0] != result.labels[20]


def test_rejected_faces_never_join_that_person():
    vectors, truth = blobs([10])
    anchors = np.full(10, FREE)
    anchors[:3] = 5
    result = cluster(vectors, np.arange(10), 0.4, min_size=1, anchors=anchors, rejected={4: {5}})
    assert result.labels[4] != result.labels[0]
    assert (result.labels[[5, 6, 7, 8, 9]] == result.labels[0]).all()


def test_small_free_groups_are_unsorted_but_anchored_ones_kept():
    vectors, truth = blobs([10, 2, 2])
    anchors = np.full(len(vectors), FREE)
    anchors[12] = 3
    result = cluster(vectors, np.arange(len(vectors)), threshold=0.4, min_size=3, anchors=anchors)
    assert (result.labels[10:12] == -1).all()
    assert result.labels[12] >= 0 and result.anchor_of[result.labels[12]] == 3
    assert len(set(result.labels[:10].tolist())) == 1


def test_empty_input():
    result = cluster(np.zeros((0, 8), np.float32), np.zeros(0, int), threshold=0.5)
    assert len(result.labels) == 0 and result.anchor_of == {}
