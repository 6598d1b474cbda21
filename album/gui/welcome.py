"""First launch: ask which photo folders to look at, then start the first scan."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

INTRO = (
    "Face Album finds the people in your photos and groups them, on this computer only.\n"
    "Your photos are never changed, moved or uploaded.\n\n"
    "Choose the folders where your photos are (you can add more later)."
)


class WelcomePage(QWidget):
    """Folder picker plus a Start button; emits `start_requested(folders)`."""

    start_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Welcome to Face Album")
        title.setStyleSheet("font-size: 22pt; font-weight: 600;")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.folders = QListWidget()
        self.folders.setMaximumHeight(140)
        self.folders.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.add_button = QPushButton("Add a photo folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the selected folders off the list (Delete)")
        self.remove_button.setEnabled(False)
        self.start_button = QPushButton("Find people")
        self.start_button.setDefault(True)
        self.start_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        column = QVBoxLayout()
        for widget in (title, intro, self.folders):
            column.addWidget(widget)
        column.addLayout(buttons)
        box = QWidget()
        box.setLayout(column)
        box.setMaximumWidth(560)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self.remove_selected)
        self.folders.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.folders.selectedItems()))
        )
        remove = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.folders)
        remove.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove.activated.connect(self.remove_selected)
        self.start_button.clicked.connect(lambda: self.start_requested.emit(self.chosen()))

    def chosen(self) -> list[Path]:
        return [Path(self.folders.item(i).text()) for i in range(self.folders.count())]

    def add_folder(self, folder: Path) -> None:
        if folder not in self.chosen():
            self.folders.addItem(str(folder))
        self.start_button.setEnabled(True)

    def remove_selected(self) -> None:
        """A folder added by mistake leaves the list (nothing was scanned yet)."""
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self.start_button.setEnabled(self.folders.count() > 0)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a photo folder", str(Path.home()))
        if folder:
            self.add_folder(Path(folder))
