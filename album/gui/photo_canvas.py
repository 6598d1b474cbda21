"""One photo, fitted to the widget, with its face boxes and names; click a face to pick it.

Zoom: the wheel (or + / - / 0) zooms about the pointer from "fit" (1x) up to 8x; dragging pans
a zoomed photo. The face the user came from (`highlight`) is drawn in a stronger colour.
Right-click on a face asks for its menu (`face_menu_requested`). With `drawing` on, a drag
draws a box around a face the scan missed (`box_drawn`, in image pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

BOX = QColor(255, 255, 255)
BOX_HOVER = QColor(255, 204, 0)
BOX_HIGHLIGHT = QColor(0, 200, 255)
MAX_ZOOM = 8.0
ZOOM_STEP = 1.25
LABEL_BG = QColor(0, 0, 0, 170)


@dataclass(frozen=True)
class FaceBox:
    face_id: int
    box: tuple[float, float, float, float]  # full-image pixels, EXIF-rotated
    label: str  # the person's name, "Unnamed", or "" for an unsorted face


class PhotoCanvas(QWidget):
    """Paints a pixmap scaled to fit and the face boxes over it; `face_clicked(face_id)`."""

    face_clicked = Signal(int)
    face_menu_requested = Signal(int, QPoint)  # face id, global position
    box_drawn = Signal(tuple)  # (left, top, right, bottom) in image pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._pixmap: QPixmap | None = None
        self._full_size = (1, 1)
        self._faces: list[FaceBox] = []
        self._hover: int | None = None
        self.highlight: int | None = None  # the face the user came from
        self.zoom = 1.0  # 1 = the whole photo fits
        self._center = QPointF(0.5, 0.5)  # image point at the widget's centre when zoomed
        self._pan_from: QPointF | None = None
        self.drawing = False
        self._rubber: tuple[QPointF, QPointF] | None = None  # widget points while drawing
        self.message = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_photo(
        self, full_size: tuple[int, int], faces: list[FaceBox], highlight: int | None = None
    ) -> None:
        """The photo's full (rotated) size and faces; the pixmap follows when decoded."""
        self._pixmap, self._full_size, self._faces, self._hover = None, full_size, faces, None
        self.highlight = highlight
        self.zoom, self._center = 1.0, QPointF(full_size[0] / 2, full_size[1] / 2)
        self.message = "Loading…"
        self.update()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom about widget point `at` (default: the centre), between fit and MAX_ZOOM."""
        at = QPointF(self.width() / 2, self.height() / 2) if at is None else at
        scale, offset = self._placement()
        image_point = (at - offset) / scale
        self.zoom = min(MAX_ZOOM, max(1.0, self.zoom * factor))
        new_scale = self._fit_scale() * self.zoom
        # keep `image_point` under `at`: the centre moves accordingly
        self._center = QPointF(
            image_point.x() + (self.width() / 2 - at.x()) / new_scale,
            image_point.y() + (self.height() / 2 - at.y()) / new_scale,
        )
        if self.zoom == 1.0:
            self._center = QPointF(self._full_size[0] / 2, self._full_size[1] / 2)
        self.update()

    def set_pixmap(self, pixmap: QPixmap | None, message: str = "") -> None:
        self._pixmap, self.message = pixmap, message
        self.update()

    def face_rect(self, face: FaceBox) -> QRectF:
        """Where `face` is drawn, in widget coordinates."""
        scale, offset = self._placement()
        left, top, right, bottom = face.box
        return QRectF(
            offset.x() + left * scale,
            offset.y() + top * scale,
            (right - left) * scale,
            (bottom - top) * scale,
        )

    def face_at(self, point: QPointF) -> int | None:
        hits = [f for f in self._faces if self.face_rect(f).contains(point)]
        return min(hits, key=lambda f: self.face_rect(f).width()).face_id if hits else None

    def _fit_scale(self) -> float:
        width, height = self._full_size
        return min(self.width() / width, self.height() / height)

    def _placement(self) -> tuple[float, QPointF]:
        """Scale and offset of the image in the widget: fitted and centred, times the zoom."""
        scale = self._fit_scale() * self.zoom
        return scale, QPointF(
            self.width() / 2 - self._center.x() * scale,
            self.height() / 2 - self._center.y() * scale,
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(24, 24, 24))
        if self._pixmap is not None:
            scale, offset = self._placement()
            target = QRectF(
                offset,
                QPointF(
                    offset.x() + self._full_size[0] * scale, offset.y() + self._full_size[1] * scale
                ),
            )
            painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
            for face in self._faces:
                self._paint_face(painter, face)
        if self._rubber is not None:
            painter.setPen(QPen(BOX_HIGHLIGHT, 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(*self._rubber).normalized())
        if self.message:
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        painter.end()

    def _paint_face(self, painter: QPainter, face: FaceBox) -> None:
        rect = self.face_rect(face)
        if face.face_id == self._hover:
            painter.setPen(QPen(BOX_HOVER, 2))
        elif face.face_id == self.highlight:
            painter.setPen(QPen(BOX_HIGHLIGHT, 4))
        else:
            painter.setPen(QPen(BOX, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 4, 4)
        if not face.label:
            return
        metrics = QFontMetrics(painter.font())
        text_rect = QRectF(
            rect.left(),
            rect.bottom() + 3,
            metrics.horizontalAdvance(face.label) + 12,
            metrics.height() + 4,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LABEL_BG)
        painter.drawRoundedRect(text_rect, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, face.label)

    def set_drawing(self, on: bool) -> None:
        self.drawing, self._rubber = on, None
        if on:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.unsetCursor()
        self.update()

    def image_point(self, point: QPointF) -> QPointF:
        """Widget point -> image pixels."""
        scale, offset = self._placement()
        return (point - offset) / scale

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._rubber is not None:
            self._rubber = (self._rubber[0], event.position())
            self.update()
            return
        if self._pan_from is not None:
            scale = self._fit_scale() * self.zoom
            self._center -= (event.position() - self._pan_from) / scale
            self._pan_from = event.position()
            self.update()
            return
        hover = self.face_at(event.position())
        if hover != self._hover:
            self._hover = hover
            self.setCursor(
                Qt.CursorShape.PointingHandCursor if hover else Qt.CursorShape.ArrowCursor
            )
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.drawing and event.button() == Qt.MouseButton.LeftButton:
            self._rubber = (event.position(), event.position())
            return
        face_id = self.face_at(event.position())
        if face_id is not None and event.button() == Qt.MouseButton.LeftButton:
            self.face_clicked.emit(face_id)
        elif event.button() == Qt.MouseButton.LeftButton and self.zoom > 1.0:
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._rubber is not None:
            start, end = self.image_point(self._rubber[0]), self.image_point(event.position())
            self.set_drawing(False)
            box = (
                min(start.x(), end.x()),
                min(start.y(), end.y()),
                max(start.x(), end.x()),
                max(start.y(), end.y()),
            )
            self.box_drawn.emit(box)
            return
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.zoom_by(1 / MAX_ZOOM)
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        face_id = self.face_at(QPointF(event.pos()))
        if face_id is not None:
            self.face_menu_requested.emit(face_id, event.globalPos())
