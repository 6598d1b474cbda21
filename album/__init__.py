"""Face Album: organize a photo library by the people in it."""

from album.library.library import Library

__version__ = "0.1.0"
__all__ = ["Library"]
