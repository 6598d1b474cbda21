"""Screenshots of every main view, grabbed from the real window (offscreen), for looking at.

    python bench/screenshots.py [OUT_DIR] [--photos FOLDER] [--library DB] [--fake]
                                [--size WxH] [--screen]

Scans FOLDER (default: shared/data/faces-dev/images) through the GUI into a fresh library (or
reuses --library), names the people the way a user would (from labels.csv when the folder has
one beside it), then writes welcome, scanning, people, person, viewer (with a face search),
unsorted, suggestions, retrain (with --retrain, a real run's verdict and Details) and settings PNGs to OUT_DIR (default /tmp/face-album-shots).
--screen grabs the whole screen instead of the widget: run it on a real X server
(`DISPLAY=:99 QT_QPA_PLATFORM=xcb`, e.g. Xvfb) to see what a user sees, window frame included.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QPoint, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from album.gui.main_window import MainWindow  # noqa: E402
from album.gui.settings_dialog import SettingsDialog  # noqa: E402

FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev" / "images"
SIZE = (1280, 820)


def wait(app: QApplication, condition, timeout_s: float = 600) -> None:
    """Run the event loop until `condition()` holds (polled every 20 ms)."""
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: condition() and loop.quit())
    timer.start(20)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    timer.stop()


def settle(app: QApplication, win: MainWindow, extra_ms: int = 600) -> None:
    wait(app, lambda: not win.scanner.is_running() and not win.ops.is_busy())
    loop = QEventLoop()
    QTimer.singleShot(extra_ms, loop.quit)  # let thumbnails decode and paint
    loop.exec()


SCREEN = False  # --screen: grab the whole screen, not the widget
RETRAIN = False  # --retrain: run a real retrain on the Retrain page and grab its result


def grab(widget: QWidget, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    if SCREEN:
        QApplication.processEvents()
        widget.screen().grabWindow(0).save(str(path))
    else:
        widget.grab().save(str(path))
    print(path)


def label_people(win: MainWindow, photos: Path) -> None:
    """Name each cluster after the majority label of its photos, as a user would by looking."""
    labels_file = photos.parent / "labels.csv"
    if not labels_file.is_file():
        return
    with labels_file.open() as handle:
        label_of = {
            Path(row["path"]).name: row["person"].replace("_", " ")
            for row in csv.DictReader(handle)
        }
    people = win.controller.people
    used: set[str] = set()
    for person in people.list_people():
        votes = Counter(
            label_of.get(Path(win.lib.photo_path(f.photo_id)).name)
            for f in people.person_faces(person.id)
        )
        name, count = votes.most_common(1)[0]
        if name and name not in used and count >= 3 and len(used) < 10:
            people.name(person.id, name)
            used.add(name)


def scan_through_gui(app: QApplication, win: MainWindow, photos: Path, out: Path) -> None:
    shot_taken = []

    def on_progress(progress) -> None:
        if not shot_taken and progress.photos_done >= max(3, progress.photos_total // 3):
            shot_taken.append(True)
            settle_ms = QEventLoop()
            QTimer.singleShot(300, settle_ms.quit)
            settle_ms.exec()
            grab(win, out, "02-scanning")

    win.scanner.progress.connect(on_progress)
    win.welcome.add_folder(photos)
    grab(win, out, "01-welcome")
    win.welcome.start_button.click()
    wait(app, lambda: win.scanner.is_running())
    settle(app, win)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="/tmp/face-album-shots")
    parser.add_argument("--photos", type=Path, default=FACES_DEV)
    parser.add_argument("--library", type=Path, help="reuse this library (skips the scan)")
    parser.add_argument(
        "--fake", action="store_true", help="scan with the test suite's fake pipeline"
    )
    parser.add_argument(
        "--size",
        default=f"{SIZE[0]}x{SIZE[1]}",
        help="window size, WxH ('app': the size the app picks)",
    )
    parser.add_argument("--screen", action="store_true", help="grab the screen, not the widget")
    parser.add_argument("--retrain", action="store_true", help="also run and grab a retrain")
    args = parser.parse_args(argv)
    global SCREEN, RETRAIN
    SCREEN, RETRAIN = args.screen, args.retrain
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="face-album-shots-"))
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    pipeline = None
    if args.fake:
        from tests.fakes import fake_pipeline

        pipeline = fake_pipeline()
    win = MainWindow(settings, pipeline)
    if args.size != "app":
        win.resize(*(int(n) for n in args.size.split("x")))
        win.move(0, 0)
    win.show()
    win.open_library(args.library or work / "library.db")
    if args.library is None:
        scan_through_gui(app, win, args.photos.resolve(), out)
        label_people(win, args.photos.resolve())
    shoot_views(app, win, out)
    win.close()
    return 0


def shoot_views(app: QApplication, win: MainWindow, out: Path) -> None:
    view = win.library_view
    view.open_people()
    settle(app, win, 1500)
    grab(win, out, "03-people")
    people = view.people_page.model.people()
    if people:
        view.open_person(people[0].id)
        settle(app, win, 2500)
        grab(win, out, "04-person")
        rows = view.person_page.photo_model.rows()
        if rows:
            view._open_person_photo(rows[0].photo_id)  # as a double-click does
            settle(app, win, 1500)
            faces = view.viewer_page.detail.faces
            if faces:
                view.viewer_page.search_face(faces[0].face_id)
            settle(app, win, 2500)
            grab(win, out, "05-viewer-search")
            if faces:
                canvas = view.viewer_page.canvas
                at = canvas.face_rect(faces[0]).center().toPoint()
                menu = view.viewer_page.make_face_menu(faces[0].face_id)
                menu.popup(canvas.mapToGlobal(at))
                settle(app, win, 300)
                grab(win, out, "05b-viewer-face-menu")
                menu.close()
    view.open_unsorted()
    settle(app, win, 1500)
    grab(win, out, "06-unsorted")
    view.open_suggestions()
    settle(app, win, 1500)
    grab(win, out, "07-suggestions")
    view.open_retrain()
    settle(app, win, 800)
    grab(win, out, "09-retrain")
    if RETRAIN:
        shoot_retrain(app, win, out)
    dialog = SettingsDialog(win.lib, win.ops, win.settings, win)
    dialog.show()
    settle(app, win, 300)
    grab(dialog, out, "08-settings")
    dialog.close()
    shoot_drag(app, win, out)
    shoot_split(app, win, out)
    win.show_shortcuts()
    settle(app, win, 300)
    grab(win, out, "14-shortcuts")


def shoot_retrain(app: QApplication, win: MainWindow, out: Path) -> None:
    """A real retrain from the Retrain page: its verdict in words, then the Details."""
    page = win.library_view.retrain_page
    wait(app, lambda: page.start_button.isEnabled(), 60)
    if not page.start_button.isEnabled():
        return
    page.start_button.click()
    wait(app, lambda: page.discard_button.isVisible() or page.start_button.isEnabled())
    settle(app, win, 500)
    grab(win, out, "09b-retrain-verdict")
    page.details_button.click()
    settle(app, win, 300)
    grab(win, out, "09c-retrain-details")


def shoot_drag(app: QApplication, win: MainWindow, out: Path) -> None:
    """Halfway through dragging the second person onto the first, then the question."""
    from PySide6.QtTest import QTest

    view = win.library_view
    view.open_people()
    settle(app, win, 1000)
    grid, model = view.people_page.view, view.people_page.model
    if model.rowCount() < 2:
        return
    start = grid.visualRect(model.index(1, 0)).center()
    end = grid.visualRect(model.index(0, 0)).center()
    viewport = grid.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in (1, 2, 3, 4):
        QTest.mouseMove(viewport, start + (end - start) * step / 4 + QPoint(10, 10))
    settle(app, win, 200)
    grab(win, out, "10-drag-person")
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    settle(app, win, 300)
    grab(win, out, "11-drag-asks-merge")
    if view.people_page.merge_box is not None:
        view.people_page.merge_box.reject()


def shoot_split(app: QApplication, win: MainWindow, out: Path) -> None:
    """Three people merged into one, then Split… on them (undone afterwards)."""
    view = win.library_view
    people = [p for p in view.people_page.model.people() if p.name][:3]
    if len(people) < 3:
        return
    win.controller.merge([p.id for p in people[1:]], people[0].id)
    settle(app, win)
    view.open_person(people[0].id)
    settle(app, win, 1500)
    grab(win, out, "12-person-mixed")
    view.person_page.split_button.click()
    settle(app, win, 2000)
    dialog = view.person_page.split_dialog
    grab(dialog if not SCREEN else win, out, "13-split")
    dialog.close()
    win.controller.undo()
    settle(app, win)


if __name__ == "__main__":
    sys.exit(main())
