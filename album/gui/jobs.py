"""`LongJob`: one long core call (`fn(progress, cancel)`) on its own thread, reporting by signal.

Retraining and switching models take minutes, so they never run on the library thread that
serves the pages (`album.gui.ops`), and never on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from album.gui.ops import user_message

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class LongJob(QThread):
    """Runs `fn(progress, cancel)`; `progress(stage, done, total)`, then `done` or `failed`."""

    progress = Signal(str, int, int)  # stage, done, total
    done = Signal(object)
    failed = Signal(str)

    def __init__(
        self, fn: Callable[[Progress, threading.Event], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._fn = fn
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            result = self._fn(
                lambda stage, done, total: self.progress.emit(stage, done, total), self.cancel
            )
        except Exception as error:  # noqa: BLE001 - shown as a sentence
            log.error("background job failed:\n%s", traceback.format_exc())
            self.failed.emit(user_message(error))
        else:
            self.done.emit(result)
