"""The People grid: one round face per person, name or "Unnamed", photo count.

`PeopleModel` holds only person summaries (ids, names, counts, cover face ids); covers come from
the shared chip `ThumbnailCache`, so `data()` never decodes or queries. Rename is inline (F2 or
the menu); dropping people onto a person asks to merge them; dropping faces moves them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QWidget,
)

from album.gui.person_delegate import UNNAMED, PersonDelegate, PersonRole
from album.gui.thumbs import ThumbnailCache

PERSON_MIME = "application/x-face-album-people"
FACE_MIME = "application/x-face-album-faces"
PersonIdRole = Qt.ItemDataRole.UserRole + 1
PhotoCountRole = Qt.ItemDataRole.UserRole + 2
CoverRole = Qt.ItemDataRole.UserRole + 3
ModelIndex = QModelIndex | QPersistentModelIndex


def person_label(name: str | None) -> str:
    return name if name else UNNAMED


def sort_people(people: Sequence) -> list:
    """Named people first, then by photo count (most first): the order the grid shows."""
    return sorted(
        people, key=lambda p: (p.name is None, -p.photo_count, (p.name or "").lower(), p.id)
    )


class PeopleModel(QAbstractListModel):
    """Person summaries in display order; asks (by signal) for renames, merges and face moves."""

    rename_requested = Signal(int, str)  # person id, new name
    merge_requested = Signal(list, int)  # source person ids, target person id
    move_faces_requested = Signal(list, int)  # face ids, target person id

    def __init__(self, thumbs: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self._people: list = []
        self._row_by_cover: dict[int, int] = {}
        self._thumbs = thumbs
        thumbs.ready.connect(self._on_thumb)

    def set_people(self, people: Sequence) -> None:
        """Replace the rows; keeps the view (selection, scroll) when only the details changed."""
        people = sort_people(people)
        if [p.id for p in people] == [p.id for p in self._people]:
            self._people = people
            self._index_covers()
            if people:
                self.dataChanged.emit(self.index(0), self.index(len(people) - 1))
            return
        self.beginResetModel()
        self._people = people
        self._index_covers()
        self.endResetModel()

    def person_at(self, row: int):
        return self._people[row]

    def people(self) -> list:
        return list(self._people)

    def row_of(self, person_id: int) -> int | None:
        return next((r for r, p in enumerate(self._people) if p.id == person_id), None)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._people)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        person = self._people[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return person_label(person.name)
        if role == Qt.ItemDataRole.EditRole:
            return person.name or ""
        if role == Qt.ItemDataRole.DecorationRole:
            return None if person.cover_face_id is None else self._thumbs.get(person.cover_face_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{person_label(person.name)}: {person.photo_count} photos, {person.face_count} faces"
        return {
            PersonRole: person,
            PersonIdRole: person.id,
            PhotoCountRole: person.photo_count,
            CoverRole: person.cover_face_id,
        }.get(role)

    def setData(self, index: ModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        name = str(value).strip()
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not name:
            return False
        person = self._people[index.row()]
        if name != person.name:
            self.rename_requested.emit(person.id, name)
        return True

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
        return (
            base | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
            if index.isValid()
            else Qt.ItemFlag.ItemIsDropEnabled
        )

    # -- drag and drop: people onto a person merges them, faces onto a person moves them ----
    def mimeTypes(self) -> list[str]:
        return [PERSON_MIME, FACE_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        ids = sorted({self._people[i.row()].id for i in indexes if i.isValid()})
        mime.setData(PERSON_MIME, json.dumps(ids).encode())
        return mime

    def canDropMimeData(
        self, data: QMimeData, action, row: int, column: int, parent: ModelIndex
    ) -> bool:
        return parent.isValid() and (data.hasFormat(PERSON_MIME) or data.hasFormat(FACE_MIME))

    def dropMimeData(
        self, data: QMimeData, action, row: int, column: int, parent: ModelIndex
    ) -> bool:
        if not parent.isValid():
            return False
        target = self._people[parent.row()].id
        if data.hasFormat(PERSON_MIME):
            sources = [i for i in json.loads(bytes(data.data(PERSON_MIME))) if i != target]
            if sources:
                self.merge_requested.emit(sources, target)
        elif data.hasFormat(FACE_MIME):
            self.move_faces_requested.emit(json.loads(bytes(data.data(FACE_MIME))), target)
        return False  # nothing to remove here: the refresh after the operation redraws

    def _index_covers(self) -> None:
        self._row_by_cover = {
            p.cover_face_id: r for r, p in enumerate(self._people) if p.cover_face_id is not None
        }

    def _on_thumb(self, face_id: object) -> None:
        row = self._row_by_cover.get(face_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class PeopleView(QListView):
    """Icon-mode grid with uniform cells; double-click (or Enter) opens a person."""

    person_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSpacing(6)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setItemDelegate(PersonDelegate(self))
        self.activated.connect(lambda index: self.person_activated.emit(index.data(PersonIdRole)))

    def selected_person_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [self.model().index(r, 0).data(PersonIdRole) for r in rows]
