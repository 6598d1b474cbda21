"""Vector index: exact top-k against brute force, persistence and the database fingerprint."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete

from album.library.schema import Embedding
from album.search import VectorIndex, index_path, knn_graph, load_index, normalize_rows
from album.search import index as index_module
from tests.people_support import add_photo


def random_rows(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    return normalize_rows(np.random.default_rng(seed).normal(size=(n, d)))


@pytest.mark.parametrize("block", [1 << 16, 7])  # one block, and merging across many blocks
@pytest.mark.parametrize("count", [1, 5])  # the matrix-vector path, and the batched one
def test_search_matches_brute_force(monkeypatch, block, count):
    monkeypatch.setattr(index_module, "BLOCK_ROWS", block)
    vectors, queries = random_rows(100), random_rows(count, seed=1)
    ids = np.arange(1000, 1100)
    found, sims = VectorIndex(ids, vectors).search(queries, 10)
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert (found == ids[truth]).all()
    assert np.allclose(sims, np.take_along_axis(queries @ vectors.T, truth, axis=1), atol=1e-6)


def test_search_with_k_beyond_size_returns_everything_sorted():
    index = VectorIndex(np.arange(4), random_rows(4))
    found, sims = index.search(random_rows(1, seed=3), 10)
    assert sorted(found[0]) == [0, 1, 2, 3] and (np.diff(sims[0]) <= 0).all()


def test_above_returns_all_rows_over_threshold_best_first():
    vectors = random_rows(200)
    index = VectorIndex(np.arange(200) * 2, vectors)
    ids, sims = index.above(vectors[3], 0.3)
    expected = np.flatnonzero(vectors @ vectors[3] >= 0.3) * 2
    assert sorted(ids) == sorted(expected) and ids[0] == 6 and (np.diff(sims) <= 0).all()


def test_vectors_are_normalized_and_add_appends():
    index = VectorIndex([1], [[3.0, 4.0]])
    index.add([2], [[0.0, 2.0]])
    assert np.allclose(index.vector(2), [0, 1]) and np.allclose(index.vector(1), [0.6, 0.8])
    assert index.row_of(3) is None


def test_knn_graph_matches_brute_force(monkeypatch):
    from album.search import graph

    monkeypatch.setattr(graph, "QUERY_BLOCK", 13)
    vectors = random_rows(60, d=4)
    heads, tails, sims = knn_graph(vectors, k=3, min_sim=0.2)
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    expected = set()
    for i in range(60):
        for j in np.argsort(-full[i])[:3]:
            if full[i, j] >= 0.2:
                expected.add((min(i, j), max(i, j)))
    assert set(zip(heads.tolist(), tails.tolist(), strict=True)) == expected
    assert np.allclose(sims, full[heads, tails])


def test_index_is_cached_appended_and_rebuilt(synth):
    lib, model = synth.lib, synth.model_id
    first = load_index(lib, model)
    assert len(first) == len(synth.truth) and index_path(lib, model).is_file()
    assert load_index(lib, model, first) is first  # unchanged database: same object
    again = load_index(lib, model)  # fresh process: read back from the cache file
    assert (again.ids == first.ids).all() and np.array_equal(again.vectors, first.vectors)
    new = add_photo(synth, [0, 1], np.random.default_rng(3))
    grown = load_index(lib, model, again)
    assert len(grown) == len(first) + 2 and grown.row_of(new[1]) == len(grown) - 1
    with lib.transaction() as s:
        s.execute(delete(Embedding).where(Embedding.face_id == new[0]))
    shrunk = load_index(lib, model, grown)
    assert len(shrunk) == len(first) + 1 and shrunk.row_of(new[0]) is None
    assert np.allclose(shrunk.vector(new[1]), grown.vector(new[1]))


def test_empty_index_finds_nothing():
    index = VectorIndex.empty(8)
    ids, sims = index.search(random_rows(2, d=8), 5)
    assert ids.shape == (2, 0) and sims.shape == (2, 0)
    assert len(index.above(random_rows(1, d=8)[0], 0.0)[0]) == 0


def test_rows_of_finds_rows_in_any_id_order():
    index = VectorIndex([30, 10, 20], random_rows(3))
    index.add([5], random_rows(1, seed=2))
    assert index.rows_of(np.array([20, 5, 99, 30, 1])).tolist() == [2, 3, -1, 0, -1]
    assert VectorIndex.empty(4).rows_of(np.array([1])).tolist() == [-1]


def test_bf16_screening_gives_the_float32_graph():
    """Screening blocks in bf16 (where the CPU has it) must not change a single edge."""
    import torch

    rng = np.random.default_rng(5)
    vectors = normalize_rows(rng.standard_normal((3000, 16)))
    for k, min_sim in ((10, 0.5), (3, 0.8), (30, 0.1)):
        exact = knn_graph(vectors, k, min_sim, torch.float32)
        screened = knn_graph(vectors, k, min_sim, torch.bfloat16)
        assert len(exact[0]) > 100
        for a, b in zip(exact, screened, strict=True):
            assert np.array_equal(a, b)
