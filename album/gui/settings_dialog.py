"""Settings: library location, photo folders, face size, thresholds (explained), model, device.

Values are read and written on the ops thread through `Library` (per-library settings live in
the library, so they travel with it); only the library location is an app setting (QSettings).
Choosing another face model switches the library to it on its own thread (`LongJob`), with a
progress bar: faces the model has not read yet are re-embedded from their saved face crops.
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
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from album import settings as library_settings
from album.gui.jobs import LongJob
from album.gui.ops import Ops
from album.library.library import Library
from album.people import People

DEVICE_LABELS = {"auto": "Automatic (GPU if there is one)", "cpu": "CPU", "cuda": "GPU (CUDA)"}
NO_GPU = "No GPU was found on this computer, so Face Album uses the CPU."
NO_MODEL_YET = "Set by the face model at the first scan, then explained here for this library."


@dataclass(frozen=True)
class ModelChoice:
    id: int
    label: str
    active: bool


@dataclass(frozen=True)
class LibrarySettings:
    """What the dialog shows, read in one go off the GUI thread."""

    path: str
    roots: list[str]
    min_face_size: int
    device: str
    gpu_available: bool
    model_name: str
    thresholds: str  # what they mean for this library, in words
    models: list[ModelChoice]


def describe_model(row: dict) -> str:
    """'dlib_resnet_v1 (built in)', 'retrained on 2026-11-30 · 95% of named faces recognised'."""
    if row["parent_id"] is None:
        return f"{row['name']} (built in)"
    text = f"Retrained on {row['created_at']:%Y-%m-%d}"
    if row.get("identification") is not None:
        text += f" · {row['identification']:.0%} of named faces recognised"
    return text


def read_settings(lib: Library) -> LibrarySettings:
    import torch

    from album.retrain import models_table

    values = library_settings.read(lib)
    model = lib.active_model() or {}
    return LibrarySettings(
        path=str(lib.path),
        roots=[str(p) for _, p in lib.roots()],
        min_face_size=values.min_face_size,
        device=values.device,
        gpu_available=torch.cuda.is_available(),
        model_name=model.get("name", "the built-in model (chosen at the first scan)"),
        thresholds=explain_thresholds(lib) if model else NO_MODEL_YET,
        models=[
            ModelChoice(row["id"], describe_model(row), row["active"]) for row in models_table(lib)
        ],
    )


def explain_thresholds(lib: Library) -> str:
    """What grouping and search mean for this library, as `face-album config` says it, e.g.
    'Grouping people: 0.941: about 1 wrong match in 6,422 pairs of different people; among
    your 6,422 faces, about 1 look-alike strangers per face'."""
    people = People(lib)
    grouping = people.threshold_meaning().describe()
    search = people.threshold_meaning(people.thresholds().same_person).describe()
    return (
        f"Grouping people at {grouping}.\n"
        f"Finding a face in other photos starts at {search}.\n"
        "Higher means stricter: fewer wrong matches, more faces left unsorted."
    )


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
        for key in library_settings.DEVICES:
            self.device.addItem(DEVICE_LABELS[key], key)
        self.device_note = QLabel()
        self.model = QComboBox()
        self.model.setToolTip(
            "The face model reads every face. Switching re-reads the faces it has not seen "
            "from their saved crops (photos are not opened again); names are kept."
        )
        self.switch_bar = QProgressBar()
        self.switch_status = QLabel()
        self.switch_bar.hide()
        self.switch_status.hide()
        self.model_switched = False
        self._job: LongJob | None = None
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
        layout.addWidget(self.switch_status)
        layout.addWidget(self.switch_bar)
        layout.addWidget(self.buttons)

    def _show(self, loaded: LibrarySettings) -> None:
        self.loaded = loaded
        self.folders.clear()
        self.folders.addItems(loaded.roots)
        self.min_face.setValue(loaded.min_face_size)
        self.device.setCurrentIndex(max(0, self.device.findData(loaded.device)))
        self.model.clear()
        for choice in loaded.models:
            self.model.addItem(choice.label, choice.id)
            if choice.active:
                self.model.setCurrentIndex(self.model.count() - 1)
        if not loaded.models:
            self.model.addItem(loaded.model_name, None)
        self.model.setEnabled(len(loaded.models) > 1)
        self.thresholds.setText(loaded.thresholds)
        self._device_note()
        self.buttons.setEnabled(True)
        self._fit_height()

    def _fit_height(self) -> None:
        """The explanations arrive after the dialog is shown: grow to hold their lines."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width())))

    def _device_note(self) -> None:
        wants_gpu = self.device.currentData() in ("auto", "cuda")
        self.device_note.setText(
            NO_GPU if self.loaded and wants_gpu and not self.loaded.gpu_available else ""
        )

    def save(self) -> None:
        lib, size, device = self._lib, self.min_face.value(), self.device.currentData()
        self._save_button().setEnabled(False)
        self._ops.run(
            lambda: library_settings.write(lib, min_face_size=size, device=device),
            lambda _settings: self._switch_model_or_close(),
            self._save_failed,
        )

    def _save_failed(self, message: str) -> None:
        self.switch_status.setText(f"The settings were not saved: {message}")
        self.switch_status.show()
        self._save_button().setEnabled(True)

    def _save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def chosen_model(self) -> int | None:
        """The model picked in the list when it is not the active one."""
        model_id = self.model.currentData()
        active = next((m.id for m in self.loaded.models if m.active), None) if self.loaded else None
        return model_id if model_id is not None and model_id != active else None

    def _switch_model_or_close(self) -> None:
        model_id = self.chosen_model()
        if model_id is None:
            self.accept()
            return
        from album.retrain import use_model

        lib, device = self._lib, self.device.currentData()
        self._job = LongJob(
            lambda progress, cancel: use_model(lib, model_id, progress, cancel, device), self
        )
        self._job.progress.connect(self._on_switch_progress)
        self._job.done.connect(self._switched)
        self._job.failed.connect(self._switch_failed)
        self.switch_status.setText("Switching the face model…")
        for widget in (self.switch_status, self.switch_bar):
            widget.show()
        self.switch_bar.setRange(0, 0)
        self._job.start()

    def _on_switch_progress(self, stage: str, done: int, total: int) -> None:
        self.switch_bar.setRange(0, max(total, 1))
        self.switch_bar.setValue(done)
        what = "Re-reading faces with the chosen model" if stage == "reembed" else "Switching"
        self.switch_status.setText(f"{what}: {done:,} of {total:,}")

    def _switched(self, result) -> None:
        self.model_switched = bool(result.switched)
        self.accept()

    def _switch_failed(self, message: str) -> None:
        self.switch_bar.hide()
        self.switch_status.setText(f"The model was not switched: {message}")
        self._save_button().setEnabled(True)

    def reject(self) -> None:
        """Cancel: while a switch runs, stop it (the current model stays) and close after."""
        if self._job is not None and self._job.isRunning():
            self._job.cancel.set()
            self.switch_status.setText("Stopping; the current model stays in use…")
            return
        super().reject()

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
