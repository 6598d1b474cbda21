"""Decoding photos: EXIF orientation applied, RGB uint8 out, the file never written.

Built in: JPEG, PNG, WebP, AVIF, BMP, TIFF, GIF (first frame). HEIC/HEIF when `pillow-heif` is
installed, RAW embedded previews when `rawpy` is installed (the `heif` / `raw` extras).
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# A photo bigger than this many pixels is refused as a possible decompression bomb.
MAX_PIXELS = 250_000_000
# A file bigger than this is not read at all (a 250 MP photo compresses far below it; a 3 GB
# video or disk image named .jpg would otherwise be read into memory whole).
MAX_FILE_BYTES = 512 * 2**20
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

BUILTIN_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".webp",
    ".avif",
    ".bmp",
    ".tif",
    ".tiff",
    ".gif",
}
HEIF_EXTENSIONS = {".heic", ".heif", ".hif"}
RAW_EXTENSIONS = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw"}

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132


class ImageError(Exception):
    """A file that cannot be read as a photo; the message says why, for the user."""


def _heif_available() -> bool:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True


def _raw_available() -> bool:
    try:
        import rawpy  # noqa: F401
    except ImportError:
        return False
    return True


def missing_extras() -> dict[str, str]:
    """Photo extensions this installation cannot read, each with the extra that adds it."""
    missing = {}
    if not _heif_available():
        missing |= dict.fromkeys(HEIF_EXTENSIONS, "heif")
    if not _raw_available():
        missing |= dict.fromkeys(RAW_EXTENSIONS, "raw")
    return missing


def supported_extensions() -> set[str]:
    extensions = set(BUILTIN_EXTENSIONS)
    if _heif_available():
        extensions |= HEIF_EXTENSIONS
    if _raw_available():
        extensions |= RAW_EXTENSIONS
    return extensions


@dataclass(frozen=True)
class Decoded:
    rgb: np.ndarray  # (H, W, 3) uint8, EXIF-rotated, maybe downscaled
    taken_at: datetime | None
    width: int  # of the full image after EXIF rotation: boxes are stored in these pixels
    height: int

    @property
    def scale(self) -> float:
        """Full-image pixels per decoded pixel (1.0 when not downscaled)."""
        return self.width / self.rgb.shape[1]


def _raw_preview(data: bytes) -> Image.Image:
    import rawpy

    with rawpy.imread(io.BytesIO(data)) as raw:
        thumb = raw.extract_thumb()
        if thumb.format == rawpy.ThumbFormat.JPEG:
            return Image.open(io.BytesIO(thumb.data))
        return Image.fromarray(thumb.data)


def _taken_at(image: Image.Image) -> datetime | None:
    exif = image.getexif()
    value = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _rotated_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    if image.mode == "I;16" or image.mode.startswith("I"):
        image = image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def decode(data: bytes, name: str = "", max_side: int | None = None) -> Decoded:
    """Decode image bytes; `name` (the file name) picks the RAW path and labels errors."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if Path(name).suffix.lower() in RAW_EXTENSIONS and _raw_available():
                image = _raw_preview(data)
            else:
                image = Image.open(io.BytesIO(data))
            taken = _taken_at(image)
            width, height = _rotated_size(image)
            if max_side and max(image.size) > 2 * max_side and image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))  # fast DCT-domain downscale
            image = ImageOps.exif_transpose(image)
            image = _to_rgb(image)
            if max_side and max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
            return Decoded(np.asarray(image), taken, width, height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"too large to decode safely ({error})") from error
    except UnidentifiedImageError as error:
        raise ImageError("not an image this app can read") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"damaged or truncated image ({error})") from error
    except MemoryError as error:
        raise ImageError("too large to decode in the memory available") from error
    except Exception as error:  # noqa: BLE001 - a decoder plugin's bug is this file's error
        raise ImageError(f"cannot decode ({type(error).__name__}: {error})") from error


def read_file(path: str | Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (default MAX_FILE_BYTES), else
    ImageError (never blocks on a FIFO or a device, never reads a huge file into memory)."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise ImageError(f"cannot read file ({error.strerror or error})") from error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageError("not a regular file")
        if info.st_size > max_bytes:
            size = info.st_size / 2**20
            raise ImageError(f"too big to be a photo ({size:.0f} MB > {max_bytes >> 20} MB)")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as error:
            raise ImageError(f"cannot read file ({error.strerror or error})") from error
    if len(data) > max_bytes:
        raise ImageError(f"too big to be a photo (grew past {max_bytes >> 20} MB while read)")
    return data


def load_rgb(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """The photo at `path` as RGB uint8 (H, W, 3), EXIF-rotated, optionally downscaled."""
    path = Path(path)
    return decode(read_file(path), path.name, max_side).rgb
