"""Background operations, Anki style: library work and image decoding stay off the GUI thread.

The GUI thread only opens a library (migrations and the list of folders, once, so a bad path is
reported at once) and closes it; every other read or edit goes through `Ops.run(fn, on_done)`,
which runs `fn()` on the single library worker thread (library access is serialized, so two user
actions never race) and calls `on_done(result)` back on the GUI thread.
Errors come back as a plain message for the status bar or a message box, never a traceback.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from itertools import count
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from album.library.db import LibraryError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[str], None]


def user_message(error: BaseException) -> str:
    """A sentence a user can read: the message of errors meant for users, else the error type."""
    if isinstance(error, LibraryError | OSError | ValueError):
        return str(error) or type(error).__name__
    return f"Something went wrong ({type(error).__name__}: {error}). Details are in the log."


class _Task(QRunnable):
    def __init__(self, ops: Ops, token: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._ops, self._token, self._fn = ops, token, fn

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as error:  # noqa: BLE001 - reported to the user on the GUI thread
            log.error("background operation failed:\n%s", traceback.format_exc())
            self._ops.finished.emit(self._token, None, user_message(error))
        else:
            self._ops.finished.emit(self._token, result, None)


class Ops(QObject):
    """Runs library work off the GUI thread, one operation at a time, results back by signal."""

    finished = Signal(int, object, object)  # token, result, error message
    failed = Signal(str)  # any operation's error, for the status bar / message box
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._tokens = count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self.finished.connect(self._deliver)

    def run(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> None:
        """Queue `fn` on the library thread; `on_done(result)` runs on the GUI thread."""
        token = next(self._tokens)
        self._callbacks[token] = (on_done, on_error)
        if len(self._callbacks) == 1:
            self.busy_changed.emit(True)
        self._pool.start(_Task(self, token, fn))

    def is_busy(self) -> bool:
        return bool(self._callbacks)

    def wait(self, msecs: int = -1) -> bool:
        """Block until queued work is done (closing the window, tests)."""
        return self._pool.waitForDone(msecs)

    @Slot(int, object, object)
    def _deliver(self, token: int, result: object, error: str | None) -> None:
        on_done, on_error = self._callbacks.pop(token, (None, None))
        if not self._callbacks:
            self.busy_changed.emit(False)
        if error is not None:
            (on_error or self.failed.emit)(error)
        elif on_done is not None:
            on_done(result)
