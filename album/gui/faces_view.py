"""Grids of face chips (a person's face strip, the Unsorted faces page, search results).

`FaceModel` holds face ids only; chips come from the chip `ThumbnailCache`. Faces can be
multi-selected and dragged onto a person in the People grid to move them there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from album.gui.people_view import FACE_MIME
from album.gui.thumb_delegate import ThumbDelegate
from album.gui.thumbs import ThumbnailCache

FaceIdRole = Qt.ItemDataRole.UserRole + 11
ModelIndex = QModelIndex | QPersistentModelIndex


class FaceModel(QAbstractListModel):
    """Face ids in display order."""

    def __init__(self, thumbs: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self._ids: list[int] = []
        self._rows: dict[int, int] = {}
        self._thumbs = thumbs
        thumbs.ready.connect(self._on_thumb)

    def set_faces(self, face_ids: Sequence[int]) -> None:
        self.beginResetModel()
        self._ids = list(face_ids)
        self._rows = {face_id: row for row, face_id in enumerate(self._ids)}
        self.endResetModel()

    def face_ids(self) -> list[int]:
        return list(self._ids)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        face_id = self._ids[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(face_id)
        if role == FaceIdRole:
            return face_id
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )

    def mimeTypes(self) -> list[str]:
        return [FACE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        ids = sorted({self._ids[i.row()] for i in indexes if i.isValid()})
        mime.setData(FACE_MIME, json.dumps(ids).encode())
        return mime

    def _on_thumb(self, face_id: object) -> None:
        row = self._rows.get(face_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class FaceGrid(QListView):
    """Uniform chip grid (or a one-row strip) with multi-select; emits `face_activated(id)`."""

    face_activated = Signal(int)

    def __init__(
        self, chip_size: int = 88, strip: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setItemDelegate(ThumbDelegate(chip_size, self, round_placeholder=True))
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        if strip:
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setFixedHeight(chip_size + 30)
            self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.activated.connect(lambda index: self.face_activated.emit(index.data(FaceIdRole)))

    def selected_face_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [self.model().index(r, 0).data(FaceIdRole) for r in rows]


def add_widget_actions(widget: QWidget, actions: list[tuple[str, str | None, Callable]]) -> None:
    """Right-click menu entries for `widget`, each with a key that works while it has focus."""
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for text, key, slot in actions:
        action = QAction(text, widget)
        if key is not None:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(slot)
        widget.addAction(action)
