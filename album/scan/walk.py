"""Walking photo folders: recursive, symlink-loop safe, errors reported and skipped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FoundFile:
    relpath: str  # POSIX-style, relative to the root
    size: int
    mtime_ns: int


def walk_photos(
    root: Path,
    extensions: set[str],
    on_error: Callable[[str, str], None],
    on_unsupported: Callable[[str], None] | None = None,
) -> Iterator[FoundFile]:
    """Files under `root` whose extension is in `extensions`, in a stable order; the suffix of
    any other file goes to `on_unsupported` (so that photos needing an extra are counted).

    Symlinked folders are followed once: a folder already visited (same device and inode) is
    skipped, so link loops cannot hang the walk. Unreadable folders are reported and skipped.
    """
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
            key = (info.st_dev, info.st_ino)
            if key in seen:
                continue
            seen.add(key)
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as error:
            on_error(str(folder), f"cannot open folder ({error.strerror or error})")
            continue
        for entry in entries:
            found = _visit(entry, root, extensions, stack, on_error, on_unsupported)
            if found is not None:
                yield found


def _visit(entry, root, extensions, stack, on_error, on_unsupported) -> FoundFile | None:
    try:
        if entry.is_dir(follow_symlinks=True):
            if not entry.name.startswith("."):
                stack.append(Path(entry.path))
            return None
        suffix = Path(entry.name).suffix.lower()
        if suffix not in extensions:
            if on_unsupported is not None:
                on_unsupported(suffix)
            return None
        if not entry.is_file():
            return None
        info = entry.stat(follow_symlinks=True)
    except OSError as error:
        on_error(entry.path, f"cannot read ({error.strerror or error})")
        return None
    relpath = Path(entry.path).relative_to(root).as_posix()
    return FoundFile(relpath, info.st_size, info.st_mtime_ns)
