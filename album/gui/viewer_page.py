"""The photo viewer: the full photo with named face boxes; clicking a face searches for that person.

The search runs once, at the lowest similarity the slider allows; moving the slider only filters
those hits on the GUI thread, so the match count follows the slider live.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from album.gui.controller import AlbumController
from album.gui.loaders import PhotoKey
from album.gui.people_view import UNNAMED
from album.gui.photo_canvas import PhotoCanvas
from album.gui.photos_view import PhotoGrid, PhotoModel
from album.gui.queries import PhotoDetail, PhotoRow, face_photos, photo_detail
from album.gui.thumbs import ThumbnailCache
from album.people.types import SearchHit

SLIDER_MIN = 0.30
SEARCH_LIMIT = 2000  # most faces fetched per search; the slider filters these
SEARCH_HINT = "Click a face to find this person in other photos."


def default_threshold(model: dict | None) -> float:
    """The active model's calibrated same-person threshold (cosine), else a middle value."""
    spec = (model or {}).get("spec") or {}
    return float((spec.get("thresholds") or {}).get("same_person", 0.5))


class SearchPanel(QWidget):
    """Hits for one face, filtered by the slider; `photo_opened(id)` when a result is opened."""

    photo_opened = Signal(int)

    def __init__(self, photos: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(SEARCH_HINT)
        self.title.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(SLIDER_MIN * 100), 99)
        self.slider.setToolTip("How alike a face must be to count as a match (cosine similarity)")
        self.threshold_label = QLabel()
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
        self._hits: list[SearchHit] = []
        self._rows: dict[int, PhotoRow] = {}
        self.slider.valueChanged.connect(self._filter)
        self.grid.photo_activated.connect(self.photo_opened)
        self.clear()

    def clear(self) -> None:
        self._hits, self._rows = [], {}
        self.title.setText(SEARCH_HINT)
        for widget in (self.slider, self.threshold_label, self.count_label, self.grid):
            widget.setVisible(False)

    def set_threshold(self, value: float) -> None:
        self.slider.setValue(round(value * 100))

    def threshold(self) -> float:
        return self.slider.value() / 100

    def show_hits(self, title: str, hits: list[SearchHit], rows: list[PhotoRow]) -> None:
        self._hits, self._rows = hits, {row.face_id: row for row in rows}
        self.title.setText(f"{title}, best matches first")
        for widget in (self.slider, self.threshold_label, self.count_label, self.grid):
            widget.setVisible(True)
        self._filter()

    def match_count(self) -> int:
        return self.model.rowCount()

    def _filter(self) -> None:
        threshold = self.threshold()
        photos: dict[int, PhotoRow] = {}
        for hit in self._hits:
            if (
                hit.similarity >= threshold
                and hit.photo_id not in photos
                and hit.face_id in self._rows
            ):
                photos[hit.photo_id] = self._rows[hit.face_id]
        self.model.set_rows(list(photos.values()))
        self.threshold_label.setText(f"Similarity at least {threshold:.2f}")
        self.count_label.setText(f"{len(photos):,} matching photo{'s' if len(photos) != 1 else ''}")


class ViewerPage(QWidget):
    """Full photo on the left, face search on the right."""

    photo_opened = Signal(int)

    def __init__(
        self,
        controller: AlbumController,
        photos: ThumbnailCache,
        full: ThumbnailCache,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller, self._full = controller, full
        self.canvas = PhotoCanvas()
        self.caption = QLabel()
        self.search = SearchPanel(photos)
        self.search.setMinimumWidth(280)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.canvas, 1)
        column.addWidget(self.caption)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.search)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(self.splitter)
        self.detail: PhotoDetail | None = None
        self._searching: int | None = None
        self.canvas.face_clicked.connect(self.search_face)
        self.search.photo_opened.connect(self.photo_opened)
        full.ready.connect(self._on_full)

    def show_photo(self, photo_id: int) -> None:
        self.detail = None
        self.canvas.set_photo((1, 1), [])
        lib = self._controller.lib
        self._controller.read(lambda _people: photo_detail(lib, photo_id), self._show_detail)

    def _show_detail(self, detail: PhotoDetail) -> None:
        self.detail = detail
        self.canvas.set_photo(detail.size, detail.faces)
        when = detail.taken_at.strftime("%d %B %Y, %H:%M") if detail.taken_at else "date unknown"
        self.caption.setText(
            f"{detail.path}   ·   {when}   ·   {len(detail.faces)} face{'s' if len(detail.faces) != 1 else ''}"
        )
        self._on_full(PhotoKey(detail.path))

    def _on_full(self, key: object) -> None:
        if self.detail is None or key != PhotoKey(self.detail.path):
            return
        pixmap = self._full.get(key)
        if pixmap is not None:
            self.canvas.set_pixmap(pixmap)

    def search_face(self, face_id: int) -> None:
        """Find every photo whose faces look like `face_id` (slider sets how alike)."""
        self._searching = face_id
        lib = self._controller.lib
        faces = self.detail.faces if self.detail else []
        label = next((f.label for f in faces if f.face_id == face_id), "")
        title = f"Photos of {label}" if label and label != UNNAMED else "Photos like this face"

        def run(people):
            hits = people.search_face(face_id, SLIDER_MIN, k=SEARCH_LIMIT)
            rows = face_photos(lib, [h.face_id for h in hits], newest_first=False)
            return hits, rows, default_threshold(lib.active_model())

        self._controller.read(run, lambda result: self._show_hits(face_id, title, result))

    def _show_hits(
        self, face_id: int, title: str, result: tuple[list[SearchHit], list[PhotoRow], float]
    ) -> None:
        if face_id != self._searching:
            return
        hits, rows, threshold = result
        if self.search.grid.isHidden():
            self.search.set_threshold(threshold)
        self.search.show_hits(title, hits, rows)
