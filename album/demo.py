"""The demo folder: sample photos that an installed package ships, for a first run with no folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from album.library.db import LibraryError


def demo_folder() -> Path:
    """insightface's sample photos (a dependency); read in place, never written."""
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        raise LibraryError("no folder given and no demo photos installed: name a photo folder")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "images"
    if not folder.is_dir():
        raise LibraryError("no folder given and no demo photos installed: name a photo folder")
    return folder
