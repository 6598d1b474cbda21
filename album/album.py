"""`Album`: one open photo library and the work done on it, for the CLI, the GUI and scripts.

As Anki's Collection, it is the top of the core: it opens a `Library` (storage only: schema,
sessions, settings, roots, model records) and offers scanning, grouping, people and search
(`album.people`), checking, and retraining and model switching (`album.retrain`). Nothing below
imports it, so the layers point one way:

    with Album("~/Pictures/faces.db") as album:
        album.scan(["~/Pictures"])
        for person in album.people.list_people():
            ...
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from album.faces.default import load_pipeline
from album.library.db import LibraryError
from album.library.library import Library
from album.maintenance import CheckReport, repair
from album.people import People
from album.retrain import Retrainer, Switched, use_model
from album.retrain.adopt import Progress, upgrade_default_model
from album.scan.lock import ScanLocked, scan_lock
from album.scan.progress import ScanProgress, ScanSummary
from album.scan.scanner import Scanner


class Album:
    """A library (`self.library`) with its people (`self.people`, search included), its scans
    and its retraining. `Album(path)` opens the library at `path` (default: the user's);
    `Album(library)` works on a `Library` already open. Closing the album closes the library."""

    def __init__(self, library: Library | str | Path | None = None) -> None:
        self.library = library if isinstance(library, Library) else Library(library)
        self.people = People(self.library)

    @property
    def path(self) -> Path:
        return self.library.path

    def close(self) -> None:
        self.library.close()

    def __enter__(self) -> Album:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scanning and grouping --------------------------------------------------------------
    def scan(
        self,
        roots: list[str | Path] | None = None,
        *,
        progress: Callable[[ScanProgress], None] | None = None,
        on_error: Callable[[Path, str], None] | None = None,
        cancel: threading.Event | None = None,
        pipeline: object | None = None,
        group: bool = True,
    ) -> ScanSummary:
        """Scan `roots` (registered first if new; default: every registered root).

        Only new and changed files are processed; a cancelled or killed scan resumes on the next
        call. `progress(ScanProgress)` and `on_error(path, message)` are called from this thread.
        A library on an older built-in model moves to the shipped one first (unless `pipeline`
        is given). With `group`, new faces then join existing people or form new ones
        (`People.group_pending`), including faces a killed earlier scan stored without
        grouping. One scan at a time per library: LibraryError("another scan ... is running")
        otherwise.
        """
        lib = self.library
        root_ids = [lib.add_root(r) for r in roots] if roots else None
        selected = [(i, p) for i, p in lib.roots() if root_ids is None or i in root_ids]
        factory = (lambda: pipeline) if pipeline is not None else (lambda: load_pipeline(lib))
        scanner = Scanner(lib, factory, progress=progress, on_error=on_error, cancel=cancel)
        try:
            with scan_lock(lib.data_dir):
                if pipeline is None:  # an older built-in model moves to the shipped one first
                    upgrade_default_model(lib, cancel=cancel)
                summary = scanner.run(selected)
                if group:  # its own People: a scan may run on a thread of its own
                    People(lib).group_pending()
        except ScanLocked as error:
            raise LibraryError(str(error)) from error
        return summary

    def check(self) -> CheckReport:
        """Repair what can be repaired without asking (see `album.maintenance.repair`)."""
        return repair(self.library)

    # -- retraining -------------------------------------------------------------------------
    def retrainer(self, *args: object, **options: object) -> Retrainer:
        """A `Retrainer` for this library (arguments as `Retrainer`'s after the library)."""
        return Retrainer(self.library, *args, **options)

    def use_model(
        self,
        model_id: int,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        device: str = "auto",
    ) -> Switched:
        """Make `model_id` the active model (see `album.retrain.use_model`)."""
        return use_model(self.library, model_id, progress, cancel, device)
