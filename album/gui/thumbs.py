"""Lazy thumbnails: decoded to `QImage` in worker threads, made `QPixmap` on the GUI thread.

Views ask `ThumbnailCache.get(key)` while painting; a miss queues a decode and returns None
(the delegate paints a placeholder), and `ready(key)` fires when the pixmap is in. The newest
request runs first (what the user scrolled to last), a bounded LRU keeps memory flat with
100k faces, and `drop_pending()` forgets queued work that a page change made stale.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import count

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

log = logging.getLogger(__name__)

Loader = Callable[[Hashable], QImage]


class _Decode(QRunnable):
    def __init__(self, cache: ThumbnailCache, key: Hashable, generation: int) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the cache holds it until it reports, so tryTake() is safe
        self._cache, self.key, self._generation = cache, key, generation

    def run(self) -> None:
        try:
            image = self._cache.loader(self.key)
        except Exception as error:  # noqa: BLE001 - a bad file must not stop the others
            log.warning("thumbnail %r failed: %s", self.key, error)
            image = QImage()
        self._cache.decoded.emit(self.key, image, self._generation)


class ThumbnailCache(QObject):
    """An LRU of pixmaps filled by a small pool of decoding threads."""

    ready = Signal(object)  # key whose pixmap is now in the cache
    decoded = Signal(object, QImage, int)  # from workers: key, image, generation

    def __init__(
        self, loader: Loader, capacity: int = 3000, threads: int = 2, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.loader = loader
        self._capacity = capacity
        self._pixmaps: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self._failed: set[Hashable] = set()
        self._pending: dict[Hashable, _Decode] = {}
        self._priority = count(1)
        self._generation = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self.decoded.connect(self._store)

    def get(self, key: Hashable) -> QPixmap | None:
        """The pixmap if cached (marked most recently used); otherwise queue it and return None."""
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key not in self._failed:
            self._request(key)
        return None

    def drop_pending(self) -> None:
        """Forget queued decodes (the view they were for is gone); running ones are ignored."""
        self._generation += 1
        for task in self._pending.values():
            self._pool.tryTake(task)
        self._pending.clear()

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def _request(self, key: Hashable) -> None:
        task = self._pending.get(key)
        if task is not None and not self._pool.tryTake(task):
            return  # already decoding
        task = task or _Decode(self, key, self._generation)
        self._pending[key] = task
        self._pool.start(task, next(self._priority))  # newest first

    @Slot(object, QImage, int)
    def _store(self, key: Hashable, image: QImage, generation: int) -> None:
        if generation != self._generation:
            return
        self._pending.pop(key, None)
        if image.isNull():
            self._failed.add(key)
            return
        self._pixmaps[key] = QPixmap.fromImage(image)
        while len(self._pixmaps) > self._capacity:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key)
