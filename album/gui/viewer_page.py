"""The photo viewer: the full photo with named face boxes; clicking a face searches for that person.

The search runs once, at the lowest similarity the slider allows; moving the slider only filters
those hits on the GUI thread, so the match count follows the slider live. The slider spans the
model's calibrated scale (the default model's thresholds lie within 0.91 … 0.97 in cosine) and
starts at the model's same-person threshold, as `face-album search` does; its label says what
the chosen similarity means for this library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from album.gui.controller import AlbumController
from album.gui.loaders import PhotoKey
from album.gui.people_view import UNNAMED
from album.gui.person_picker import Choice
from album.gui.photo_canvas import FaceBox, PhotoCanvas
from album.gui.photos_view import PhotoGrid, PhotoModel
from album.gui.thumbs import ThumbnailCache
from album.people.threshold import meaning
from album.people.types import FacePhoto, PhotoInfo, SearchHit
from training.spec import Thresholds

SLIDER_STEPS = 1000  # slider ticks per unit of cosine similarity
UNCALIBRATED_RANGE = (0.30, 0.99)  # a model calibrated without a false-match curve
SEARCH_LIMIT = 2000  # most faces fetched per search; the slider filters these
SEARCH_HINT = "Click a face to find this person in other photos."


def slider_range(thresholds: Thresholds) -> tuple[float, float]:
    """From the loosest to the strictest calibrated threshold (the default model: false-match
    rate 1e-2 … 1e-6), widened to hold the model's own thresholds."""
    marks = [t for t, _, _ in thresholds.fmr_curve] or list(UNCALIBRATED_RANGE)
    marks += [thresholds.same_person, thresholds.suggestion]
    return min(marks), max(marks)


@dataclass(frozen=True)
class PhotoDetail:
    """One photo as the viewer shows it: the core's `PhotoInfo` with labelled face boxes."""

    photo_id: int
    path: str
    size: tuple[int, int]
    taken_at: datetime | None
    faces: list[FaceBox]

    @classmethod
    def of(cls, photo: PhotoInfo) -> PhotoDetail:
        boxes = [FaceBox(f.id, f.box, _label(f.person_id, photo.names)) for f in photo.faces]
        return cls(photo.id, photo.path, photo.size or (1, 1), photo.taken_at, boxes)


def _label(person_id: int | None, names: dict[int, str | None]) -> str:
    """The person's name, "Unnamed", or "" for an unsorted face."""
    return "" if person_id is None else names.get(person_id) or UNNAMED


@dataclass(frozen=True)
class Matches:
    """One face search: its hits down to the slider's floor and what the slider needs."""

    hits: list[SearchHit]
    rows: list[FacePhoto]
    thresholds: Thresholds
    faces: int  # in the library, for what a threshold means here
    names: dict[int, str]  # person id -> name, for the captions


class SearchPanel(QWidget):
    """Hits for one face, filtered by the slider; `photo_opened(id)` when a result is opened."""

    photo_opened = Signal(int)

    def __init__(self, photos: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(SEARCH_HINT)
        self.title.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("How alike a face must be to count as a match (cosine similarity)")
        self.threshold_label = QLabel()
        self.threshold_label.setWordWrap(True)
        self.count_label = QLabel()
        self.count_label.setStyleSheet("font-weight: 600;")
        self.model = PhotoModel(photos, self)
        self.grid = PhotoGrid(110)
        self.grid.setModel(self.model)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        row = QHBoxLayout()
        row.addWidget(QLabel("Looser"))
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("Stricter"))
        layout.addLayout(row)
        layout.addWidget(self.threshold_label)
        layout.addWidget(self.count_label)
        layout.addWidget(self.grid, 1)
        self._matches: Matches | None = None
        self._rows: dict[int, FacePhoto] = {}
        self.slider.valueChanged.connect(self._filter)
        self.grid.photo_activated.connect(self.photo_opened)
        self.clear()

    def clear(self) -> None:
        self._matches, self._rows = None, {}
        self.model.set_rows([])
        self.title.setText(SEARCH_HINT)
        for widget in (self.slider, self.threshold_label, self.count_label, self.grid):
            widget.setVisible(False)

    def set_threshold(self, value: float) -> None:
        self.slider.setValue(round(value * SLIDER_STEPS))

    def threshold(self) -> float:
        return self.slider.value() / SLIDER_STEPS

    def show_hits(self, title: str, matches: Matches) -> None:
        """The hits of a new search; the first one sets the slider's scale and its start (the
        model's same-person threshold), later ones keep the user's choice."""
        first = self.grid.isHidden()
        self._matches, self._rows = None, {row.face_id: row for row in matches.rows}
        low, high = slider_range(matches.thresholds)
        self.slider.setRange(round(low * SLIDER_STEPS), round(high * SLIDER_STEPS))
        if first:
            self.set_threshold(matches.thresholds.same_person)
        self._matches = matches
        self.title.setText(f"{title}, best matches first")
        for widget in (self.slider, self.threshold_label, self.count_label, self.grid):
            widget.setVisible(True)
        self._filter()

    def match_count(self) -> int:
        return self.model.rowCount()

    def photo_ids(self) -> list[int]:
        return [row.photo_id for row in self.model.rows()]

    def _filter(self) -> None:
        matches, threshold = self._matches, self.threshold()
        if matches is None:
            return
        photos: dict[int, FacePhoto] = {}
        captions: dict[int, str] = {}
        for hit in matches.hits:
            if (
                hit.similarity >= threshold
                and hit.photo_id not in photos
                and hit.face_id in self._rows
            ):
                photos[hit.photo_id] = self._rows[hit.face_id]
                captions[hit.photo_id] = matches.names.get(hit.person_id, "")
        self.model.set_rows(list(photos.values()), captions)
        said = meaning(matches.thresholds, threshold, matches.faces).describe()
        self.threshold_label.setText(f"Similarity at least {said}")
        self.count_label.setText(f"{len(photos):,} matching photo{'s' if len(photos) != 1 else ''}")


Picker = Callable[[str, int | None], Choice | None]


class ViewerPage(QWidget):
    """Full photo on the left, face search on the right.

    Left / Right step through the photos the viewer was opened from (a person's photos, or
    search results), Escape goes back; the face the user came from is highlighted. Right-click
    a face: find this person, name or move it, not this person, not a face.
    """

    photo_opened = Signal(int, object, object)  # photo id, the photo ids around it, face id
    closed = Signal()

    def __init__(
        self,
        controller: AlbumController,
        photos: ThumbnailCache,
        full: ThumbnailCache,
        pick_person: Picker | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller, self._full, self._pick_person = controller, full, pick_person
        self._sequence: list[int] = []
        self.canvas = PhotoCanvas()
        self.caption = QLabel()
        self.add_face_button = QPushButton("Add a missed face")
        self.add_face_button.setCheckable(True)
        self.add_face_button.setToolTip("A face the scan did not find? Drag a box around it")
        self.search = SearchPanel(photos)
        self.search.setMinimumWidth(280)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.canvas, 1)
        below = QHBoxLayout()
        below.addWidget(self.caption, 1)
        below.addWidget(self.add_face_button)
        column.addLayout(below)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.search)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(self.splitter)
        self.detail: PhotoDetail | None = None
        self._searching: int | None = None
        self._highlight: int | None = None
        self.canvas.face_clicked.connect(self.search_face)
        self.canvas.face_menu_requested.connect(self.face_menu)
        self.canvas.box_drawn.connect(self.add_face)
        self.add_face_button.toggled.connect(self._toggle_drawing)
        self.search.photo_opened.connect(self._open_result)
        full.ready.connect(self._on_full)
        self.face_menu_shown: QMenu | None = None
        self.face_added: int | None = None  # the last face drawn by hand
        self._loading: int | None = None
        for key, slot, where in (
            (Qt.Key.Key_Left, lambda: self.step(-1), left),  # the search keeps its own arrows
            (Qt.Key.Key_Right, lambda: self.step(1), left),
            (Qt.Key.Key_Escape, self._escape, self),
        ):
            shortcut = QShortcut(QKeySequence(key), where)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def show_photo(
        self,
        photo_id: int,
        sequence: Sequence[int] | None = None,
        face_id: int | None = None,
        keep_search: bool = False,
    ) -> None:
        """Show `photo_id`, one of `sequence` (for Left / Right), `face_id` highlighted; a
        search from another photo is cleared unless `keep_search` (a result was opened)."""
        self._sequence = list(sequence or [photo_id])
        if photo_id not in self._sequence:
            self._sequence = [photo_id]
        self._highlight, self._loading = face_id, photo_id
        self.add_face_button.setChecked(False)
        if not keep_search:
            self._searching = None
            self.search.clear()
        self.detail = None
        self.canvas.set_photo((1, 1), [])
        self.canvas.setFocus()
        self._controller.read(
            lambda people: PhotoDetail.of(people.photo(photo_id)),
            lambda detail: self._show_detail(photo_id, detail),
        )

    def reload(self) -> None:
        """The same photo again (names changed), keeping the sequence, highlight and search."""
        if self.detail is not None:
            self.show_photo(self.detail.photo_id, self._sequence, self._highlight, keep_search=True)

    def step(self, offset: int) -> None:
        """The next (+1) or previous (-1) photo of the sequence, if any."""
        if self._loading not in self._sequence:
            return
        position = self._sequence.index(self._loading) + offset  # keys pressed while loading count
        if 0 <= position < len(self._sequence):
            self.show_photo(self._sequence[position], self._sequence, None, keep_search=True)

    def position(self) -> tuple[int, int]:
        """(1-based place of the photo shown, number of photos) in the sequence."""
        if self.detail is None or self.detail.photo_id not in self._sequence:
            return 0, len(self._sequence)
        return self._sequence.index(self.detail.photo_id) + 1, len(self._sequence)

    def _open_result(self, photo_id: int) -> None:
        face = next((r.face_id for r in self.search.model.rows() if r.photo_id == photo_id), None)
        self.photo_opened.emit(photo_id, self.search.photo_ids(), face)

    def _show_detail(self, photo_id: int, detail: PhotoDetail) -> None:
        if photo_id != self._loading:
            return  # the user moved on
        self.detail = detail
        self.canvas.set_photo(detail.size, detail.faces, self._highlight)
        self._show_caption(detail)
        self._on_full(PhotoKey(detail.path))

    def _show_caption(self, detail: PhotoDetail) -> None:
        when = detail.taken_at.strftime("%d %B %Y, %H:%M") if detail.taken_at else "date unknown"
        place, total = self.position()
        where = f"{place} of {total}  ·  ← → for the others  ·  " if total > 1 else ""
        faces = f"{len(detail.faces)} face{'s' if len(detail.faces) != 1 else ''}"
        self.caption.setText(f"{where}{detail.path}   ·   {when}   ·   {faces}")

    def _on_full(self, key: object) -> None:
        if self.detail is None or key != PhotoKey(self.detail.path):
            return
        pixmap = self._full.get(key)
        if pixmap is not None:
            self.canvas.set_pixmap(pixmap)

    def search_face(self, face_id: int) -> None:
        """Find every photo whose faces look like `face_id` (slider sets how alike)."""
        self._searching = face_id
        faces = self.detail.faces if self.detail else []
        label = next((f.label for f in faces if f.face_id == face_id), "")
        title = f"Photos of {label}" if label and label != UNNAMED else "Photos like this face"

        self._controller.read(
            lambda people: _search(people, face_id),
            lambda matches: self._show_hits(face_id, title, matches),
        )

    def _show_hits(self, face_id: int, title: str, matches: Matches) -> None:
        if face_id == self._searching:
            self.search.show_hits(title, matches)

    # -- fixing a face from the photo -----------------------------------------------------------
    def _escape(self) -> None:
        """Escape stops drawing a box, else goes back."""
        if self.add_face_button.isChecked():
            self.add_face_button.setChecked(False)
        else:
            self.closed.emit()

    def _toggle_drawing(self, on: bool) -> None:
        self.canvas.set_drawing(on)
        if on:
            self.caption.setText("Drag a box around the face the scan missed (Escape: never mind).")
        elif self.detail is not None:
            self._show_caption(self.detail)

    def add_face(self, box: tuple) -> None:
        """Store the drawn face (embedded like a scanned one), then ask whose it is."""
        self.add_face_button.setChecked(False)
        if self.detail is None:
            return
        photo_id, controller = self.detail.photo_id, self._controller
        controller.read(
            lambda people: people.add_face(photo_id, box, controller.face_pipeline()),
            self._face_added,
        )

    def _face_added(self, face_id: int) -> None:
        self.face_added = face_id
        self.reload()
        self._name_face(face_id, "")

    def face_menu(self, face_id: int, where: QPoint) -> None:
        menu = self.make_face_menu(face_id)
        menu.popup(where)

    def make_face_menu(self, face_id: int) -> QMenu:
        """Find this person, Name / move to…, Not <name>, Not a face."""
        face = next(f for f in (self.detail.faces if self.detail else []) if f.face_id == face_id)
        menu = QMenu(self)
        menu.addAction("Find in other photos", lambda: self.search_face(face_id))
        named = face.label and face.label != UNNAMED
        menu.addAction(
            "Move to another person…" if named else "Name this face…",
            lambda: self._name_face(face_id, face.label),
        )
        if face.label:
            menu.addAction(
                f"Not {face.label if named else 'this person'}",
                lambda: self._controller.remove_faces([face_id]),
            )
        menu.addAction("Not a face", lambda: self._controller.not_a_face([face_id]))
        self.face_menu_shown = menu
        return menu

    def _name_face(self, face_id: int, label: str) -> None:
        if self._pick_person is None:
            return
        choice = self._pick_person("Who is this?", None)
        if choice is None:
            return
        if choice.person_id is not None:
            self._controller.move_faces([face_id], choice.person_id)
        else:
            self._controller.move_faces_to_new_person([face_id], choice.new_name)


def _search(people, face_id: int) -> Matches:
    """Every face like `face_id` down to the slider's floor (on the library thread)."""
    thresholds = people.thresholds()
    hits = people.search_face(face_id, slider_range(thresholds)[0], k=SEARCH_LIMIT)
    rows = people.face_photos([h.face_id for h in hits], newest_first=False)
    names = {p.id: p.name for p in people.list_people(include_hidden=True) if p.name}
    return Matches(hits, rows, thresholds, len(people.index()), names)
