"""Longest UI-thread stall while the app scans a folder (target: under 100 ms).

    python bench/bench_gui_responsiveness.py [--photos FOLDER] [--fake] [--copies N]

A 10 ms QTimer heartbeat runs on the GUI thread for the whole scan (first scan of a fresh
library through the real window: progress bar, periodic grouping, people grid refreshes and
cover thumbnails). Every gap between beats beyond 10 ms is time the event loop could not run.
`--copies N` scans N symlinked copies of the folder so the scan lasts long enough to matter.

`--no-gui` runs the same scan on a plain thread with only the heartbeat, to separate the
stalls the scan causes by itself (GIL, CPU) from the window's.

`--grid N` instead measures the People grid alone with N people: model fill time, then the
slowest event-loop turn while scrolling top to bottom a page at a time (covers decoded by the
real round-chip code from synthetic images, so no database or photos are involved).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from album.album import Album  # noqa: E402
from album.gui.main_window import MainWindow  # noqa: E402
from album.library.library import Library  # noqa: E402

FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev" / "images"
BEAT_MS = 10


class Heartbeat:
    """Records the gaps between 10 ms timer ticks on the GUI thread."""

    def __init__(self) -> None:
        self.gaps_ms: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(BEAT_MS)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _beat(self) -> None:
        self.gaps_ms.append(self._clock.nsecsElapsed() / 1e6)
        self._clock.restart()


def photo_folder(source: Path, copies: int, work: Path) -> Path:
    if copies <= 1:
        return source
    folder = work / "photos"
    for i in range(copies):
        (folder / f"copy{i}").mkdir(parents=True)
        for photo in source.iterdir():
            (folder / f"copy{i}" / photo.name).symlink_to(photo)
    return folder


def run(photos: Path, fake: bool) -> tuple[Heartbeat, float, MainWindow]:
    work = Path(tempfile.mkdtemp(prefix="face-album-bench-"))
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    pipeline = None
    if fake:
        from tests.fakes import fake_pipeline

        pipeline = fake_pipeline()
    win = MainWindow(settings, pipeline)
    win.resize(1280, 820)
    win.show()
    win.open_library(work / "library.db")
    beat = Heartbeat()
    loop = QEventLoop()
    finished: list[bool] = []
    win.scanner.finished.connect(lambda *_: finished.append(True))
    poll = QTimer()
    poll.timeout.connect(lambda: finished and not win.ops.is_busy() and loop.quit())
    poll.start(50)
    start = time.perf_counter()
    beat.start()
    win.add_folders([photos])
    loop.exec()
    beat.stop()
    return beat, time.perf_counter() - start, win


def grid_bench(count: int) -> list[tuple[str, str]]:
    """Fill a People grid with `count` people and scroll through it, timing each step."""
    from PySide6.QtGui import QColor, QImage

    from album.gui.loaders import round_image
    from album.gui.people_view import PeopleModel, PeopleView
    from album.gui.thumbs import ThumbnailCache
    from album.people.types import PersonSummary

    def chip(face_id: int) -> QImage:
        image = QImage(150, 150, QImage.Format.Format_RGB32)
        image.fill(QColor.fromHsv(face_id * 37 % 360, 120, 200))
        return round_image(image, 112)

    people = [
        PersonSummary(i, f"Person {i}" if i % 3 == 0 else None, i % 50 + 1, i % 40 + 1, i, False)
        for i in range(1, count + 1)
    ]
    model = PeopleModel(ThumbnailCache(chip))
    view = PeopleView()
    view.setModel(model)
    view.resize(1280, 800)
    view.show()
    QApplication.processEvents()  # first show: fonts, style (not what is measured)
    start = time.perf_counter()
    model.set_people(people)
    QApplication.processEvents()
    fill_ms = (time.perf_counter() - start) * 1000
    bar, steps = view.verticalScrollBar(), []
    last_cell = model.index(count - 1)
    deadline = time.perf_counter() + 30
    while view.visualRect(last_cell).bottom() < bar.maximum() and time.perf_counter() < deadline:
        QApplication.processEvents()  # batched layout: let it finish before scrolling
    while True:
        start = time.perf_counter()
        bar.setValue(bar.value() + bar.pageStep())
        view.viewport().repaint()
        QApplication.processEvents()
        steps.append((time.perf_counter() - start) * 1000)
        if bar.value() >= bar.maximum():
            break
    return [
        ("people in the grid", f"{count:,}"),
        ("fill model + first layout", f"{fill_ms:.0f} ms"),
        ("pages scrolled", f"{len(steps)}"),
        ("median page paint", f"{np.median(steps):.1f} ms"),
        ("slowest page paint", f"{max(steps):.1f} ms"),
    ]


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def run_without_gui(photos: Path, fake: bool) -> tuple[Heartbeat, float, Library]:
    """The same scan on a plain thread with only the heartbeat on the event loop: the stalls
    the scan causes by itself (GIL, CPU), to tell them apart from the window's."""
    work = Path(tempfile.mkdtemp(prefix="face-album-bench-"))
    lib = Library(work / "library.db")
    pipeline = None
    if fake:
        from tests.fakes import fake_pipeline

        pipeline = fake_pipeline()
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (Album(lib).scan([photos], pipeline=pipeline), done.set())
    )
    beat, loop, poll = Heartbeat(), QEventLoop(), QTimer()
    poll.timeout.connect(lambda: done.is_set() and loop.quit())
    poll.start(50)
    start = time.perf_counter()
    beat.start()
    thread.start()
    loop.exec()
    beat.stop()
    thread.join()
    return beat, time.perf_counter() - start, lib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=FACES_DEV)
    parser.add_argument("--fake", action="store_true", help="the test suite's fake face pipeline")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--grid", type=int, metavar="N", help="measure a People grid of N people")
    parser.add_argument("--no-gui", action="store_true", help="scan on a thread, no window")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    if args.grid:
        print_table(grid_bench(args.grid))
        return 0
    work = Path(tempfile.mkdtemp(prefix="face-album-bench-photos-"))
    folder = photo_folder(args.photos.resolve(), args.copies, work)
    if args.no_gui:
        beat, seconds, lib = run_without_gui(folder, args.fake)
        win = None
    else:
        beat, seconds, win = run(folder, args.fake)
        lib = win.lib
    gaps = np.array(beat.gaps_ms)
    stats = lib.stats()
    rows = [
        ("photos scanned", f"{stats['photos']}"),
        ("faces found", f"{stats['faces']}"),
        ("people", f"{stats['people']}"),
        ("scan + grouping wall time", f"{seconds:.1f} s"),
        ("heartbeats (10 ms)", f"{len(gaps)}"),
        ("median gap", f"{np.median(gaps):.1f} ms"),
        ("p99 gap", f"{np.percentile(gaps, 99):.1f} ms"),
        ("longest UI stall (max gap)", f"{gaps.max():.1f} ms"),
        ("  it ended at", f"{np.cumsum(gaps)[gaps.argmax()] / 1000:.2f} s of {seconds:.1f} s"),
        ("gaps over 100 ms", f"{int((gaps > 100).sum())}"),
    ]
    print_table(rows)
    if win is not None:
        win.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
