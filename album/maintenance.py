"""Checking a library and repairing what can be repaired without asking.

`verify_file` runs SQLite's full `integrity_check` on the database file before anything opens it.
`repair` then fixes derived state only (never a user decision): faces stored but never grouped,
damaged or stale index caches, model files no model row refers to, temporary files left by a
kill, scan runs a kill left "running", and reports retrained weights whose sha256 no longer
matches (those cannot be repaired: the refusal says how to go back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from album.library.backup import check_database, list_backups
from album.library.library import Library
from album.library.schema import Model, ScanRun
from album.people import People
from album.scan.lock import ScanLocked, scan_lock
from training.spec import sha256_file

_INDEX = re.compile(r"index-model(\d+)\.npz$")


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)  # what remains wrong
    repaired: list[str] = field(default_factory=list)  # what was fixed

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_file(path: Path) -> list[str]:
    """Problems of the database file itself (full integrity and foreign key checks)."""
    return check_database(path, full=True)


def damaged_advice(path: Path) -> str:
    backups = list_backups(path)
    if not backups:
        return "no backup exists; copy the file aside before anything else"
    return f"the newest backup is {backups[-1]}: `face-album restore` puts it back"


def repair(lib: Library) -> CheckReport:
    report = CheckReport()
    try:
        with scan_lock(lib.data_dir):  # nothing below may race a running scan
            _close_stale_runs(lib, report)
            _remove_temporary_files(lib, report)
            _remove_orphan_models(lib, report)
            _check_indexes(lib, report)
            _check_weights(lib, report)
            if People(lib).group_pending():
                report.repaired.append("grouped the faces a stopped scan left ungrouped")
    except ScanLocked:
        report.problems.append("a scan is running: only the database file was checked")
    return report


def _close_stale_runs(lib: Library, report: CheckReport) -> None:
    with lib.transaction() as s:
        count = s.execute(
            update(ScanRun).where(ScanRun.status == "running").values(status="interrupted")
        ).rowcount
    if count:
        report.repaired.append(f"marked {count} killed scan run(s) interrupted")


def _remove_temporary_files(lib: Library, report: CheckReport) -> None:
    if not lib.data_dir.is_dir():
        return
    for path in lib.data_dir.rglob("*"):
        if path.is_file() and path.name.endswith((".tmp", ".part")):
            path.unlink(missing_ok=True)
            report.repaired.append(f"removed the leftover temporary file {path.name}")


def _model_files(lib: Library) -> dict[int, Path]:
    with lib.session() as s:
        rows = s.execute(select(Model.id, Model.weights_path)).all()
    return {i: lib.weights_file(w) for i, w in rows if w}


def _remove_orphan_models(lib: Library, report: CheckReport) -> None:
    folder = lib.data_dir / "models"
    if not folder.is_dir():
        return
    kept = {p.resolve() for w in _model_files(lib).values() for p in (w, w.with_suffix(".json"))}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.resolve() not in kept:
            size = path.stat().st_size
            path.unlink()
            report.repaired.append(f"removed {path.name} ({size / 1e6:.1f} MB), used by no model")


def _check_indexes(lib: Library, report: CheckReport) -> None:
    with lib.session() as s:
        models = set(s.scalars(select(Model.id)))
    for path in sorted(lib.data_dir.glob("index-model*.npz")):
        match = _INDEX.search(path.name)
        if match is None or int(match.group(1)) not in models or not _loads(path):
            path.unlink(missing_ok=True)
            report.repaired.append(f"removed the unusable cache {path.name} (rebuilt on use)")


def _loads(path: Path) -> bool:
    from album.search.index import VectorIndex

    try:
        VectorIndex.load(path)
    except Exception:  # noqa: BLE001 - any damage: the cache is dropped and rebuilt on use
        return False
    return True


def _check_weights(lib: Library, report: CheckReport) -> None:
    with lib.session() as s:
        rows = {
            r.id: (r.weights_sha256 or r.spec.get("weights_sha256"), r.active)
            for r in s.scalars(select(Model))
        }
    back = lib.builtin_model_id()
    for model_id, path in _model_files(lib).items():
        sha, active = rows[model_id]
        try:
            good = sha is not None and sha256_file(path) == sha
        except OSError:
            good = False
        if not good:
            hint = f"; go back with `face-album use-model {back}`" if active and back else ""
            report.problems.append(f"model {model_id}: weights {path} missing or changed{hint}")
