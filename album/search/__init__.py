"""Vector search over face embeddings: an exact, in-memory, per-model index persisted beside the library."""

from album.search.graph import knn_graph
from album.search.index import VectorIndex, normalize_rows
from album.search.store import index_path, invalidate_index, load_index

__all__ = [
    "VectorIndex",
    "knn_graph",
    "index_path",
    "invalidate_index",
    "load_index",
    "normalize_rows",
]
