"""dlib's 5-point landmark regressor, read from its `.dat` and run in numpy without dlib.

The model (`shape_predictor_5_face_landmarks.dat`, CC0) is a cascade of 15 levels of 500
regression trees (Kazemi & Sullivan 2014). Each level samples 800 grey pixels placed relative to
the current shape estimate, walks every tree on pixel differences and adds the leaves to the
shape. This port reproduces `dlib.shape_predictor` bit for bit (dlib's
`image_processing/shape_predictor.h` is the specification) and runs all faces of an image and
all trees of a level as array operations.

Box convention: a box is (left, top, right, bottom) exactly as dlib's `rectangle` holds it, i.e.
right/bottom INCLUSIVE; a box from `dlib.rectangle(l, t, r, b)` is passed as (l, t, r, b). dlib
maps the shape's unit square onto tl=(left, top) .. br=(right, bottom), so the box is used as
given (no +1). A detector reporting exclusive right/bottom (e.g. x + w) must subtract 1 to get
dlib's landmarks. Non-integer boxes work too; dlib itself only sees integer rectangles.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from album.faces.model_files import LANDMARKS_5, dlib_model_path
from training.dlib_format import DlibFormatError

CACHE_LAYOUT = 1  # bump when the cached arrays change meaning


@dataclass(frozen=True)
class ShapePredictorArrays:
    """The parsed model. L levels, T trees per level, S splits per tree, P pixels per level."""

    initial_shape: np.ndarray  # (2K,) float32: x0, y0, x1, y1, ... in box-normalized units
    split_idx1: np.ndarray  # (L, T, S) int32: feature pixel indices
    split_idx2: np.ndarray  # (L, T, S) int32
    split_thresh: np.ndarray  # (L, T, S) float32
    leaves: np.ndarray  # (L, T, S + 1, 2K) float32: shape updates
    anchor_idx: np.ndarray  # (L, P) int32: shape point each feature pixel hangs off
    deltas: np.ndarray  # (L, P, 2) float32: offset from that point in initial-shape units


# --- reading the file ---------------------------------------------------------------------


def _integer_starts(buf: np.ndarray) -> np.ndarray:
    """Offsets of every integer in a file that is one run of dlib integers.

    Each integer is a control byte (low nibble = byte count) and that many bytes, so where one
    ends the next begins. Following that chain one step at a time is a Python loop over ~3 M
    integers; instead we follow it by pointer doubling over the plausible control bytes.
    """
    n = len(buf)
    size = (buf & 0x0F).astype(np.int32)
    plausible = ((buf & 0x70) == 0) & (size >= 1) & (size <= 8)
    candidates = np.flatnonzero(plausible).astype(np.int32)
    if n == 0 or not plausible[0]:
        raise DlibFormatError("not a dlib shape predictor file")
    rank = np.cumsum(np.append(plausible, False), dtype=np.int32) - 1
    after = np.minimum(candidates + size[candidates] + 1, n)
    end = len(candidates)
    jump = np.where(np.append(plausible, False)[after], rank[after], end).astype(np.int32)
    jump = np.append(jump, np.int32(end))
    chain = np.zeros(1, np.int32)
    while True:  # chain holds the steps 0 .. 2^k - 1; jump moves 2^k steps
        ahead = jump[chain]
        ahead = ahead[ahead < end]
        chain = np.concatenate([chain, ahead])
        if len(ahead) < len(chain) - len(ahead):
            break
        jump = jump[jump]
    starts = candidates[chain]
    if starts[-1] + size[starts[-1]] + 1 != n:
        raise DlibFormatError("the integers do not run to the end of the file")
    return starts


def _decode_integers(buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
    control = buf[starts]
    size = (control & 0x0F).astype(np.int64)
    padded = np.concatenate([buf, np.zeros(8, np.uint8)])
    value = np.zeros(len(starts), np.uint64)
    for k in range(8):
        byte = padded[starts + 1 + k].astype(np.uint64) << np.uint64(8 * k)
        value |= np.where(k < size, byte, np.uint64(0))
    signed = value.astype(np.int64)
    return np.where(control & 0x80, -signed, signed)


def _floats(pairs: np.ndarray) -> np.ndarray:
    """dlib floats: (mantissa, exponent) integer pairs on the last axis -> float32."""
    mantissa, exponent = pairs[..., 0].astype(np.float64), pairs[..., 1]
    finite = exponent < 32000
    value = np.ldexp(mantissa, np.where(finite, exponent, 0).astype(np.int32))
    special = np.select([exponent == 32000, exponent == 32001], [np.inf, -np.inf], np.nan)
    return np.where(finite, value, special).astype(np.float32)


class _Cursor:
    """Walks the decoded integer stream in the order dlib serialized it."""

    def __init__(self, ints: np.ndarray) -> None:
        self.ints, self.pos = ints, 0

    def take(self, count: int) -> np.ndarray:
        if self.pos + count > len(self.ints):
            raise DlibFormatError("shape predictor file ends early")
        chunk = self.ints[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def one(self) -> int:
        return int(self.take(1)[0])

    def peek(self) -> int:
        value = self.one()
        self.pos -= 1
        return value

    def expect(self, values: np.ndarray, expected: int, what: str) -> None:
        if np.any(values != expected):
            raise DlibFormatError(f"{what}: expected {expected}, found {np.unique(values)}")


def _read_forests(cur: _Cursor, dim: int) -> tuple[np.ndarray, ...]:
    """All trees at once: every tree has the same split and leaf counts, which we verify."""
    levels = cur.one()
    per_level, idx1, idx2, thresh, leaves = [], [], [], [], []
    for _ in range(levels):
        trees = cur.one()
        splits = cur.peek()
        width = 1 + 4 * splits + 1 + (splits + 1) * (2 + 2 * dim)
        block = cur.take(trees * width).reshape(trees, width)
        cur.expect(block[:, 0], splits, "splits per tree")
        cur.expect(block[:, 1 + 4 * splits], splits + 1, "leaves per tree")
        split = block[:, 1 : 1 + 4 * splits].reshape(trees, splits, 4)
        leaf = block[:, 2 + 4 * splits :].reshape(trees, splits + 1, 2 + 2 * dim)
        cur.expect(np.abs(leaf[..., 0]), dim, "leaf rows")
        cur.expect(np.abs(leaf[..., 1]), 1, "leaf columns")
        per_level.append((trees, splits))
        idx1.append(split[..., 0])
        idx2.append(split[..., 1])
        thresh.append(_floats(split[..., 2:4]))
        leaves.append(_floats(leaf[..., 2:].reshape(trees, splits + 1, dim, 2)))
    if len(set(per_level)) != 1 or (per_level[0][1] + 1) & per_level[0][1]:
        raise DlibFormatError(f"uneven or incomplete trees: {sorted(set(per_level))}")
    return tuple(np.stack(a) for a in (idx1, idx2, thresh, leaves))


def _read_pixels(cur: _Cursor, levels: int) -> tuple[np.ndarray, np.ndarray]:
    cur.expect(np.array([cur.one()]), levels, "anchor levels")
    anchors = []
    for _ in range(levels):
        anchors.append(cur.take(cur.one()))
    cur.expect(np.array([cur.one()]), levels, "delta levels")
    deltas = []
    for _ in range(levels):
        deltas.append(_floats(cur.take(4 * cur.one()).reshape(-1, 2, 2)))
    return np.stack(anchors).astype(np.int32), np.stack(deltas)


def parse_shape_predictor(data: bytes) -> ShapePredictorArrays:
    """Parse a dlib `shape_predictor` (serialization version 1) into arrays."""
    buf = np.frombuffer(data, np.uint8)
    cur = _Cursor(_decode_integers(buf, _integer_starts(buf)))
    cur.expect(np.array([cur.one()]), 1, "shape_predictor version")
    rows, cols = abs(cur.one()), abs(cur.one())
    initial = _floats(cur.take(2 * rows * cols).reshape(-1, 2))
    idx1, idx2, thresh, leaves = _read_forests(cur, rows * cols)
    anchor_idx, deltas = _read_pixels(cur, len(idx1))
    if cur.pos != len(cur.ints):
        raise DlibFormatError("trailing data after the shape predictor")
    features = anchor_idx.shape[1]
    if max(idx1.max(), idx2.max()) >= features or anchor_idx.max() >= rows * cols // 2:
        raise DlibFormatError("index out of range in the shape predictor")
    return ShapePredictorArrays(
        initial, idx1.astype(np.int32), idx2.astype(np.int32), thresh, leaves, anchor_idx, deltas
    )


# --- caching -------------------------------------------------------------------------------

_LOADED: dict[tuple[str, int, int], ShapePredictorArrays] = {}


def load_shape_predictor(
    path: str | Path | None = None, cache_dir: str | Path | None = None
) -> ShapePredictorArrays:
    """Parsed arrays for a `.dat`, from this process's cache, then `cache_dir`, then the file.

    Entries are keyed by the file's resolved path, size and mtime, so a replaced file is
    re-parsed. The disk cache is a plain `.npz` (no pickles); it is written atomically.
    """
    path = Path(path) if path is not None else dlib_model_path(LANDMARKS_5)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _LOADED:
        return _LOADED[key]
    cached = None
    if cache_dir is not None:
        cached = (
            Path(cache_dir) / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}-v{CACHE_LAYOUT}.npz"
        )
    arrays = _read_npz(cached) if cached is not None else None
    if arrays is None:
        arrays = parse_shape_predictor(path.read_bytes())
        if cached is not None:
            _write_npz(cached, arrays)
    _LOADED[key] = arrays
    return arrays


def _read_npz(source: Path) -> ShapePredictorArrays | None:
    """The cached arrays, or None when the cache entry is absent or unreadable (then re-parse)."""
    try:
        with np.load(source, allow_pickle=False) as npz:
            return ShapePredictorArrays(
                **{f.name: npz[f.name] for f in fields(ShapePredictorArrays)}
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _write_npz(target: Path, arrays: ShapePredictorArrays) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(partial, "wb") as handle:
        np.savez(handle, **{f.name: getattr(arrays, f.name) for f in fields(arrays)})
    os.replace(partial, target)


# --- prediction ----------------------------------------------------------------------------


def similarity_basis(reference: np.ndarray) -> np.ndarray:
    """(2K, 4) matrix B such that flat_shapes (N, 2K) @ B is the 2x2 part of the least-squares
    similarity from `reference` (K, 2) to each shape, row by row.

    dlib solves it with Umeyama's SVD in double. In 2-D the optimum (a rotation times a scale)
    has the closed form [[p, -q], [q, p]] with p = (c00 + c11) / s, q = (c10 - c01) / s, where
    c = sum_k shape_k (reference_k - mean)^T and s = sum_k |reference_k - mean|^2; c needs no
    centring of the shape because the centred reference sums to zero. All of that is linear in
    the shape, hence one matrix; it agrees with dlib's SVD to ~1e-16 before the float32 cast.
    """
    ref = np.asarray(reference, np.float64)
    ref = ref - ref.mean(axis=0)
    ref = ref / np.square(ref).sum()
    basis = np.zeros((len(ref), 2, 4))  # [point, x or y of the shape, (p, -q, q, p)]
    basis[:, 0] = np.stack([ref[:, 0], ref[:, 1], -ref[:, 1], ref[:, 0]], axis=1)
    basis[:, 1] = np.stack([ref[:, 1], -ref[:, 0], ref[:, 0], ref[:, 1]], axis=1)
    return basis.reshape(-1, 4)


def _leaf_table(splits: int) -> np.ndarray:
    """Leaf index reached for every 16-bit pattern of split outcomes (bit i: split i went left).

    Evaluating all splits of a tree at once and looking the leaf up replaces walking the tree
    level by level, which is many small array operations per level."""
    depth = (splits + 1).bit_length() - 1
    if splits + 1 != 1 << depth or splits >= 16:
        raise DlibFormatError(f"trees with {splits} splits are not supported (at most 15)")
    codes = np.arange(1 << 16)
    node = np.zeros_like(codes)
    for _ in range(depth):
        node = 2 * node + 2 - ((codes >> node) & 1)  # left child 2i+1 when the bit is set
    return (node - splits).astype(np.intp)


class ShapePredictor5:
    """`LandmarkPredictor` for dlib's 5-point model; outputs match `dlib.shape_predictor`.

    predict(image, boxes): image (H, W, 3) RGB uint8; boxes (N, 4) (left, top, right, bottom)
    in dlib's inclusive convention (see the module docstring). Returns (N, 5, 2) float32 in
    dlib's point order (0, 1: outer/inner corner of the eye on the image's right; 2, 3: outer/
    inner corner of the other eye; 4: under the nose). Points are rounded to whole pixels as
    dlib returns them, unless `subpixel=True`, which keeps the regressor's fractional output.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        subpixel: bool = False,
    ) -> None:
        self.model = model = load_shape_predictor(path, cache_dir)
        self.subpixel = subpixel
        levels, trees, splits = model.split_idx1.shape
        self._leaf_of = _leaf_table(splits)
        # pixel differences are whole numbers in [-255, 255], so d > t exactly when d > floor(t)
        self._thresh = np.clip(np.floor(model.split_thresh), -256, 256).astype(np.int16)
        self._idx1 = model.split_idx1.reshape(levels, -1).astype(np.intp)
        self._idx2 = model.split_idx2.reshape(levels, -1).astype(np.intp)
        self._leaves = model.leaves.reshape(levels, -1, model.leaves.shape[-1])
        self._leaf_base = (np.arange(trees, dtype=np.intp) * (splits + 1))[:, None]
        self._similarity = similarity_basis(model.initial_shape.reshape(-1, 2))
        self._deltas = model.deltas.transpose(0, 2, 1)  # (L, 2, P): dx row, dy row
        # columns of the anchor point's x and y in the flat (N, 2K) shape: (L, 2, P)
        self._anchor_cols = 2 * model.anchor_idx.astype(np.intp)[:, None, :] + np.arange(2)[:, None]

    def predict(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}"
            )
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        shape = np.tile(self.model.initial_shape, (len(boxes), 1))
        if len(boxes) == 0:
            return np.zeros((0, len(self.model.initial_shape) // 2, 2), np.float32)
        low, size = boxes[:, :2, None], (boxes[:, 2:] - boxes[:, :2])[:, :, None]
        image = np.ascontiguousarray(image)  # once, not a copy per level for a flipped view
        for level in range(len(self._idx1)):
            pixels = self._feature_pixels(image, low, size, shape, level)
            leaves = self._leaf_values(pixels, level)
            leaves[0] += shape  # dlib: ((shape + leaf_0) + leaf_1) + ... in float32
            shape = sum_in_order(leaves)
        points = shape.reshape(len(boxes), -1, 2).transpose(0, 2, 1).astype(np.float64) * size + low
        if not self.subpixel:
            points = np.floor(points + 0.5)
        return points.transpose(0, 2, 1).astype(np.float32)

    def _feature_pixels(
        self, image: np.ndarray, low: np.ndarray, size: np.ndarray, shape: np.ndarray, level: int
    ) -> np.ndarray:
        """Grey values (N, P) int16 of this level's sample pixels placed on the current shape.

        As dlib: the similarity's 2x2 times the pixel's offset plus its anchor point, in
        float32; then the box mapping in double, rounded half up to a whole pixel; grey is
        (R + G + B) // 3 and pixels outside the image read 0.
        """
        tform = (shape.astype(np.float64) @ self._similarity).astype(np.float32).reshape(-1, 2, 2)
        dx, dy = self._deltas[level]
        unit = tform[:, :, :1] * dx  # (N, 2, P)
        unit += tform[:, :, 1:] * dy
        unit += shape.take(self._anchor_cols[level], axis=1)
        xy = np.floor(unit.astype(np.float64) * size + low + 0.5).astype(np.intp)
        height, width = image.shape[:2]
        inside = (xy.view(np.uintp) < np.array([[width], [height]], np.uintp)).all(axis=1)
        flat = np.where(inside, xy[:, 1] * width + xy[:, 0], 0)
        rgb = image.reshape(-1, 3).take(flat, axis=0)
        total = rgb[..., 0].astype(np.uint16)
        total += rgb[..., 1]
        total += rgb[..., 2]
        grey = _GREY.take(total)
        grey *= inside
        return grey

    def _leaf_values(self, pixels: np.ndarray, level: int) -> np.ndarray:
        """Every tree of a level for every face; returns the leaves (T, N, 2K) in tree order.

        A tree goes to its left child when pixel[idx1] - pixel[idx2] > threshold; the difference
        is a whole number, so comparing it with floor(threshold) in int16 is exact.
        """
        trees, splits = self.model.split_thresh.shape[1:]
        diff = pixels.take(self._idx1[level], axis=1) - pixels.take(self._idx2[level], axis=1)
        went_left = np.zeros((len(pixels), trees, 16), bool)
        np.greater(
            diff.reshape(len(pixels), trees, splits),
            self._thresh[level],
            out=went_left[..., :splits],
        )
        leaf = self._leaf_base + self._leaf_of.take(_pack_bits16(went_left).T)
        return self._leaves[level].take(leaf, axis=0)


_BYTES_TO_BITS = np.uint64(0x0102040810204080)  # moves byte i (0 or 1) of a word to bit 56 + i


def _pack_bits16(flags: np.ndarray) -> np.ndarray:
    """(..., 16) bool, C-contiguous -> (...) int64 whose bit i is flags[..., i].

    Eight flags are one little-endian uint64 word; one multiplication gathers them into its top
    byte (no carries reach it since every flag is 0 or 1). Several times faster than packbits.
    """
    words = (flags.view(np.uint64) * _BYTES_TO_BITS) >> np.uint64(56)
    low, high = words.view(np.int64)[..., 0], words.view(np.int64)[..., 1]
    return low | (high << 8)


def sum_in_order(rows: np.ndarray) -> np.ndarray:
    """rows[0] + rows[1] + ... one at a time in float32, as dlib adds its trees' leaves.

    A reduction over the leading axis of a C-contiguous array adds whole rows in order (numpy's
    pairwise summation only applies along the contiguous axis), which is fast and exact.
    """
    return np.add.reduce(np.ascontiguousarray(rows), axis=0)


# grey level of an RGB pixel as dlib computes it: (R + G + B) // 3, indexed by R + G + B
_GREY = (np.arange(3 * 255 + 1) // 3).astype(np.int16)
