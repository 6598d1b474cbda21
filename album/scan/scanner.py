"""The scan: walk the roots, decode new and changed photos in worker threads, run the face
pipeline in batches, and commit each batch in one transaction. Cancel stops after the batch."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from album.faces.pipeline import FacePipeline, scale_records
from album.imaging import (
    Decoded,
    ImageError,
    decode,
    missing_extras,
    read_file,
    supported_extensions,
)
from album.library.clock import now
from album.library.library import Library
from album.library.models import ensure_model
from album.library.schema import Photo, PhotoStatus, ScanRun
from album.scan.plan import Plan, WorkItem, apply_presence, plan_root
from album.scan.progress import ScanProgress, ScanSummary
from album.scan.store import Failed, Outcome, Processed, Touched, store_batch

PROCESS_MAX_SIDE = 3200  # photos are decoded at most this big; boxes map back to full size
BATCH_SIZE = 16


@dataclass
class _Read:
    item: WorkItem
    content_hash: str | None = None
    decoded: Decoded | None = None
    error: str | None = None
    skip: Outcome | None = None
    seconds: float = 0.0


class Scanner:
    def __init__(
        self,
        lib: Library,
        pipeline_factory: Callable[[], FacePipeline],
        *,
        progress: Callable[[ScanProgress], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
        cancel: threading.Event | None = None,
        workers: int = 2,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.lib, self.pipeline_factory = lib, pipeline_factory
        self.pipeline: FacePipeline | None = None  # loaded only when a photo needs it
        self.model_id: int | None = None
        self.progress, self.on_error = progress, on_error
        self.cancel = cancel or threading.Event()
        self.workers, self.batch_size = workers, batch_size
        self.summary = ScanSummary()
        self.stages = {"walk": 0.0, "read+decode": 0.0, "faces": 0.0, "db": 0.0}
        self._moved_by_hash: dict[str, int] = {}

    def run(self, roots: list[tuple[int, Path]]) -> ScanSummary:
        start = time.perf_counter()
        self.summary.run_id = self._start_run()
        try:
            work = self._plan(roots)
            self._process(work)
        finally:
            self.summary.seconds = time.perf_counter() - start
            self.summary.interrupted = self.cancel.is_set()
            self.summary.stage_seconds = dict(self.stages)
            self._finish_run()
        return self.summary

    # -- bookkeeping ------------------------------------------------------------------------
    def _start_run(self) -> int:
        with self.lib.transaction() as s:
            run = ScanRun(started_at=now(), status="running", counts={})
            s.add(run)
            s.flush()
            return run.id

    def _finish_run(self) -> None:
        with self.lib.transaction() as s:
            run = s.get(ScanRun, self.summary.run_id)
            run.finished_at = now()
            run.status = "interrupted" if self.summary.interrupted else "completed"
            run.counts = self.summary.counts()

    def _error(self, path: str, message: str) -> None:
        self.summary.errors += 1
        self.summary.error_files.append((path, message))
        if self.on_error:
            self.on_error(path, message)

    # -- planning ---------------------------------------------------------------------------
    def _plan(self, roots: list[tuple[int, Path]]) -> list[WorkItem]:
        t0 = time.perf_counter()
        extensions = supported_extensions()
        needs_extra = missing_extras()
        skipped: Counter[str] = Counter()

        def unsupported(suffix: str) -> None:
            if suffix in needs_extra:
                skipped[suffix] += 1

        work: list[WorkItem] = []
        for root_id, root in roots:
            if not root.is_dir():
                self._error(str(root), "folder not found (not scanned; its photos are kept)")
                continue
            with self.lib.transaction() as s:
                plan: Plan = plan_root(s, root_id, root, extensions, self._error, unsupported)
                apply_presence(s, plan)
            self.summary.photos_seen += plan.seen
            self.summary.unchanged += plan.unchanged
            self.summary.missing += len(plan.missing)
            work += plan.work
        with self.lib.session() as s:
            rows = s.execute(
                select(Photo.content_hash, Photo.id).where(Photo.status == PhotoStatus.MISSING)
            )
            self._moved_by_hash = {h: i for h, i in rows if h}
        self._report_unsupported(skipped, needs_extra)
        self.stages["walk"] += time.perf_counter() - t0
        return work

    def _report_unsupported(self, skipped: Counter[str], needs_extra: dict[str, str]) -> None:
        """One line per format that needs an extra: those photos are not silently ignored."""
        for suffix, count in sorted(skipped.items()):
            self.summary.unsupported += count
            extra = needs_extra[suffix]
            if self.on_error:
                self.on_error(
                    f"{count} {suffix} file(s)",
                    f"not read: install the `{extra}` extra (pip install 'face-album[{extra}]')",
                )

    # -- processing -------------------------------------------------------------------------
    def _read(self, item: WorkItem) -> _Read:
        """Worker thread: read, hash, and decode unless the hash says the work is done already.
        Whatever goes wrong becomes this file's error; it never stops the scan."""
        t0 = time.perf_counter()
        try:
            result = self._read_one(item)
        except Exception as error:  # noqa: BLE001 - one bad file never stops a scan
            result = _Read(item, error=f"cannot read ({type(error).__name__}: {error})")
        result.seconds = time.perf_counter() - t0
        return result

    def _read_one(self, item: WorkItem) -> _Read:
        result = _Read(item)
        try:
            data = read_file(item.path)
        except ImageError as error:
            result.error = str(error)
            return result
        if not data:
            result.error = "empty file (0 bytes)"
            return result
        result.content_hash = hashlib.sha256(data).hexdigest()
        if item.old_hash == result.content_hash:
            result.skip = Touched(item, result.content_hash)
        elif item.photo_id is None and result.content_hash in self._moved_by_hash:
            result.skip = Touched(
                item, result.content_hash, self._moved_by_hash[result.content_hash]
            )
        else:
            try:
                result.decoded = decode(data, item.relpath, PROCESS_MAX_SIDE)
            except ImageError as error:
                result.error = str(error)
        return result

    def _reads(self, pool: ThreadPoolExecutor, work: list[WorkItem]) -> Iterator[_Read]:
        ahead: deque[Future[_Read]] = deque()
        items = iter(work)
        for item in items:
            ahead.append(pool.submit(self._read, item))
            if len(ahead) >= 2 * self.batch_size:
                break
        while ahead:
            yield ahead.popleft().result()
            item = next(items, None)
            if item is not None:
                ahead.append(pool.submit(self._read, item))

    def _load_pipeline(self) -> None:
        t0 = time.perf_counter()
        self.pipeline = self.pipeline_factory()
        if self.pipeline.embedder is not None:
            with self.lib.transaction() as s:
                self.model_id = ensure_model(s, self.pipeline.embedder.spec)
        self.stages["load models"] = time.perf_counter() - t0

    def _process(self, work: list[WorkItem]) -> None:
        if not work:
            return
        self._load_pipeline()
        self._t0, self._done, self._total = time.perf_counter(), 0, len(work)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="decode") as pool:
            batch: list[_Read] = []
            for read in self._reads(pool, work):
                batch.append(read)
                if len(batch) >= self.batch_size:
                    self._finish_batch(batch)
                    batch = []
                    if self.cancel.is_set():
                        break
            if batch and not self.cancel.is_set():
                self._finish_batch(batch)

    def _finish_batch(self, batch: list[_Read]) -> None:
        outcomes = self._outcomes(batch)
        t0 = time.perf_counter()
        alignment = self.pipeline.alignment
        with self.lib.transaction() as s:
            face_ids = store_batch(s, outcomes, self.model_id, alignment, self.summary.run_id)
        self.summary.face_ids += face_ids
        self.stages["db"] += time.perf_counter() - t0
        for outcome in outcomes:
            self._count(outcome)
            self._done += 1
            self._report(str(outcome.item.path))

    def _faces(self, batch: list[_Read]) -> Iterator[list]:
        """Face records per decoded photo. When the batch fails, photos go one by one and the
        one that fails becomes that photo's error."""
        images = [r.decoded.rgb for r in batch if r.decoded is not None]
        if not images:
            return iter([])
        try:
            return iter(self.pipeline.process_batch(images))
        except Exception:  # noqa: BLE001 - retried photo by photo below
            pass
        results = []
        for r in batch:
            if r.decoded is None:
                continue
            try:
                results.append(self.pipeline.process_batch([r.decoded.rgb])[0])
            except Exception as error:  # noqa: BLE001 - one bad photo never stops a scan
                r.error = f"face detection failed ({type(error).__name__}: {error})"
                r.decoded = None
        return iter(results)

    def _outcomes(self, batch: list[_Read]) -> list[Outcome]:
        t0 = time.perf_counter()
        faces = self._faces(batch)
        self.stages["faces"] += time.perf_counter() - t0
        outcomes: list[Outcome] = []
        for r in batch:
            self.stages["read+decode"] += r.seconds
            if r.error is not None:
                outcomes.append(Failed(r.item, r.content_hash, r.error))
            elif r.skip is not None:
                outcomes.append(r.skip)
            else:
                records = scale_records(next(faces), r.decoded.scale)
                d = r.decoded
                outcomes.append(
                    Processed(r.item, r.content_hash, d.width, d.height, d.taken_at, records)
                )
        return outcomes

    def _count(self, outcome: Outcome) -> None:
        s = self.summary
        if isinstance(outcome, Failed):
            self._error(str(outcome.item.path), outcome.message)
        elif isinstance(outcome, Touched):
            s.moved += outcome.moved_from is not None
        else:
            s.faces_found += len(outcome.faces)
            if outcome.item.photo_id is None:
                s.new += 1
            else:
                s.changed += 1

    def _report(self, current: str) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self._t0
        rate = self._done / elapsed if elapsed > 0 else 0.0
        eta = (self._total - self._done) / rate if rate > 0 else None
        self.progress(
            ScanProgress(
                self._total,
                self._done,
                self.summary.faces_found,
                self.summary.errors,
                rate,
                eta,
                current,
            )
        )
