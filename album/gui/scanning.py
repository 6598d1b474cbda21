"""Scanning in the background: `ScanController` runs `Album.scan` on its own thread.

The scan reports progress from its thread; the controller forwards it to the GUI by a queued
signal, at most ~10 times a second (plus the last report), so a fast scan cannot flood the event
loop. Pause is cancel-and-resume-later: the next scan skips photos already done.
`finished` / `failed` are emitted on the GUI thread once the scan thread has ended, so a slot
that asks `is_running()` (to enable Rescan) always hears False.

People appear while the scan runs: every so often the scan thread itself re-groups the faces
stored so far, between two of the scan's batches. Doing it there, not on another thread, means
it never competes with the scan for SQLite's write lock; the interval grows with the time a
grouping takes, so grouping costs at most about a tenth of the scan.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from album.album import Album
from album.gui.ops import user_message
from album.people import People, PeopleError

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.1
GROUP_EVERY_S = 10.0  # at least this long between two groupings during a scan
GROUP_SHARE = 10  # and at least this many times the last grouping's duration


class _ScanThread(QThread):
    def __init__(
        self,
        controller: ScanController,
        album: Album,
        roots: list[Path] | None,
        pipeline: object | None,
    ) -> None:
        super().__init__(controller)
        self._controller, self._album, self._roots = controller, album, roots
        self._pipeline = pipeline
        self.cancel = threading.Event()
        self.outcome: tuple[object, bool] | str | None = None  # (summary, stopped) or error text
        self._last_emit = 0.0
        self._next_group = time.monotonic() + GROUP_EVERY_S

    def run(self) -> None:
        try:
            freeze_long_lived_objects()
            summary = self._album.scan(
                self._roots, progress=self._progress, cancel=self.cancel, pipeline=self._pipeline
            )
        except Exception as error:  # noqa: BLE001 - shown to the user as a sentence
            log.error("scan failed:\n%s", traceback.format_exc())
            self.outcome = user_message(error)
        else:
            self.outcome = (summary, self.cancel.is_set())

    def _progress(self, progress: object) -> None:
        now = time.monotonic()
        done = getattr(progress, "photos_done", 0) >= getattr(progress, "photos_total", 1)
        if done or now - self._last_emit >= MIN_INTERVAL_S:
            self._last_emit = now
            self._controller.progress.emit(progress)
        if not done and now >= self._next_group and not self.cancel.is_set():
            self._group()

    def _group(self) -> None:
        """Cluster the faces stored so far (the scan groups everything again when it ends)."""
        start = time.monotonic()
        try:
            People(self._album.library).update()  # this thread's own People
        except PeopleError:
            pass  # no model stored yet
        else:
            self._controller.grouped.emit()
        took = time.monotonic() - start
        self._next_group = time.monotonic() + max(GROUP_EVERY_S, GROUP_SHARE * took)


def freeze_long_lived_objects() -> None:
    """Exempt everything alive from the cyclic GC, the scan's heavy modules included (imported
    with `album.album` above).

    A full (generation 2) collection walks every tracked object while holding the GIL; with
    torch, SQLAlchemy and Qt loaded that took 350-400 ms mid-scan and froze the window
    (bench_gui_responsiveness). Frozen objects are still freed by reference counting.
    """
    gc.freeze()  # no gc.collect() first: that full pass is the very pause this avoids


class ScanController(QObject):
    """Starts, pauses and stops one scan at a time; everything it says arrives by signal."""

    started = Signal()
    progress = Signal(object)  # album.scan ScanProgress
    finished = Signal(object, bool)  # ScanSummary, stopped early (paused / cancelled)
    grouped = Signal()  # faces found so far were grouped into people
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, pipeline: object | None = None) -> None:
        """`pipeline`: the face pipeline to scan with (None: the library's default models)."""
        super().__init__(parent)
        self._pipeline = pipeline
        self._thread: _ScanThread | None = None

    @property
    def pipeline(self) -> object | None:
        return self._pipeline

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, album: Album, roots: list[Path] | None = None) -> bool:
        """Start scanning `roots` (all of the library's folders when None); False if busy."""
        if self.is_running():
            return False
        self._thread = _ScanThread(self, album, roots, self._pipeline)
        self._thread.finished.connect(self._on_thread_finished)  # queued: runs on the GUI thread
        self._thread.start()
        self.started.emit()
        return True

    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if not isinstance(thread, _ScanThread):
            return
        thread.wait()  # `finished` comes just before the thread ends: let it end
        outcome = thread.outcome
        if isinstance(outcome, tuple):
            self.finished.emit(*outcome)
        elif outcome is not None:
            self.failed.emit(outcome)

    def stop(self) -> None:
        """Ask the scan to stop after the photo in flight (pause and cancel both use this)."""
        if self._thread is not None:
            self._thread.cancel.set()

    def wait(self, msecs: int = 30000) -> bool:
        return self._thread is None or self._thread.wait(msecs)
