"""dlib's image pyramid for the mmod detector, reproduced to the bit where it matters.

dlib's `input_rgb_image_pyramid<pyramid_down<6>>` (dlib/dnn/input.h) runs the CNN once over
ONE image holding the whole pyramid: level 0 is the normalized input, each next level is a
bilinear resize (dlib/image_transforms/interpolation.h, `resize_image` on float planes) of the
previous normalized level to floor(5/6) of its size, and the levels are tiled in a column with
10-pixel gaps inside an 11-pixel border, doubling back up a second column
(`compute_tiled_image_pyramid_details` in image_pyramid.h). A detection window found in that
tiled image is mapped back by the level it lies nearest to (`tiled_pyramid_to_image`).

The resize is dlib's own arithmetic: positions accumulated step by step (in float32 inside its
4-wide SIMD loop, in double in its scalar tail), truncated to integers, float32 weights. We
follow it exactly so that scores, and the boxes that depend on their signs and order, match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PYRAMID_RATE = 5.0 / 6.0  # pyramid_rate(pyramid_down<6>) = (N-1.0)/N
POINT_UP_RATIO = 6 / 5.0  # pyramid_down<6>::point_up: p * N/(N-1.0) + 0.3
PADDING = 10
OUTER_PADDING = 11
MIN_LEVEL_HEIGHT = 5


@dataclass(frozen=True)
class Tile:
    """One pyramid level inside the tiled image; right/bottom are exclusive here."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


def level_sizes(
    nr: int, nc: int, min_side: int = 0, rate: float = PYRAMID_RATE
) -> list[tuple[int, int]]:
    """(rows, cols) of each level: floor(rate * size) until a level would be under 5 rows
    (dlib's rule) or, if given, have a side under `min_side`."""
    sizes = [(nr, nc)]
    while True:
        nr, nc = math.floor(rate * nr), math.floor(rate * nc)
        if nr * nc == 0 or nr < MIN_LEVEL_HEIGHT or min(nr, nc) < min_side:
            return sizes
        sizes.append((nr, nc))


def _first_column_height(sizes: list[tuple[int, int]]) -> int:
    """Height of the first column: it ends where the next level fits beside the previous."""
    total = sum(h + PADDING for h, _ in sizes) - 2 * PADDING
    h0, w0 = sizes[0]
    height, prev_width = 0, 0
    for h, w in sizes:
        if w <= w0 - prev_width - PADDING and (height - h0) * 2 >= total - h0:
            break
        height += h + PADDING
        prev_width = w
    return height - PADDING


def _overlap(a: Tile, b: Tile) -> bool:
    return max(a.left, b.left) < min(a.right, b.right) and max(a.top, b.top) < min(
        a.bottom, b.bottom
    )


def tile_layout(
    nr: int, nc: int, min_side: int = 0, rate: float = PYRAMID_RATE
) -> tuple[list[Tile], int, int]:
    """The tiles of the pyramid of an nr x nc image and the tiled image's (rows, cols)."""
    if nr * nc == 0:
        return [], 0, 0
    sizes = level_sizes(nr, nc, min_side, rate)
    height = _first_column_height(sizes)
    width = sizes[0][1]
    tiles: list[Tile] = []
    y = OUTER_PADDING
    while y < height + OUTER_PADDING and len(tiles) < len(sizes):
        h, w = sizes[len(tiles)]
        tiles.append(Tile(OUTER_PADDING, y, w, h))
        y += h + PADDING
    y -= PADDING
    first = tiles[0]
    while len(tiles) < len(sizes):
        # second column: right-aligned, stacked upwards from the bottom of the first column
        h, w = sizes[len(tiles)]
        right, bottom = OUTER_PADDING + width - 1, y - 1
        tile = Tile(right - w + 1, bottom - h + 1, w, h)
        if _overlap(tile, first):
            break  # it would overlap level 0: dlib drops the remaining levels
        tiles.append(tile)
        y -= h + PADDING
    return tiles, height + 2 * OUTER_PADDING, width + 2 * OUTER_PADDING


def _accumulate(start: float, step: float, count: int, dtype: type) -> np.ndarray:
    """start+step, start+2*step, ... added one at a time in `dtype`, as a C loop does."""
    seq = np.full(count + 1, step, dtype=dtype)
    seq[0] = start
    return np.add.accumulate(seq, dtype=dtype)[1:]


@dataclass(frozen=True)
class _Columns:
    left: np.ndarray
    right: np.ndarray
    frac: np.ndarray  # float32
    tail_frac_double: np.ndarray  # the scalar tail's fractions before rounding to float32
    simd_count: int  # columns [0, simd_count) go through the 4-wide float32 loop


def _columns(in_nc: int, out_nc: int) -> _Columns:
    """Column sampling positions of dlib's bilinear resize_image (SIMD loop + scalar tail)."""
    x_scale = (in_nc - 1) / max(out_nc - 1, 1)
    groups = out_nc // 4 + 2
    x0 = -4 * x_scale
    lanes = [
        _accumulate(np.float32(x0 + j * x_scale), np.float32(4 * x_scale), groups, np.float32)
        for j in range(4)
    ]
    xs = np.stack(lanes, axis=1)  # (groups, 4)
    left = xs.astype(np.int64)  # _mm_cvttps_epi32 truncates
    breaks = np.nonzero(left[:, 3] + 1 >= in_nc)[0]
    simd_count = min(4 * int(breaks[0]), out_nc)
    simd_x, simd_left = xs.reshape(-1)[:simd_count], left.reshape(-1)[:simd_count]
    simd_frac = simd_x - simd_left.astype(np.float32)
    tail = out_nc - simd_count
    tail_x = _accumulate(-x_scale + simd_count * x_scale, x_scale, tail, np.float64)
    tail_left = np.floor(tail_x).astype(np.int64)
    tail_frac = tail_x - tail_left
    left_all = np.concatenate([simd_left, tail_left])
    return _Columns(
        left=left_all,
        right=np.minimum(left_all + 1, in_nc - 1),
        frac=np.concatenate([simd_frac, tail_frac]).astype(np.float32),
        tail_frac_double=tail_frac,
        simd_count=simd_count,
    )


def _rows(in_nr: int, out_nr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_scale = (in_nr - 1) / max(out_nr - 1, 1)
    y = _accumulate(-y_scale, y_scale, out_nr, np.float64)
    top = np.floor(y).astype(np.int64)
    return top, np.minimum(top + 1, in_nr - 1), y - top


def resize_planes(src: np.ndarray, out_nr: int, out_nc: int, rgb_tail: bool = False) -> np.ndarray:
    """dlib's resize_image(interpolate_bilinear) of float32 planes (C, H, W) -> (C, out_nr, out_nc).

    dlib's float-image overload blends its scalar tail horizontally in float32; its RGB overload
    (`rgb_tail`) does the whole tail in double and truncates that double to a byte, so then the
    result is float64 (the SIMD part's float32 values are exact in it)."""
    top, bottom, tb = _rows(src.shape[1], out_nr)
    cols = _columns(src.shape[2], out_nc)
    s = cols.simd_count
    tl, tr = src[:, top][:, :, cols.left], src[:, top][:, :, cols.right]
    bl, br = src[:, bottom][:, :, cols.left], src[:, bottom][:, :, cols.right]
    out = np.empty((src.shape[0], out_nr, out_nc), dtype=np.float64 if rgb_tail else np.float32)

    # SIMD part: float32 weights, summed left to right in float32.
    tbf = tb.astype(np.float32)[:, None]
    inv_tbf = (1 - tb).astype(np.float32)[:, None]
    lr, inv_lr = cols.frac[:s], np.float32(1) - cols.frac[:s]
    acc = (inv_tbf * inv_lr) * tl[..., :s] + (inv_tbf * lr) * tr[..., :s]
    acc = acc + (tbf * inv_lr) * bl[..., :s]
    out[..., :s] = acc + (tbf * lr) * br[..., :s]

    # Scalar tail: horizontal blends in float32 (or double), the vertical blend in double.
    lr = cols.tail_frac_double if rgb_tail else cols.frac[s:]
    inv_lr = 1 - lr
    upper = inv_lr * tl[..., s:] + lr * tr[..., s:]
    lower = inv_lr * bl[..., s:] + lr * br[..., s:]
    tbd = tb[:, None]
    out[..., s:] = (1 - tbd) * upper + tbd * lower
    return out


def normalize(image: np.ndarray, mean_rgb: tuple[float, float, float]) -> np.ndarray:
    """uint8 RGB (H, W, 3) -> float32 planes (3, H, W): (pixel - mean) / 256 as dlib does."""
    mean = np.asarray(mean_rgb, dtype=np.float32)[:, None, None]
    planes = np.ascontiguousarray(image.transpose(2, 0, 1)).astype(np.float32)
    return (planes - mean) / np.float32(256)


def tiled_pyramid(planes: np.ndarray) -> tuple[np.ndarray, list[Tile]]:
    """Normalized planes (3, H, W) -> dlib's tiled pyramid image (3, NR, NC) and its tiles."""
    tiles, nr, nc = tile_layout(planes.shape[1], planes.shape[2])
    out = np.zeros((planes.shape[0], nr, nc), dtype=np.float32)
    prev = planes
    for tile in tiles:
        if tile is not tiles[0]:
            prev = resize_planes(prev, tile.height, tile.width)
        out[:, tile.top : tile.bottom, tile.left : tile.right] = prev
    return out, tiles


def pyramid_up(image: np.ndarray) -> np.ndarray:
    """dlib's pyramid_up(img, pyramid_down<2>) on uint8 RGB: resized to (2H+1, 2W+2)."""
    planes = np.ascontiguousarray(image.transpose(2, 0, 1)).astype(np.float32)
    up = resize_planes(planes, 2 * image.shape[0] + 1, 2 * image.shape[1] + 2, rgb_tail=True)
    return up.astype(np.uint8).transpose(1, 2, 0)  # both of dlib's paths truncate


def nearest_tile(tiles: list[Tile], x: int, y: int) -> int:
    """dlib's nearest_rect: the first tile containing (x, y), else the closest one."""
    best, best_dist = 0, math.inf
    for i, t in enumerate(tiles):
        nx = min(max(x, t.left), t.right - 1)
        ny = min(max(y, t.top), t.bottom - 1)
        if nx == x and ny == y:
            return i
        dist = math.hypot(nx - x, ny - y)
        if dist < best_dist:
            best, best_dist = i, dist
    return best


def round_half_up(v: float) -> int:
    """dlib's drectangle -> rectangle and dpoint -> point conversion: floor(v + 0.5)."""
    return math.floor(v + 0.5)


def window_to_image(
    tiles: list[Tile], cx: int, cy: int, width: int, height: int
) -> tuple[int, int, int, int]:
    """The window centred at (cx, cy) in the tiled image -> dlib's inclusive rectangle
    (left, top, right, bottom) in level-0 pixels (tiled_pyramid_to_image + rounding)."""
    hw, hh = (width - 1) / 2, (height - 1) / 2
    box = [cx - hw, cy - hh, cx + hw, cy + hh]
    center_x = round_half_up((box[0] + box[2]) / 2)
    center_y = round_half_up((box[1] + box[3]) / 2)
    level = nearest_tile(tiles, center_x, center_y)
    tile = tiles[level]
    box = [box[0] - tile.left, box[1] - tile.top, box[2] - tile.left, box[3] - tile.top]
    for _ in range(level):
        box = [v * POINT_UP_RATIO + 0.3 for v in box]
    return tuple(round_half_up(v) for v in box)  # type: ignore[return-value]
