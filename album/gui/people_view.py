"""The People grid: one round face per person, name or "Unnamed", photo count.

`PeopleModel` holds only person summaries (ids, names, counts, cover face ids); covers come from
the shared chip `ThumbnailCache`, so `data()` never decodes or queries. Rename is inline (F2 or
the menu); dropping people onto a person asks to merge them; dropping faces moves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QDragMoveEvent, QDropEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QWidget

from album.gui.person_delegate import UNNAMED, PersonDelegate, PersonRole
from album.gui.thumbs import ThumbnailCache

PERSON_MIME = "application/x-face-album-people"
FACE_MIME = "application/x-face-album-faces"
PersonIdRole = Qt.ItemDataRole.UserRole + 1
PhotoCountRole = Qt.ItemDataRole.UserRole + 2
CoverRole = Qt.ItemDataRole.UserRole + 3
ModelIndex = QModelIndex | QPersistentModelIndex
DRAG_FACE = 72  # size of the face that follows the pointer while dragging a person


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

    def set_people(self, people: Sequence, keep_order: bool = False) -> None:
        """Replace the rows; keeps the view (selection, scroll) when only the details changed.
        `keep_order`: people already shown keep their places (new ones follow, sorted)."""
        people = sort_people(people)
        if keep_order:
            place = {p.id: row for row, p in enumerate(self._people)}
            people.sort(key=lambda p: place.get(p.id, len(place)))  # stable: new ones sorted
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

    def apply(self, changed: dict, removed: Iterable[int], show_hidden: bool) -> None:
        """Apply a change set in place: `changed` (person id -> summary) updates the tiles
        shown and appends new people after them; `removed` people and (unless `show_hidden`)
        newly hidden ones go. No reset: the selection and the scroll position stay."""
        hidden = {pid for pid, p in changed.items() if p.hidden and not show_hidden}
        gone = set(removed) | hidden
        shown = {p.id: row for row, p in enumerate(self._people)}
        for row in sorted((shown[pid] for pid in gone if pid in shown), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._people[row]
            self.endRemoveRows()
        rows = {p.id: row for row, p in enumerate(self._people)}
        for pid, summary in changed.items():
            if pid in rows:
                self._people[rows[pid]] = summary
                self.dataChanged.emit(self.index(rows[pid]), self.index(rows[pid]))
        new = sort_people([p for pid, p in changed.items() if pid not in rows and pid not in gone])
        if new:
            self.beginInsertRows(QModelIndex(), len(self._people), len(self._people) + len(new) - 1)
            self._people += new
            self.endInsertRows()
        self._index_covers()

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
    """Icon-mode grid with uniform cells; double-click (or Enter) opens a person.

    Dragging a person onto another is done here with plain mouse events (press, move, release),
    not QDrag: it never leaves this grid, it works the same on every platform plugin (offscreen
    has no drag and drop at all), and tests drive it with real mouse events. The person under
    the pointer is ringed (`drop_target`) and the dragged faces follow the pointer; release on
    a person asks to merge (`model.merge_requested`); Escape or release elsewhere cancels.
    Drops from other widgets (faces) are handled here too, not by QListView, whose static icon
    mode turns drops off on the viewport and would treat a drop as moving rows.
    """

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
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDragEnabled(False)  # people are dragged by `_PersonDrag`, below
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setItemDelegate(PersonDelegate(self))
        self.viewport().setAcceptDrops(True)  # after setMovement(Static), which turns it off
        self.drop_target: QPersistentModelIndex | None = None
        self._press: tuple[QPoint, QPersistentModelIndex] | None = None
        self.dragging: list[int] = []  # ids of the people being dragged
        self._drag_pos = QPoint()
        self.activated.connect(lambda index: self.person_activated.emit(index.data(PersonIdRole)))

    # -- dragging people onto a person ---------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        index = self.indexAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index.isValid():
            self._press = (event.position().toPoint(), QPersistentModelIndex(index))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if (
            self._press is not None
            and not self.dragging
            and event.buttons() & Qt.MouseButton.LeftButton
        ):
            if (pos - self._press[0]).manhattanLength() >= QApplication.startDragDistance():
                self._start_drag()
        if not self.dragging:
            super().mouseMoveEvent(event)
            return
        self._drag_pos = pos
        self._set_drop_target(self._person_target(self.indexAt(pos)))
        self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        if not self.dragging:
            super().mouseReleaseEvent(event)
            return
        target = self._person_target(self.indexAt(event.position().toPoint()))
        sources = self._end_drag()
        self.setState(QAbstractItemView.State.NoState)  # as the skipped release would have
        if target is not None:
            self.model().merge_requested.emit(sources, target.data(PersonIdRole))

    def keyPressEvent(self, event) -> None:
        if self.dragging and event.key() == Qt.Key.Key_Escape:
            self._end_drag()
            return
        super().keyPressEvent(event)

    def _start_drag(self) -> None:
        pressed = self._press[1]
        selected = self.selectionModel().isSelected(self.model().index(pressed.row(), 0))
        self.dragging = self.selected_person_ids() if selected else [pressed.data(PersonIdRole)]
        self.viewport().setCursor(Qt.CursorShape.DragMoveCursor)

    def _end_drag(self) -> list[int]:
        dragged, self.dragging, self._press = self.dragging, [], None
        self._set_drop_target(None)
        self.viewport().unsetCursor()
        self.viewport().update()
        return dragged

    def _person_target(self, index: QModelIndex) -> QModelIndex | None:
        if not index.isValid() or index.data(PersonIdRole) in self.dragging:
            return None
        return index

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.dragging:
            self._paint_dragged()

    def _paint_dragged(self) -> None:
        """The first dragged face under the pointer, with how many people are dragged."""
        row = self.model().row_of(self.dragging[0])
        face = (
            None if row is None else self.model().index(row, 0).data(Qt.ItemDataRole.DecorationRole)
        )
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setOpacity(0.75)
        rect = QRect(0, 0, DRAG_FACE, DRAG_FACE)
        rect.moveCenter(self._drag_pos)
        if face is not None and not face.isNull():
            painter.drawPixmap(rect, face)
        else:
            painter.setBrush(QColor(128, 128, 128))
            painter.drawEllipse(rect)
        if len(self.dragging) > 1:
            painter.setOpacity(1.0)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{len(self.dragging)}")
        painter.end()

    # -- drops from other widgets --------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasFormat(PERSON_MIME) or mime.hasFormat(FACE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self._target(event)
        self._set_drop_target(target)
        if target is None:
            event.ignore()
        else:
            event.setDropAction(Qt.DropAction.CopyAction)  # the source keeps its rows
            event.accept(self.visualRect(target))

    def dragLeaveEvent(self, event) -> None:
        self._set_drop_target(None)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self._target(event)
        self._set_drop_target(None)
        if target is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.model().dropMimeData(event.mimeData(), Qt.DropAction.MoveAction, -1, -1, target)

    def _target(self, event: QDragMoveEvent | QDropEvent) -> QModelIndex | None:
        """The person under the pointer, if the drag may land there (not on itself)."""
        index = self.indexAt(event.position().toPoint())
        mime = event.mimeData()
        if not index.isValid():
            return None
        if mime.hasFormat(PERSON_MIME):
            dragged = json.loads(bytes(mime.data(PERSON_MIME)))
            return None if dragged == [index.data(PersonIdRole)] else index
        return index if mime.hasFormat(FACE_MIME) else None

    def _set_drop_target(self, index: QModelIndex | None) -> None:
        old = self.drop_target
        self.drop_target = None if index is None else QPersistentModelIndex(index)
        for changed in (old, self.drop_target):
            if changed is not None and changed.isValid():
                self.viewport().update(self.visualRect(self.model().index(changed.row(), 0)))

    def selected_person_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [self.model().index(r, 0).data(PersonIdRole) for r in rows]
