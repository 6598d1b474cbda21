"""Copies of the library database made with SQLite's online backup API (consistent even while
another process writes): before each migration and each model switch, and on request.

They live in `<library>.data/backups/` as `<reason>-<UTC time>.db`; the newest `KEEP` automatic
copies are kept. `restore_backup` puts one back (after copying the current database aside).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

KEEP = 5
AUTO_PREFIX = "auto-"
DAMAGED_PREFIX = "damaged-"  # raw copies of a damaged database, kept aside by a restore


class BackupError(Exception):
    """A backup that cannot be made or restored; the message is for the user."""


def backups_dir(library_path: Path) -> Path:
    return library_path.with_name(library_path.name + ".data") / "backups"


def list_backups(library_path: Path) -> list[Path]:
    """The library's backups, oldest first."""
    folder = backups_dir(library_path)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.db") if not p.name.startswith(DAMAGED_PREFIX)]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def copy_database(source: Path, target: Path) -> None:
    """Copy `source` to `target` with the backup API; the target appears only when complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(partial)
        try:
            with dst:
                src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            src.close()
            dst.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {source} to {target}: {error}") from error


def make_backup(library_path: Path, reason: str, *, automatic: bool = True) -> Path:
    """A new backup named after `reason`; automatic ones beyond the newest KEEP are deleted."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", reason)[:60]
    target = backups_dir(library_path) / f"{AUTO_PREFIX if automatic else ''}{label}-{stamp}.db"
    copy_database(library_path, target)
    if automatic:
        autos = [p for p in list_backups(library_path) if p.name.startswith(AUTO_PREFIX)]
        for old in autos[:-KEEP]:
            old.unlink(missing_ok=True)
    return target


def check_database(path: Path, full: bool = True) -> list[str]:
    """Problems SQLite finds in the file (integrity_check, or the faster quick_check); [] if ok."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            pragma = "integrity_check" if full else "quick_check"
            rows = [r[0] for r in db.execute(f"PRAGMA {pragma}(20)")]
            rows += [f"foreign key: {r}" for r in db.execute("PRAGMA foreign_key_check")][:20]
    except sqlite3.Error as error:
        return [str(error)]
    return [] if rows == ["ok"] else [r for r in rows if r != "ok"]


def _raw_copy(library_path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = backups_dir(library_path) / f"{DAMAGED_PREFIX}{stamp}.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(library_path, target)
    wal = Path(f"{library_path}-wal")
    if wal.exists():
        shutil.copy2(wal, Path(f"{target}-wal"))
    return target


def restore_backup(library_path: Path, backup: Path) -> Path | None:
    """Replace the library with `backup` (checked first); the current database is copied aside
    first (when it is readable) and that copy's path returned."""
    problems = check_database(backup)
    if problems:
        raise BackupError(f"{backup} is damaged, not restored: {problems[0]}")
    aside = None
    if library_path.exists() and not check_database(library_path, full=False):
        aside = make_backup(library_path, "before-restore", automatic=False)
    elif library_path.exists():  # damaged: keep its raw bytes (and WAL) for a later rescue
        aside = _raw_copy(library_path)
    partial = library_path.with_name(library_path.name + ".restore")
    copy_database(backup, partial)
    for suffix in ("-wal", "-shm"):
        Path(f"{library_path}{suffix}").unlink(missing_ok=True)
    os.replace(partial, library_path)
    return aside
