"""Photo thumbnail grids (a person's photos, search results): rows are `FacePhoto`s, pixels lazy."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from album.gui.loaders import PhotoKey
from album.gui.thumb_delegate import ThumbDelegate
from album.gui.thumbs import ThumbnailCache
from album.people.types import FacePhoto

PhotoIdRole = Qt.ItemDataRole.UserRole + 21
ModelIndex = QModelIndex | QPersistentModelIndex


def photo_key(row: FacePhoto) -> PhotoKey:
    """The thumbnail of a row: its photo with the face outlined."""
    return PhotoKey(row.path, row.box)


class PhotoModel(QAbstractListModel):
    """`FacePhoto`s in display order; thumbnails from the photo `ThumbnailCache`."""

    def __init__(self, thumbs: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[FacePhoto] = []
        self._captions: dict[int, str] = {}
        self._row_of_key: dict = {}
        self._thumbs = thumbs
        thumbs.ready.connect(self._on_thumb)

    def set_rows(self, rows: Sequence[FacePhoto], captions: dict[int, str] | None = None) -> None:
        """`captions`: text drawn on a photo (e.g. whose face matched), by photo id."""
        self.beginResetModel()
        self._captions = captions or {}
        self._rows = list(rows)
        self._row_of_key = {photo_key(row): i for i, row in enumerate(self._rows)}
        self.endResetModel()

    def rows(self) -> list[FacePhoto]:
        return list(self._rows)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(photo_key(row))
        if role == Qt.ItemDataRole.ToolTipRole:
            when = row.taken_at.strftime("%d %b %Y") if row.taken_at else "date unknown"
            return f"{row.path}\n{when}"
        if role == PhotoIdRole:
            return row.photo_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._captions.get(row.photo_id)
        return None

    def _on_thumb(self, key: object) -> None:
        row = self._row_of_key.get(key)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class PhotoGrid(QListView):
    """Uniform thumbnail grid; Enter or double-click opens the photo (`photo_activated(id)`)."""

    photo_activated = Signal(int)

    def __init__(self, thumb_size: int = 200, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setItemDelegate(ThumbDelegate(thumb_size, self))
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.activated.connect(lambda index: self.photo_activated.emit(index.data(PhotoIdRole)))
