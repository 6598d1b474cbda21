"""The per-model index cache: `<library>.data/index-model<ID>.npz`, checked against the database.

A fingerprint of the model's embedding rows (count, sum and max of face ids, max rowid) is read
with one aggregate query. Equal: the cache is used as is. Only rows with larger face ids were
added (a rescan): those are appended. Anything else (deleted faces, re-embedding): rebuilt.
An in-place UPDATE of a vector keeps the fingerprint: whoever does that calls `invalidate_index`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sqlalchemy import LargeBinary, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from album.library.library import Library
from album.library.schema import Embedding
from album.search.index import VectorIndex

_ROWID = literal_column("embeddings.rowid")
log = logging.getLogger(__name__)


def index_path(lib: Library, model_id: int) -> Path:
    return lib.data_dir / f"index-model{model_id}.npz"


def invalidate_index(lib: Library, model_id: int) -> None:
    """Drop the cached index so the next load rebuilds it from the database."""
    index_path(lib, model_id).unlink(missing_ok=True)


def fingerprint(session: Session, model_id: int, max_face_id: int | None = None) -> dict:
    """Summary of the model's embedding rows (optionally only those with face_id <= max_face_id)."""
    query = select(
        func.count(),
        func.coalesce(func.sum(Embedding.face_id), 0),
        func.coalesce(func.max(Embedding.face_id), 0),
        func.coalesce(func.max(_ROWID), 0),
    ).where(Embedding.model_id == model_id)
    if max_face_id is not None:
        query = query.where(Embedding.face_id <= max_face_id)
    count, total, top, rowid = session.execute(query).one()
    return {"count": count, "sum": total, "max": top, "rowid": rowid}


def _read_rows(session: Session, model_id: int, after_face_id: int, dim: int | None) -> VectorIndex:
    """Embeddings with face_id > after_face_id, decoded in one buffer (fast for 1M rows)."""
    rows = session.execute(
        select(Embedding.face_id, type_coerce(Embedding.vector, LargeBinary))
        .where(Embedding.model_id == model_id, Embedding.face_id > after_face_id)
        .order_by(Embedding.face_id)
    ).all()
    if not rows:
        return VectorIndex.empty(dim or 0)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    flat = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4")
    return VectorIndex(ids, flat.reshape(len(rows), -1).astype(np.float32))


def load_index(lib: Library, model_id: int, current: VectorIndex | None = None) -> VectorIndex:
    """The model's index, up to date with the database; `current` is reused when still valid.

    The returned index carries its `fingerprint` attribute for the next call.
    """
    path = index_path(lib, model_id)
    with lib.session() as session:
        now = fingerprint(session, model_id)
        if current is not None and getattr(current, "fingerprint", None) == now:
            return current
        cached, old = _load_cache(path)
        if cached is not None and old == now:
            index = cached
        elif (
            cached is not None and len(cached) and fingerprint(session, model_id, old["max"]) == old
        ):
            index = cached
            index.add(*_tail(_read_rows(session, model_id, old["max"], cached.dim)))
            _save_cache(index, path, now)
        else:
            index = _read_rows(session, model_id, 0, None)
            _save_cache(index, path, now)
    index.fingerprint = now
    return index


def _save_cache(index: VectorIndex, path: Path, fingerprint: dict) -> None:
    """Best effort: a cache that cannot be written (disk full, read-only) is only slower."""
    try:
        index.save(path, fingerprint)
    except OSError as error:
        log.warning("index cache %s not written (%s)", path, error)


def _load_cache(path: Path) -> tuple[VectorIndex | None, dict | None]:
    """The cached index and its fingerprint; (None, None) when absent or unreadable (a
    damaged cache is a cache miss: rebuilt from the database and overwritten)."""
    if not path.exists():
        return None, None
    try:
        index, old = VectorIndex.load(path)
        if index.vectors.ndim != 2 or len(index.ids) != len(index.vectors):
            raise ValueError("ids and vectors differ in length")
        if not {"count", "sum", "max", "rowid"} <= set(old):
            raise ValueError("no fingerprint")
    except Exception as error:  # noqa: BLE001 - any damage means: rebuild
        log.warning("index cache %s unreadable (%s); rebuilding it", path, error)
        return None, None
    return index, old


def _tail(index: VectorIndex) -> tuple[np.ndarray, np.ndarray]:
    return index.ids, index.vectors
