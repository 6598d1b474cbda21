"""Faces that belong to nobody yet: select some, then name them, move them, or drop false ones."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from album.gui.controller import AlbumController
from album.gui.faces_view import FaceGrid, FaceModel, add_widget_actions
from album.gui.person_page import Picker
from album.gui.thumbs import ThumbnailCache
from album.people.types import ChangeSet

HINT = "Faces not in any person yet. Select some, then M = add to a person, X = not a face. Double-click opens the photo."


class UnsortedPage(QWidget):
    photo_opened = Signal(int)

    def __init__(
        self,
        controller: AlbumController,
        chips: ThumbnailCache,
        pick_person: Picker,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller, self._pick_person = controller, pick_person
        self.title = QLabel("Unsorted faces")
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.model = FaceModel(chips, self)
        self.grid = FaceGrid(96)
        self.grid.setModel(self.model)
        self.move_button = QPushButton("Add to person…")
        self.not_face_button = QPushButton("Not a face")
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel(HINT), 1)
        buttons.addWidget(self.move_button)
        buttons.addWidget(self.not_face_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(buttons)
        layout.addWidget(self.grid, 1)
        self.move_button.clicked.connect(self.move_selected)
        self.not_face_button.clicked.connect(self.not_face_selected)
        self.grid.face_activated.connect(self._open_photo)
        add_widget_actions(
            self.grid,
            [
                ("Add to person…", "M", self.move_selected),
                ("Not a face", "X", self.not_face_selected),
            ],
        )

    def refresh(self) -> None:
        self._controller.read(lambda p: [f.id for f in p.unsorted_faces()], self._show)

    def _show(self, face_ids: list[int]) -> None:
        self.model.set_faces(face_ids)
        self.title.setText(f"Unsorted faces  ·  {len(face_ids):,}")

    def on_changed(self, changes: ChangeSet | None) -> None:
        if self.isVisible():
            self.refresh()

    def move_selected(self) -> None:
        faces = self.grid.selected_face_ids()
        if not faces:
            return
        choice = self._pick_person(f"Whose face{'s are' if len(faces) > 1 else ' is'} this?", None)
        if choice is None:
            return
        if choice.person_id is not None:
            self._controller.move_faces(faces, choice.person_id)
        else:
            self._controller.move_faces_to_new_person(faces, choice.new_name)

    def not_face_selected(self) -> None:
        faces = self.grid.selected_face_ids()
        if faces:
            self._controller.not_a_face(faces)

    def _open_photo(self, face_id: int) -> None:
        self._controller.read(
            lambda people: people.faces([face_id])[face_id].photo_id, self.photo_opened.emit
        )
