"""Paints a People grid cell: round face, name (bold; "Unnamed" in italics), photo count.

Each cell is rendered once into a pixmap and kept (keyed by what it shows), so painting a
scrolled page is one blit per person plus the selection highlight: Python-side work per paint
stays tiny even for grids of thousands.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

ModelIndex = QModelIndex | QPersistentModelIndex
PersonRole = Qt.ItemDataRole.UserRole + 4  # the row's PersonSummary
FACE = 112
CELL = QSize(150, 176)
PLACEHOLDER = QColor(128, 128, 128, 60)
CACHED_CELLS = 2000
UNNAMED = "Unnamed"


class PersonDelegate(QStyledItemDelegate):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._cells: OrderedDict[tuple, QPixmap] = OrderedDict()
        self.attach_completer = None  # set by the page: completes names in the rename box

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: ModelIndex):
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit) and self.attach_completer is not None:
            self.attach_completer(editor)
        return editor

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        return CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        target = getattr(self.parent(), "drop_target", None)
        dropping = target is not None and target.row() == index.row()
        if dropping or selected or state & QStyle.StateFlag.State_MouseOver:
            self._paint_highlight(painter, option, dropping, selected)
        person = index.data(PersonRole)
        face = index.data(Qt.ItemDataRole.DecorationRole)
        painter.drawPixmap(option.rect.topLeft(), self._cell(person, face, option))

    def _paint_highlight(
        self, painter: QPainter, option: QStyleOptionViewItem, dropping: bool, selected: bool
    ) -> None:
        """Selection / hover tint; the person a drag would merge into gets a ring as well."""
        color = option.palette.color(QPalette.ColorRole.Highlight)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if dropping:
            painter.setPen(QPen(color, 3))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        color.setAlpha(120 if dropping else 90 if selected else 35)
        painter.setBrush(color)
        painter.drawRoundedRect(option.rect.adjusted(3, 3, -3, -3), 10, 10)
        painter.restore()

    def _cell(self, person, face: QPixmap | None, option: QStyleOptionViewItem) -> QPixmap:
        key = (
            person.id,
            person.name,
            person.photo_count,
            person.hidden,
            face.cacheKey() if face else 0,
        )
        cell = self._cells.get(key)
        if cell is None:
            cell = render_cell(person, face, option)
            self._cells[key] = cell
            if len(self._cells) > CACHED_CELLS:
                self._cells.popitem(last=False)
        else:
            self._cells.move_to_end(key)
        return cell

    def setEditorData(self, editor: QWidget, index: ModelIndex) -> None:
        """Fill the rename box, but never over what the user is typing: a cover thumbnail
        arriving mid-edit emits dataChanged for the row, which would reset the text."""
        if isinstance(editor, QLineEdit) and editor.isModified():
            return
        super().setEditorData(editor, index)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: ModelIndex
    ) -> None:
        rect = option.rect
        editor.setGeometry(QRect(rect.left() + 4, rect.top() + FACE + 12, rect.width() - 8, 24))


def render_cell(person, face: QPixmap | None, option) -> QPixmap:
    """The whole cell as one pixmap; hidden people (shown on request) are drawn faded."""
    cell = QPixmap(CELL)
    cell.fill(Qt.GlobalColor.transparent)
    painter = QPainter(cell)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setOpacity(0.4 if person.hidden else 1.0)
    face_rect = QRect((CELL.width() - FACE) // 2, 8, FACE, FACE)
    if face is None or face.isNull():
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(PLACEHOLDER)
        painter.drawEllipse(face_rect)
    else:
        painter.drawPixmap(face_rect, face)
    _paint_text(painter, option, person.name, person.photo_count)
    painter.end()
    return cell


def _paint_text(painter: QPainter, option, name: str | None, count: int) -> None:
    font = QFont(option.font)
    font.setBold(name is not None)
    font.setItalic(name is None)
    painter.setFont(font)
    text_color = option.palette.color(QPalette.ColorRole.Text)
    painter.setPen(text_color)
    name_rect = QRect(4, FACE + 14, CELL.width() - 8, 20)
    label = painter.fontMetrics().elidedText(
        name or UNNAMED, Qt.TextElideMode.ElideRight, name_rect.width()
    )
    painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter, label)
    painter.setFont(option.font)
    dim = QColor(text_color)
    dim.setAlpha(150)
    painter.setPen(dim)
    photos = f"{count:,} photo{'s' if count != 1 else ''}"
    painter.drawText(name_rect.translated(0, 19), Qt.AlignmentFlag.AlignCenter, photos)
