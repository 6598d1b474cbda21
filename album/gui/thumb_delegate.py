"""Paints one thumbnail cell: the pixmap fitted and centred, or a soft placeholder until it loads.

A fixed size hint matters: with uniform item sizes the view sizes every cell from the first
one, and a cell whose pixmap has not loaded yet would otherwise be 0×0 and never asked to paint.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

PLACEHOLDER = QColor(128, 128, 128, 50)
CAPTION_BG = QColor(0, 0, 0, 160)
ModelIndex = QModelIndex | QPersistentModelIndex


class ThumbDelegate(QStyledItemDelegate):
    def __init__(self, thumb: int, parent=None, round_placeholder: bool = False) -> None:
        super().__init__(parent)
        self._thumb = thumb
        self._round = round_placeholder

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        return QSize(self._thumb + 8, self._thumb + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = option.rect.adjusted(2, 2, -2, -2)
        if option.state & QStyle.StateFlag.State_Selected:
            color = option.palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(cell, 6, 6)
        box = QRect(0, 0, self._thumb, self._thumb)
        box.moveCenter(cell.center())
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            target = QRect(
                QPoint(0, 0), pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            )
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PLACEHOLDER)
            inner = box.adjusted(4, 4, -4, -4)
            painter.drawEllipse(inner) if self._round else painter.drawRoundedRect(inner, 6, 6)
        caption = index.data(Qt.ItemDataRole.DisplayRole)
        if caption:
            self._paint_caption(painter, box, str(caption))
        painter.restore()

    def _paint_caption(self, painter: QPainter, box: QRect, caption: str) -> None:
        """A name on a dark band across the bottom of the thumbnail."""
        metrics = painter.fontMetrics()
        band = QRect(
            box.left(), box.bottom() - metrics.height() - 4, box.width(), metrics.height() + 4
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(CAPTION_BG)
        painter.drawRect(band)
        painter.setPen(QColor(255, 255, 255))
        text = metrics.elidedText(caption, Qt.TextElideMode.ElideRight, band.width() - 6)
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, text)
