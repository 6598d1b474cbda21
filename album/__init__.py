"""Face Album: organize a photo library by the people in it.

Front door for scripts: `Album` (scan, people, search, retraining over one library); `Library` is
its storage alone.
"""

from album.album import Album
from album.library.library import Library

__version__ = "0.1.0"
__all__ = ["Album", "Library"]
