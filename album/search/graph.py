"""The thresholded k-nearest-neighbour graph of a set of unit vectors (the input to clustering)."""

from __future__ import annotations

import numpy as np
import torch

QUERY_BLOCK = 1024  # rows per block: a (1024, n) float32 scratch, 400 MB at n = 100k


def knn_graph(
    vectors: np.ndarray, k: int, min_sim: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (i, j, sim) with i < j, j among i's k most similar rows (or i among j's), sim >= min_sim.

    Each block of rows is compared only with itself and the rows after it (the similarity
    matrix is symmetric: half the arithmetic), in torch (multi-threaded compare and gather).
    Thresholding before ranking keeps the work sparse: only pairs above `min_sim` are ranked,
    which for faces is a few dozen per row however large the library. A pair in a row's
    overall top k is in that row's top k within any block holding it, so ranking each block's
    pairs by row and by column, then all survivors again, gives exactly the overall top k.
    """
    n = len(vectors)
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    found = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))]
    with torch.inference_mode():
        for start in range(0, n, QUERY_BLOCK):
            block = x[start : start + QUERY_BLOCK] @ x[start:].T
            rows, cols = torch.nonzero(block >= min_sim, as_tuple=True)
            sims = block[rows, cols].numpy()
            rows, cols = rows.numpy() + start, cols.numpy() + start
            upper = rows < cols
            found.append(_top_k_edges(rows[upper], cols[upper], sims[upper], k))
    i, j, s = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return _top_k_edges(i, j, s, k)


def _top_k_edges(
    i: np.ndarray, j: np.ndarray, s: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges (i < j) among the k best of either endpoint (over all its edges), each once."""
    ends = np.concatenate([i, j])
    sims = np.concatenate([s, s])
    order = np.lexsort((-sims, ends))  # by endpoint, best first within an endpoint
    ordered = ends[order]
    rank = np.arange(len(ends)) - np.searchsorted(ordered, ordered, side="left")
    best = np.zeros(len(ends), bool)
    best[order[rank < k]] = True
    keep = best[: len(i)] | best[len(i) :]
    return i[keep], j[keep], s[keep].astype(np.float32)
