"""One person: an editable name, their photos newest first, and their faces as a strip to fix."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.controller import AlbumController
from album.gui.faces_view import FaceGrid, FaceModel, add_widget_actions
from album.gui.naming import Namer
from album.gui.person_picker import Choice
from album.gui.photos_view import PhotoGrid, PhotoModel
from album.gui.split_dialog import SplitDialog
from album.gui.thumbs import ThumbnailCache
from album.people.types import ChangeSet, FacePhoto, Offer, PeopleError, PersonSummary

FACES_HINT = (
    "Wrong faces? Select them (photos or faces; Ctrl/Shift+click for several), then "
    "Delete = not this person, M = move, X = not a face. Several people in here? Split…"
)

Picker = Callable[[str, int | None], Choice | None]


class PersonPage(QWidget):
    """Shows `person_id`; fixes go through the controller, and the page follows its changes."""

    photo_opened = Signal(int)
    person_gone = Signal()
    review_opened = Signal(int)  # "12 more photos may be Anna": review that person's offers

    def __init__(
        self,
        controller: AlbumController,
        chips: ThumbnailCache,
        photos: ThumbnailCache,
        pick_person: Picker,
        namer: Namer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller, self._pick_person, self._namer = controller, pick_person, namer
        self._chips = chips
        self.split_dialog: SplitDialog | None = None
        self.person_id: int | None = None
        self._summary: PersonSummary | None = None
        self._asked_name: str | None = None  # Enter, then focus out: ask once
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Add a name")
        namer.attach(self.name_edit)
        self.name_edit.setStyleSheet(
            "font-size: 18pt; font-weight: 600; border: none; background: transparent;"
        )
        self.counts = QLabel()
        self.offer_button = QPushButton()
        self.offer_button.setToolTip("Photos that look like this person: answer yes or no")
        self.offer_button.setStyleSheet("color: palette(link); font-weight: 600;")
        self.offer_button.setFlat(True)
        self.offer_button.hide()
        self.hide_button = QPushButton("Hide person")
        self.split_button = QPushButton("Split…")
        self.split_button.setToolTip(
            "More than one person in here? See their faces sorted into groups"
        )
        self.photo_model = PhotoModel(photos, self)
        self.photo_grid = PhotoGrid()
        self.photo_grid.setModel(self.photo_model)
        self.photo_grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.face_model = FaceModel(chips, self)
        self.face_strip = FaceGrid(72, strip=True)
        self.face_strip.setModel(self.face_model)
        self.remove_button = QPushButton("Not this person")
        self.move_button = QPushButton("Move to…")
        self.not_face_button = QPushButton("Not a face")
        self._selection_from: FaceGrid | PhotoGrid = self.face_strip  # where the user last selected
        self._layout()
        self._connect()

    def _layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.name_edit, 1)
        header.addWidget(self.counts)
        header.addWidget(self.offer_button)
        header.addWidget(self.split_button)
        header.addWidget(self.hide_button)
        fixes = QHBoxLayout()
        hint = QLabel(FACES_HINT)
        hint.setWordWrap(True)
        fixes.addWidget(hint, 1)
        for button in (self.remove_button, self.move_button, self.not_face_button):
            fixes.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.photo_grid, 1)
        layout.addLayout(fixes)
        layout.addWidget(self.face_strip)

    def _connect(self) -> None:
        self.name_edit.editingFinished.connect(self._rename)
        self.hide_button.clicked.connect(self.hide_selected)
        self.split_button.clicked.connect(self.open_split)
        self.offer_button.clicked.connect(self._review_offers)
        self.photo_grid.photo_activated.connect(self.photo_opened)
        self.remove_button.clicked.connect(self.remove_selected)
        self.move_button.clicked.connect(self.move_selected)
        self.not_face_button.clicked.connect(self.not_face_selected)
        fixes = [
            ("Not this person", "Delete", self.remove_selected),
            ("Move to…", "M", self.move_selected),
            ("Not a face", "X", self.not_face_selected),
            ("Use as cover", None, self.cover_selected),
        ]
        for grid in (self.face_strip, self.photo_grid):
            add_widget_actions(grid, fixes)
            grid.selectionModel().selectionChanged.connect(
                lambda *_a, g=grid: setattr(self, "_selection_from", g)
            )

    def selected_faces(self) -> list[int]:
        """The person's faces selected in the strip or, if that was the last selection, as
        photos in the grid (each photo row stands for the person's face in it)."""
        if self._selection_from is self.photo_grid:
            rows = self.photo_model.rows()
            picked = sorted(i.row() for i in self.photo_grid.selectionModel().selectedIndexes())
            return [rows[r].face_id for r in picked]
        return self.face_strip.selected_face_ids()

    def show_person(self, person_id: int) -> None:
        self.person_id = person_id
        self.name_edit.clear()
        self.counts.clear()
        self.offer_button.hide()
        self.photo_model.set_rows([])
        self.face_model.set_faces([])
        self.refresh()

    def refresh(self) -> None:
        person_id = self.person_id
        if person_id is None:
            return

        def load(people):
            try:
                summary = people.person(person_id)
            except PeopleError:
                return None  # merged away or emptied: the page goes back
            faces = [f.id for f in people.person_faces(person_id)]
            return summary, faces, people.face_photos(faces)

        self._controller.read(load, lambda result: self._show(person_id, result))

        # the offers compare every unnamed face with every named person (~80 ms per 6,000
        # faces): asked after the photos, so they never hold the page back
        def offers(people):
            try:
                return people.offers(person_id) if people.person(person_id).name else []
            except PeopleError:
                return []

        self._controller.read(offers, lambda found: self._show_offers(person_id, found))

    def _show(
        self,
        person_id: int,
        result: tuple[PersonSummary, list[int], list[FacePhoto]] | None,
    ) -> None:
        if person_id != self.person_id:
            return  # the user moved on: a stale answer
        if result is None:
            self.person_id = None
            self.person_gone.emit()
            return
        self._summary, faces, rows = result
        in_photos = [row.face_id for row in rows]
        faces = in_photos + sorted(set(faces) - set(in_photos), key=faces.index)  # photo order
        self._asked_name = None
        self.name_edit.setText(self._summary.name or "")
        self.hide_button.setText("Show person again" if self._summary.hidden else "Hide person")
        self.counts.setText(f"{self._summary.photo_count:,} photos · {len(faces):,} faces")
        self.photo_model.set_rows(rows)
        self.face_model.set_faces(faces)

    def on_changed(self, changes: ChangeSet | None) -> None:
        if self.person_id is None:
            return
        if (
            changes is None
            or self.person_id in changes.person_ids | changes.removed_person_ids
            or changes.face_ids & set(self.face_model.face_ids())
        ):
            self.refresh()

    def _show_offers(self, person_id: int, offers: list[Offer]) -> None:
        """ "12 more photos may be Anna: review" (only a named person has offers)."""
        if person_id != self.person_id:
            return  # the user moved on
        self.offer_button.setText(f"{offers[0].describe()}: review" if offers else "")
        self.offer_button.setVisible(bool(offers))

    def _review_offers(self) -> None:
        if self.person_id is not None:
            self.review_opened.emit(self.person_id)

    # -- fixes ------------------------------------------------------------------------------
    def _rename(self) -> None:
        name = self.name_edit.text().strip()
        if (
            self.person_id is not None
            and self._summary is not None
            and name
            and name != (self._summary.name or "")
            and name != self._asked_name
        ):
            self._asked_name = name
            self._namer.rename(self.person_id, name)

    def open_split(self) -> None:
        """The person's faces in look-alike groups, each one click from being split off."""
        if self.person_id is None or self._summary is None:
            return
        name = self._summary.name or "This person"
        dialog = SplitDialog(
            self._controller,
            self._chips,
            self._namer,
            self.person_id,
            name,
            self._summary.cover_face_id,
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        dialog.start()
        self.split_dialog = dialog

    def rename_current(self) -> None:
        """F2: type the person's name."""
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def hide_selected(self) -> None:
        """Hide the person shown, or show them again (Ctrl+H)."""
        if self.person_id is not None and self._summary is not None:
            self._controller.hide(self.person_id, not self._summary.hidden)

    def remove_selected(self) -> None:
        faces = self.selected_faces()
        if faces:
            self._controller.remove_faces(faces)

    def cover_selected(self) -> None:
        faces = self.selected_faces()
        if faces and self.person_id is not None:
            self._controller.set_cover(self.person_id, faces[0])

    def not_face_selected(self) -> None:
        faces = self.selected_faces()
        if faces:
            self._controller.not_a_face(faces)

    def move_selected(self) -> None:
        faces = self.selected_faces()
        if not faces:
            return
        choice = self._pick_person(f"Move {len(faces)} face(s) to:", self.person_id)
        if choice is None:
            return
        if choice.person_id is not None:
            self._controller.move_faces(faces, choice.person_id)
        else:
            self._controller.move_faces_to_new_person(faces, choice.new_name)
