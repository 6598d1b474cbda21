"""`VectorIndex`: exact cosine top-k over L2-normalized float32 rows by batched matrix products.

Exact search was chosen over an ANN index by measurement (`bench/bench_search.py`, 2 busy CPU
cores): one query is a BLAS matrix-vector product plus an `argpartition`, ~8 ms at 100k and
~50 ms at 1M 128-d faces (targets 50 / 200 ms), with perfect recall and no index to build.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BLOCK_ROWS = 1 << 16  # database rows per block for batched queries: bounds the (q, block) scratch


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero instead of becoming NaN."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _top_k(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k largest entries of each row, best first."""
    k = min(k, sims.shape[1])
    if k == 0:
        empty = np.zeros((sims.shape[0], 0))
        return empty.astype(np.int64), empty.astype(np.float32)
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else None
    cols = part if part is not None else np.broadcast_to(np.arange(sims.shape[1]), sims.shape)
    vals = np.take_along_axis(sims, cols, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(vals, order, axis=1)


class VectorIndex:
    """Face ids and their unit embeddings, in row order; search returns ids, never row numbers."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, normalized: bool = False) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(ids) != len(vectors):
            raise ValueError("ids and vectors must have the same length; vectors must be 2-D")
        self.ids = ids
        self.vectors = vectors if normalized else normalize_rows(vectors)
        self._rows: dict[int, int] | None = None
        self._order: np.ndarray | None = None  # argsort of ids, for rows_of
        self.fingerprint: dict | None = None  # set by `album.search.store` to the rows it holds

    @classmethod
    def empty(cls, dim: int) -> VectorIndex:
        return cls(np.zeros(0, np.int64), np.zeros((0, dim), np.float32), normalized=True)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Append rows (new faces); one copy of the matrix, so add in batches, not one by one."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        self.ids = np.concatenate([self.ids, ids])
        self.vectors = np.concatenate([self.vectors, normalize_rows(vectors)])
        self._rows = self._order = None

    def row_of(self, face_id: int) -> int | None:
        if self._rows is None:
            self._rows = {int(i): r for r, i in enumerate(self.ids)}
        return self._rows.get(int(face_id))

    def rows_of(self, face_ids: np.ndarray) -> np.ndarray:
        """Row of each face id, -1 where the index lacks it (vectorized `row_of`)."""
        face_ids = np.asarray(face_ids, np.int64)
        if self._order is None:
            self._order = np.argsort(self.ids, kind="stable")
        if len(self.ids) == 0:
            return np.full(len(face_ids), -1, np.int64)
        at = np.minimum(np.searchsorted(self.ids, face_ids, sorter=self._order), len(self.ids) - 1)
        rows = self._order[at]
        return np.where(self.ids[rows] == face_ids, rows, -1)

    def vector(self, face_id: int) -> np.ndarray | None:
        row = self.row_of(face_id)
        return None if row is None else self.vectors[row]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, cosine similarities) for each query row, best first: shapes (q, k')."""
        queries = normalize_rows(queries)
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.int64), np.zeros((len(queries), 0), np.float32)
        if len(queries) == 1:  # one matrix-vector product: memory-bound, no scratch matrix
            cols, sims = _top_k((self.vectors @ queries[0])[None], k)
            return self.ids[cols], sims
        if len(self) <= BLOCK_ROWS:
            cols, sims = _top_k(queries @ self.vectors.T, k)
            return self.ids[cols], sims
        best_rows, best_sims = None, None
        for start in range(0, len(self), BLOCK_ROWS):
            cols, sims = _top_k(queries @ self.vectors[start : start + BLOCK_ROWS].T, k)
            rows = cols + start
            if best_rows is not None:
                rows = np.concatenate([best_rows, rows], axis=1)
                sims = np.concatenate([best_sims, sims], axis=1)
                keep, sims = _top_k(sims, k)
                rows = np.take_along_axis(rows, keep, axis=1)
            best_rows, best_sims = rows, sims
        return self.ids[best_rows], best_sims

    def above(self, query: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, similarities) with cosine >= threshold to one query, best first."""
        if len(self) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        sims = self.vectors @ normalize_rows(query)[0]
        rows = np.flatnonzero(sims >= threshold)
        order = np.argsort(-sims[rows], kind="stable")
        return self.ids[rows[order]], sims[rows[order]]

    def save(self, path: Path, fingerprint: dict) -> None:
        """Write atomically (temp file + rename) so a kill never leaves a half-written cache."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as handle:
            np.savez(handle, ids=self.ids, vectors=self.vectors, **_fp_arrays(fingerprint))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> tuple[VectorIndex, dict]:
        with np.load(path) as data:
            index = cls(data["ids"], data["vectors"], normalized=True)
            fingerprint = {k[3:]: int(data[k]) for k in data.files if k.startswith("fp_")}
        return index, fingerprint


def _fp_arrays(fingerprint: dict) -> dict[str, np.ndarray]:
    return {f"fp_{k}": np.asarray(int(v), dtype=np.int64) for k, v in fingerprint.items()}
