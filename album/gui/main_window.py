"""The main window: opens a library (the last one, remembered in QSettings), runs scans, holds menus.

First launch shows the welcome page; once the library has folders, the library pages. Scans run
on the `ScanController` thread, which also groups faces every so often so people appear as
they are found.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from album.album import Album
from album.gui.controller import AlbumController
from album.gui.icon import app_icon
from album.gui.library_view import LibraryView
from album.gui.ops import Ops, user_message
from album.gui.scan_bar import ScanBar
from album.gui.scanning import ScanController
from album.gui.settings_dialog import SettingsDialog
from album.gui.welcome import WelcomePage
from album.library.library import Library

SETTINGS_LIBRARY = "library/path"
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_VIEWER_SPLIT = "window/viewer_splitter"
DEFAULT_SIZE = (1600, 1000)  # at most, on a first start
SCREEN_SHARE = 0.9  # a first window takes at most this much of the screen's free area
SHORTCUTS = [
    (
        "People",
        [
            ("Enter", "open a person"),
            ("F2", "rename"),
            ("Ctrl+M", "merge the selected people"),
            ("drag onto another", "merge two people"),
            ("Ctrl+H", "hide"),
        ],
    ),
    (
        "A person",
        [
            ("Delete", "not this person (selected faces or photos)"),
            ("M", "move to…"),
            ("X", "not a face"),
            ("Split…", "sort a mixed person into groups"),
        ],
    ),
    ("Unsorted faces", [("M", "add to a person"), ("X", "not a face")]),
    ("Suggestions (R)", [("Y / N / S", "yes / no / skip"), ("Delete or ✕", "not this face")]),
    (
        "Photo viewer",
        [
            ("← →", "previous / next photo"),
            ("wheel, + − 0", "zoom"),
            ("right-click a face", "name or fix it"),
            ("Escape", "back"),
        ],
    ),
    (
        "Everywhere",
        [
            ("Ctrl+Z", "undo the last change"),
            ("Alt+Left", "back"),
            ("F5", "rescan"),
            ("Ctrl+1 / Ctrl+2", "People / Unsorted faces"),
            ("Ctrl+Q", "quit"),
        ],
    ),
]


def shortcuts_html() -> str:
    """The shortcuts as a table, one per line: a phrase never wraps in the middle."""
    rows = []
    for section, keys in SHORTCUTS:
        rows.append(f"<tr><td colspan=2><b>{section}</b></td></tr>")
        rows += [
            f"<tr><td style='white-space:nowrap; padding-right:16px'>{key}</td>"
            f"<td style='white-space:nowrap'>{what}</td></tr>"
            for key, what in keys
        ]
    return "<table cellspacing=2>" + "".join(rows) + "</table>"


class MainWindow(QMainWindow):
    """One window, one library at a time. `pipeline` overrides the face pipeline (tests, benches)."""

    def __init__(self, settings: QSettings, pipeline: object | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Face Album")
        self.setWindowIcon(app_icon())
        self.settings = settings
        self.ops = Ops(self)
        self.ops.failed.connect(self.show_error)
        self.scanner = ScanController(self, pipeline)
        self.album: Album | None = None
        self.lib: Library | None = None  # the album's storage
        self.controller: AlbumController | None = None
        self.library_view: LibraryView | None = None
        self._paused = False
        self._resuming = False
        self._carried = (0, 0, 0)  # photos, faces, unreadable files of the runs before a pause
        self.scan_status = QLabel()  # the last scan's outcome, kept until the next scan
        self.problems_box: QMessageBox | None = None  # the last "files could not be read" note
        self.welcome = WelcomePage()
        self.scan_bar = ScanBar()
        self.scan_bar.hide()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.scan_bar)
        self.setCentralWidget(central)
        self.statusBar().addPermanentWidget(self.scan_status)
        self._make_actions()
        self._connect()
        self._restore_geometry()

    def _restore_geometry(self) -> None:
        """Last session's size and place, else a size that fits this screen's free area."""
        saved = self.settings.value(SETTINGS_GEOMETRY)
        if saved is not None and self.restoreGeometry(saved):
            return
        free = self.screen().availableGeometry()
        width = min(DEFAULT_SIZE[0], int(free.width() * SCREEN_SHARE))
        height = min(DEFAULT_SIZE[1], int(free.height() * SCREEN_SHARE))
        self.resize(width, height)
        self.move(free.center() - self.rect().center())

    # -- libraries --------------------------------------------------------------------------
    def open_library(self, path: str | Path | None) -> bool:
        """Open (or create) the library at `path`; remembered for the next launch."""
        try:
            album = Album(path)
            roots = album.library.roots()
        except Exception as error:  # noqa: BLE001 - the user sees why, the app stays up
            self.show_error(f"Cannot open the library: {user_message(error)}")
            return False
        self._close_library()
        self.album, self.lib = album, album.library
        self.settings.setValue(SETTINGS_LIBRARY, str(album.path))
        self.controller = AlbumController(album, self.ops, self, self.scanner.pipeline)
        self.controller.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.library_view = LibraryView(self.controller)
        self.library_view.restore_state(self.settings.value(SETTINGS_VIEWER_SPLIT))
        self.pages.addWidget(self.library_view)
        if roots:
            self._show_library()
        else:
            self.pages.setCurrentWidget(self.welcome)
        self._update_actions()
        return True

    def _show_library(self) -> None:
        self.pages.setCurrentWidget(self.library_view)
        self.library_view.open_people()
        self._update_actions()

    def _close_library(self) -> None:
        if self.library_view is not None:
            self.settings.setValue(SETTINGS_VIEWER_SPLIT, self.library_view.save_state())
        self.scanner.stop()
        self.scanner.wait()
        self.ops.wait()
        if self.library_view is not None:
            self.library_view.shutdown()
            self.pages.removeWidget(self.library_view)
            self.library_view.deleteLater()
        if self.album is not None:
            self.album.close()
        self.album = self.lib = self.controller = self.library_view = None

    def add_folders(self, folders: list[Path]) -> None:
        """Register photo folders, then scan them."""
        lib = self.lib
        self.ops.run(lambda: [lib.add_root(f) for f in folders], lambda _ids: self.start_scan())

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder", str(Path.home()))
        if folder:
            self.add_folders([Path(folder)])

    # -- scanning ---------------------------------------------------------------------------
    def start_scan(self, resumed: bool = False) -> None:
        if self.album is None or self.scanner.is_running():
            return
        if self.pages.currentWidget() is not self.library_view:
            self._show_library()
        self._resuming = resumed and self._paused
        if not self._resuming:
            self._carried = (0, 0, 0)
        self._paused = False
        self.scanner.start(self.album)

    def resume_scan(self) -> None:
        self.start_scan(resumed=True)

    def pause_scan(self) -> None:
        self._paused = True
        self.scanner.stop()

    def stop_scan(self) -> None:
        was_paused, self._paused = self._paused, False
        if was_paused and not self.scanner.is_running():
            self.scan_bar.hide()  # Stop on a paused scan: nothing runs, the bar goes
            self._update_actions()
        self.scanner.stop()

    def _on_scan_started(self) -> None:
        self.scan_bar.show_started(self._resuming)
        self.scan_status.clear()
        self._update_actions()

    def _on_grouped(self) -> None:
        if self.controller is not None:
            self.controller.reload()

    def _on_scan_finished(self, summary: object, stopped: bool) -> None:
        photos, faces, errors = self._carried
        self._carried = (
            photos + summary.new + summary.changed,
            faces + summary.faces_found,
            errors + summary.errors,
        )
        if stopped and self._paused:
            self.scan_bar.show_paused()
        else:
            self.scan_bar.hide()
        head = "Scan paused" if self._paused else "Scan stopped" if stopped else "Scan finished"
        self.scan_status.setText(_scan_report(head, *self._carried))
        if not (stopped and self._paused):
            self._carried = (0, 0, 0)
        if self.controller is not None:
            self.controller.reload()  # the scan grouped its new faces before returning
        self._update_actions()
        if summary.error_files and not stopped:
            self._show_scan_problems(summary.error_files)

    def _on_scan_failed(self, message: str) -> None:
        self.scan_bar.hide()
        self._update_actions()
        self.show_error(f"The scan stopped: {message}")

    def _show_scan_problems(self, error_files: list[tuple[str, str]]) -> None:
        count = len(error_files)
        skipped = f"{count} file was" if count == 1 else f"{count} files were"
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Some files could not be read",
            f"{skipped} skipped (details below). The rest of the scan is fine.",
            parent=self,
        )
        box.setDetailedText("\n".join(f"{path}: {why}" for path, why in error_files[:500]))
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.problems_box = box

    # -- actions ----------------------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(text: str, shortcut: str | QKeySequence.StandardKey | None, slot) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            return act

        self.back_action = action("Back", QKeySequence.StandardKey.Back, lambda: self._view("back"))
        self.people_action = action("People", "Ctrl+1", lambda: self._view("open_people"))
        self.unsorted_action = action(
            "Unsorted faces", "Ctrl+2", lambda: self._view("open_unsorted")
        )
        self.review_action = action(
            "Review suggestions", "R", lambda: self._view("open_suggestions")
        )
        self.retrain_action = action("Retrain", None, lambda: self._view("open_retrain"))
        self.rescan_action = action("Rescan", "F5", lambda: self.start_scan())
        self.add_folder_action = action("Add folder…", "Ctrl+O", self.choose_folder)
        self.undo_action = action("Undo", QKeySequence.StandardKey.Undo, self.undo)
        self.rename_action = action("Rename", "F2", lambda: self._view("rename"))
        self.merge_action = action("Merge selected people", "Ctrl+M", lambda: self._view("merge"))
        self.hide_action = action("Hide / show person", "Ctrl+H", lambda: self._view("hide"))
        self.settings_action = action(
            "Settings…", QKeySequence.StandardKey.Preferences, self.open_settings
        )
        self.quit_action = action("Quit", "Ctrl+Q", self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self._make_menus()

    def _make_menus(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setMovable(False)
        for act in (
            self.back_action,
            self.people_action,
            self.unsorted_action,
            self.review_action,
            self.retrain_action,
            None,
            self.rescan_action,
            self.add_folder_action,
            None,
            self.undo_action,
            self.settings_action,
        ):
            toolbar.addSeparator() if act is None else toolbar.addAction(act)
        menu = self.menuBar()
        file_menu = menu.addMenu("&Library")
        for act in (self.add_folder_action, self.rescan_action, self.settings_action):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menu.addMenu("&Edit")
        for act in (self.undo_action, self.rename_action, self.merge_action, self.hide_action):
            edit_menu.addAction(act)
        view_menu = menu.addMenu("&View")
        for act in (
            self.back_action,
            self.people_action,
            self.unsorted_action,
            self.review_action,
            self.retrain_action,
        ):
            view_menu.addAction(act)
        menu.addMenu("&Help").addAction("Keyboard shortcuts", self.show_shortcuts)

    def _connect(self) -> None:
        self.welcome.start_requested.connect(self.add_folders)
        self.scanner.started.connect(self._on_scan_started)
        self.scanner.progress.connect(self.scan_bar.show_progress)
        self.scanner.finished.connect(self._on_scan_finished)
        self.scanner.failed.connect(self._on_scan_failed)
        self.scanner.grouped.connect(self._on_grouped)
        self.scan_bar.pause_clicked.connect(self.pause_scan)
        self.scan_bar.resume_clicked.connect(self.resume_scan)
        self.scan_bar.stop_clicked.connect(self.stop_scan)

    def _update_actions(self) -> None:
        open_ = self.library_view is not None and self.pages.currentWidget() is self.library_view
        for act in (
            self.back_action,
            self.people_action,
            self.unsorted_action,
            self.review_action,
            self.retrain_action,
            self.undo_action,
            self.rename_action,
            self.merge_action,
            self.hide_action,
        ):
            act.setEnabled(open_)
        self.rescan_action.setEnabled(open_ and not self.scanner.is_running())
        self.add_folder_action.setEnabled(self.lib is not None)

    def _view(self, method: str) -> None:
        if self.library_view is not None:
            getattr(self.library_view, method)()

    def undo(self) -> None:
        if self.controller is not None:
            self.controller.undo()

    def open_settings(self) -> None:
        if self.lib is None:
            return
        dialog = SettingsDialog(self.lib, self.ops, self.settings, self)
        dialog.exec()
        if dialog.model_switched and self.controller is not None:
            self.statusBar().showMessage("Now using the chosen face model; names are kept.", 8000)
            self.controller.reload()
        if dialog.chosen_library:
            self.open_library(dialog.chosen_library)

    def show_shortcuts(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.NoIcon, "Keyboard shortcuts", shortcuts_html(), parent=self
        )
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_error(self, message: str) -> None:
        """Say what went wrong in plain words: status bar plus a (non-blocking) message box."""
        self.statusBar().showMessage(message, 15000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Face Album", message, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        self._close_library()
        super().closeEvent(event)


def _scan_report(head: str, photos: int, faces: int, errors: int) -> str:
    parts = [count_of(photos, "new photo"), count_of(faces, "face") + " found"]
    if errors:
        parts.append(count_of(errors, "file") + " could not be read")
    return f"{head}: " + ", ".join(parts) + "."


def count_of(count: int, noun: str) -> str:
    """'1 face', '2 faces', '1,204 new photos'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
