"""Settings: library location, photo folders, face size, thresholds (explained), model, device.

Values are read and written on the ops thread through `Library` (per-library settings live in
the library, so they travel with it); only the library location is an app setting (QSettings).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from album.faces.default import DEFAULT_MIN_FACE_SIZE
from album.gui.ops import Ops
from album.library.library import Library

DEVICES = [("auto", "Automatic (GPU if there is one)"), ("cpu", "CPU"), ("cuda", "GPU (CUDA)")]
NO_GPU = "No GPU was found on this computer, so Face Album uses the CPU."


@dataclass(frozen=True)
class LibrarySettings:
    """What the dialog shows, read in one go off the GUI thread."""

    path: str
    roots: list[str]
    min_face_size: int
    device: str
    gpu_available: bool
    model_name: str
    same_person: float | None
    same_person_fmr: float | None
    suggestion: float | None
    suggestion_fmr: float | None


def read_settings(lib: Library) -> LibrarySettings:
    import torch

    values = lib.settings()
    model = lib.active_model() or {}
    thresholds = (model.get("spec") or {}).get("thresholds") or {}
    return LibrarySettings(
        path=str(lib.path),
        roots=[str(p) for _, p in lib.roots()],
        min_face_size=int(values.get("min_face_size", DEFAULT_MIN_FACE_SIZE)),
        device=str(values.get("device", "auto")),
        gpu_available=torch.cuda.is_available(),
        model_name=model.get("name", "the built-in model (chosen at the first scan)"),
        same_person=thresholds.get("same_person"),
        same_person_fmr=thresholds.get("same_person_fmr"),
        suggestion=thresholds.get("suggestion"),
        suggestion_fmr=thresholds.get("suggestion_fmr"),
    )


def explain_threshold(kind: str, value: float | None, fmr: float | None) -> str:
    """e.g. 'Same person: 0.62 — about 1 wrong match in 1,000 pairs of different people.'"""
    if value is None:
        return f"{kind}: set by the model after the first scan."
    text = f"{kind}: similarity {value:.2f}"
    if fmr:
        text += f" — about 1 wrong match in {round(1 / fmr):,} pairs of different people"
    return text + "."


class SettingsDialog(QDialog):
    """Edits the library's settings; `library_chosen` (a path) when the user picks another library."""

    def __init__(
        self, lib: Library, ops: Ops, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self._lib, self._ops, self._settings = lib, ops, settings
        self.chosen_library: str | None = None
        self.library_label = QLabel(str(lib.path))
        self.library_label.setWordWrap(True)
        self.other_library = QPushButton("Open another library…")
        self.folders = QListWidget()
        self.folders.setMaximumHeight(110)
        self.add_folder = QPushButton("Add folder…")
        self.min_face = QSpinBox()
        self.min_face.setRange(20, 400)
        self.min_face.setSuffix(" pixels")
        self.min_face.setToolTip(
            "Faces smaller than this are not looked for. Smaller finds more distant faces but scans slower."
        )
        self.device = QComboBox()
        for key, text in DEVICES:
            self.device.addItem(text, key)
        self.device_note = QLabel()
        self.model = QLabel()
        self.thresholds = QLabel()
        self.thresholds.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self._layout()
        self.other_library.clicked.connect(self._choose_library)
        self.add_folder.clicked.connect(self._choose_folder)
        self.device.currentIndexChanged.connect(self._device_note)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.loaded: LibrarySettings | None = None
        self.buttons.setEnabled(False)
        ops.run(lambda: read_settings(lib), self._show)

    def _layout(self) -> None:
        form = QFormLayout()
        library_row = QHBoxLayout()
        library_row.addWidget(self.library_label, 1)
        library_row.addWidget(self.other_library)
        form.addRow("Library", library_row)
        folder_box = QVBoxLayout()
        folder_box.addWidget(self.folders)
        folder_box.addWidget(self.add_folder)
        form.addRow("Photo folders", folder_box)
        form.addRow("Smallest face", self.min_face)
        form.addRow("Run on", self.device)
        form.addRow("", self.device_note)
        form.addRow("Face model", self.model)
        form.addRow("Thresholds", self.thresholds)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def _show(self, loaded: LibrarySettings) -> None:
        self.loaded = loaded
        self.folders.clear()
        self.folders.addItems(loaded.roots)
        self.min_face.setValue(loaded.min_face_size)
        self.device.setCurrentIndex(max(0, self.device.findData(loaded.device)))
        self.model.setText(loaded.model_name)
        self.thresholds.setText(
            explain_threshold(
                "Same person (grouping, search)", loaded.same_person, loaded.same_person_fmr
            )
            + "\n"
            + explain_threshold(
                "Suggestion (“Is this …?”)", loaded.suggestion, loaded.suggestion_fmr
            )
            + "\nHigher means stricter: fewer wrong matches, more faces left unsorted."
        )
        self._device_note()
        self.buttons.setEnabled(True)

    def _device_note(self) -> None:
        wants_gpu = self.device.currentData() in ("auto", "cuda")
        self.device_note.setText(
            NO_GPU if self.loaded and wants_gpu and not self.loaded.gpu_available else ""
        )

    def save(self) -> None:
        lib, size, device = self._lib, self.min_face.value(), self.device.currentData()

        def write() -> None:
            lib.set_setting("min_face_size", size)
            lib.set_setting("device", device)

        self._ops.run(write, lambda _none: self.accept())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder", str(Path.home()))
        if folder:
            lib = self._lib
            self._ops.run(
                lambda: lib.add_root(folder),
                lambda _id: self.folders.addItem(str(Path(folder).resolve())),
            )

    def _choose_library(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Open or create a library",
            str(self._lib.path.parent),
            "Face Album library (*.db)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.chosen_library = path
            self.reject()
