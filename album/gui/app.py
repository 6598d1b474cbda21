"""The `face-album` GUI entry point: `main(argv)` opens the window on the last (or given) library."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from album.gui.icon import app_icon
from album.gui.main_window import SETTINGS_LIBRARY, MainWindow
from album.gui.startup import clear_foreign_qt_paths, startup_problem
from album.library.library import ENV_LIBRARY

LIBRARY_SUFFIXES = {".db", ".sqlite", ".sqlite3"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="face-album", description="Open the Face Album app.")
    parser.add_argument("--library", metavar="PATH", help="library database to open")
    parser.add_argument("path", nargs="?", help="a photo folder to add and scan, or a library file")
    args, _unknown = parser.parse_known_args(argv)  # tolerate Qt's own options (-style, ...)
    return args


def library_and_folder(
    args: argparse.Namespace, settings: QSettings
) -> tuple[str | None, Path | None]:
    """Which library to open and which folder to add.

    The library: `--library` or a library file as PATH, else $FACE_ALBUM_LIBRARY, else the one
    opened last time, else the default location.
    """
    library = args.library
    folder = None
    if args.path:
        path = Path(args.path).expanduser()
        if path.suffix.lower() in LIBRARY_SUFFIXES and not path.is_dir():
            library = str(path)
        else:
            folder = path.resolve()
    return library or os.environ.get(ENV_LIBRARY) or settings.value(
        SETTINGS_LIBRARY
    ) or None, folder


def create_window(
    argv: list[str], settings: QSettings, pipeline: object | None = None
) -> MainWindow:
    """The window as `main` builds it (tests use this with their own settings and pipeline)."""
    args = parse_args(argv)
    library, folder = library_and_folder(args, settings)
    window = MainWindow(settings, pipeline)
    if window.open_library(library) and folder is not None:
        if folder.is_dir():
            window.add_folders([folder])
        else:
            window.show_error(f"Not a folder: {folder}")
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the exit code. `argv` excludes the program name."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    app = QApplication.instance()
    if app is None:
        clear_foreign_qt_paths()  # before Qt loads its platform plugin
        problem = startup_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            return 1
        app = QApplication([sys.argv[0], *argv])
    app.setOrganizationName("face-album")
    app.setApplicationName("Face Album")
    app.setWindowIcon(app_icon())
    window = create_window(argv, QSettings())
    gc.freeze()  # startup objects live as long as the app: keep them out of GC pauses
    window.show()
    close_on_signals(app, window)
    return app.exec()


def close_on_signals(app: QApplication, window: MainWindow) -> None:
    """Ctrl+C in the terminal, or SIGTERM at logout, closes the window as its Quit does: the
    scan stops after the photo in flight and the library closes; the exit code is 0."""

    def close(_signum: int, _frame: object) -> None:
        window.close()
        app.quit()

    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    # Python runs signal handlers between bytecodes: wake it up now and then while Qt waits
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(200)


if __name__ == "__main__":
    sys.exit(main())
