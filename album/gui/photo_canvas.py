"""One photo, fitted to the widget, with its face boxes and names; click a face to pick it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

BOX = QColor(255, 255, 255)
BOX_HOVER = QColor(255, 204, 0)
LABEL_BG = QColor(0, 0, 0, 170)


@dataclass(frozen=True)
class FaceBox:
    face_id: int
    box: tuple[float, float, float, float]  # full-image pixels, EXIF-rotated
    label: str  # the person's name, "Unnamed", or "" for an unsorted face


class PhotoCanvas(QWidget):
    """Paints a pixmap scaled to fit and the face boxes over it; `face_clicked(face_id)`."""

    face_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._pixmap: QPixmap | None = None
        self._full_size = (1, 1)
        self._faces: list[FaceBox] = []
        self._hover: int | None = None
        self.message = ""

    def set_photo(self, full_size: tuple[int, int], faces: list[FaceBox]) -> None:
        """The photo's full (rotated) size and faces; the pixmap follows when decoded."""
        self._pixmap, self._full_size, self._faces, self._hover = None, full_size, faces, None
        self.message = "Loading…"
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

    def _placement(self) -> tuple[float, QPointF]:
        width, height = self._full_size
        scale = min(self.width() / width, self.height() / height)
        return scale, QPointF(
            (self.width() - width * scale) / 2, (self.height() - height * scale) / 2
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
        if self.message:
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        painter.end()

    def _paint_face(self, painter: QPainter, face: FaceBox) -> None:
        rect = self.face_rect(face)
        painter.setPen(QPen(BOX_HOVER if face.face_id == self._hover else BOX, 2))
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

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hover = self.face_at(event.position())
        if hover != self._hover:
            self._hover = hover
            self.setCursor(
                Qt.CursorShape.PointingHandCursor if hover else Qt.CursorShape.ArrowCursor
            )
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        face_id = self.face_at(event.position())
        if face_id is not None and event.button() == Qt.MouseButton.LeftButton:
            self.face_clicked.emit(face_id)
