"""The app's icon (resources/icons/face-album.svg), drawn by Qt's SVG plugin at any size."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from album.resources import resource_path


def app_icon() -> QIcon:
    """The Face Album icon; an empty icon (Qt's default) if the resource is not installed."""
    try:
        return QIcon(str(resource_path("icons", "face-album.svg")))
    except FileNotFoundError:
        return QIcon()
