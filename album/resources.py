"""Where the files under the repository's `resources/` folder are at run time.

From a checkout (or an editable install) they sit beside the `album` package; a wheel installs
them as data files under `<prefix>/share/face-album/resources` (see pyproject.toml).
"""

from __future__ import annotations

import sys
from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parents[1] / "resources",
    Path(sys.prefix) / "share" / "face-album" / "resources",
)


def resource_path(*parts: str) -> Path:
    """The path of `resources/<parts...>`; FileNotFoundError if no install holds it."""
    for base in _CANDIDATES:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    raise FileNotFoundError(f"resource not found: resources/{'/'.join(parts)}")
