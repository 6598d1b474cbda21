"""The thresholded k-nearest-neighbour graph of a set of unit vectors (the input to clustering)."""

from __future__ import annotations

import numpy as np

QUERY_BLOCK = 1024  # rows per matmul block: a (1024, n) float32 scratch, 400 MB at n = 100k


def knn_graph(
    vectors: np.ndarray, k: int, min_sim: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (i, j, sim) with i < j, j among i's k most similar rows (or i among j's), sim >= min_sim.

    Thresholding before ranking keeps the work sparse: only pairs above `min_sim` are ranked,
    which for faces is a few dozen per row however large the library.
    """
    n = len(vectors)
    heads, tails, sims = [np.zeros(0, np.int64)] * 2, [np.zeros(0, np.int64)] * 2, [np.zeros(0)]
    for start in range(0, n, QUERY_BLOCK):
        block = vectors[start : start + QUERY_BLOCK] @ vectors.T
        flat = np.flatnonzero(block.ravel() >= min_sim)  # 4x faster than 2-D np.nonzero
        rows, cols = np.divmod(flat, n)
        values = block.ravel()[flat]
        rows = rows + start
        keep = rows != cols
        rows, cols, values = rows[keep], cols[keep], values[keep]
        order = np.lexsort((-values, rows))  # by row, best first within a row
        rows, cols, values = rows[order], cols[order], values[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        keep = rank < k
        heads.append(rows[keep])
        tails.append(cols[keep])
        sims.append(values[keep])
    i, j, s = np.concatenate(heads), np.concatenate(tails), np.concatenate(sims)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo.astype(np.int64) * max(n, 1) + hi
    _, first = np.unique(key, return_index=True)
    return lo[first], hi[first], s[first].astype(np.float32)
