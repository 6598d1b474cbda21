"""Thumbnail decoders run by `ThumbnailCache` workers: each turns a key into a `QImage`.

They run off the GUI thread, so they only build `QImage`s (safe in any thread), never pixmaps.
Face chips come from the library's chip cache (PNG, never a full photo); photo thumbnails are
decoded downscaled (JPEG DCT scaling) with the face of interest outlined.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen
from sqlalchemy import select

from album.imaging import decode
from album.library.library import Library
from album.library.schema import FaceChip

HIGHLIGHT = QColor(255, 204, 0)


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A deep copy, so the numpy buffer may be freed as soon as this returns."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def round_image(image: QImage, size: int) -> QImage:
    """`image` scaled to cover a `size` circle, outside transparent (the People grid look)."""
    out = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    scaled = image.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    clip = QPainterPath()
    clip.addEllipse(QRectF(0, 0, size, size))
    painter.setClipPath(clip)
    painter.drawImage((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    painter.end()
    return out


class ChipLoader:
    """face id -> round chip image, from the `face_chips` table (one short read per face)."""

    def __init__(self, lib: Library, size: int = 96, round_: bool = True) -> None:
        self._lib, self._size, self._round = lib, size, round_

    def __call__(self, face_id: int) -> QImage:
        with self._lib.session() as session:
            data = session.scalar(select(FaceChip.image).where(FaceChip.face_id == face_id))
        image = QImage.fromData(data or b"")
        if image.isNull():
            return image
        if self._round:
            return round_image(image, self._size)
        return image.scaled(
            self._size,
            self._size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )


@dataclass(frozen=True)
class PhotoKey:
    """What a photo thumbnail needs: the file and, optionally, a face box to outline."""

    path: str
    box: tuple[float, float, float, float] | None = None


class PhotoLoader:
    """PhotoKey -> downscaled, EXIF-rotated thumbnail with the face outlined."""

    def __init__(self, max_side: int = 220) -> None:
        self._max_side = max_side

    def __call__(self, key: PhotoKey) -> QImage:
        decoded = decode(Path(key.path).read_bytes(), Path(key.path).name, self._max_side)
        image = rgb_to_qimage(decoded.rgb)
        if key.box is not None:
            outline_face(image, key.box, 1.0 / decoded.scale)
        return image


def outline_face(image: QImage, box: tuple[float, float, float, float], scale: float) -> None:
    """Draw a rounded highlight around `box` (full-image pixels) on a downscaled `image`."""
    left, top, right, bottom = (v * scale for v in box)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(HIGHLIGHT, max(2.0, image.width() / 110))
    painter.setPen(pen)
    painter.setBrush(QBrush(Qt.BrushStyle.NoBrush))
    painter.drawRoundedRect(QRectF(left, top, right - left, bottom - top), 4, 4)
    painter.end()
