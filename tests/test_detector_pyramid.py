"""dlib's tiled image pyramid, resize arithmetic and window mapping, reproduced exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from album.faces import pyramid
from album.faces.detector import _rect_down


@pytest.mark.parametrize(("nr", "nc"), [(886, 1280), (400, 620), (620, 400), (30, 30), (5, 7)])
def test_tiles_are_disjoint_inside_the_border_and_shrink_by_five_sixths(nr, nc) -> None:
    tiles, rows, cols = pyramid.tile_layout(nr, nc)
    assert (tiles[0].left, tiles[0].top, tiles[0].height, tiles[0].width) == (11, 11, nr, nc)
    assert cols == nc + 22
    for prev, tile in zip(tiles, tiles[1:], strict=False):
        assert tile.height == math.floor(5 / 6 * prev.height)
        assert tile.width == math.floor(5 / 6 * prev.width)
    for i, a in enumerate(tiles):
        assert a.left >= 11 and a.top >= 11 and a.right <= cols - 11 and a.bottom <= rows - 11
        for b in tiles[i + 1 :]:
            apart_x = a.right <= b.left or b.right <= a.left
            apart_y = a.bottom <= b.top or b.bottom <= a.top
            assert apart_x or apart_y


def test_layout_of_the_sample_photo() -> None:
    # dlib's canvas for 886 x 1280 (the box-equivalence tests in test_detector.py run on it)
    tiles, rows, cols = pyramid.tile_layout(886, 1280)
    assert (rows, cols) == (3239, 1302)
    assert all(t.height >= 5 for t in tiles)


def test_min_side_stops_levels_early() -> None:
    assert min(pyramid.level_sizes(400, 600, min_side=40)[-1]) >= 40
    assert len(pyramid.level_sizes(400, 600, min_side=40)) < len(pyramid.level_sizes(400, 600))


def test_window_mapping_on_level_zero_and_level_one() -> None:
    tiles, _, _ = pyramid.tile_layout(400, 620)
    # level 0: subtract the tile corner, round the +-39.5 window half up
    assert pyramid.window_to_image(tiles, 111, 111, 80, 80) == (61, 61, 140, 140)
    one = tiles[1]
    x, y = one.left + 50, one.top + 50
    want = tuple(pyramid.round_half_up(v * 1.2 + 0.3) for v in (10.5, 10.5, 89.5, 89.5))
    assert pyramid.window_to_image(tiles, x, y, 80, 80) == want


def test_rect_down_inverts_pyramid_up_like_dlib() -> None:
    # dlib: point_down(p) = p/2 - (1.25, 0.75), then floor(v + 0.5); boxes are half-open here
    assert _rect_down((100, 60, 180, 140), 1) == (49, 29, 89, 70)
    assert _rect_down((10, 10, 20, 20), 0) == (10, 10, 20, 20)


def test_normalize_is_dlibs_float_arithmetic() -> None:
    image = np.array([[[0, 128, 255]]], dtype=np.uint8)
    got = pyramid.normalize(image, (122.782, 117.001, 104.298))
    mean = np.float32([122.782, 117.001, 104.298])
    assert np.array_equal(got[:, 0, 0], (np.float32([0, 128, 255]) - mean) / np.float32(256))


@pytest.fixture(scope="module")
def dlib():
    return pytest.importorskip("dlib")


@pytest.mark.dlib
@pytest.mark.parametrize("seed", range(6))
def test_float_resize_is_bit_exact(dlib, seed) -> None:
    rng = np.random.default_rng(seed)
    nr, nc = (int(v) for v in rng.integers(6, 260, 2))
    plane = rng.standard_normal((nr, nc)).astype(np.float32)
    out_nr, out_nc = math.floor(5 / 6 * nr), math.floor(5 / 6 * nc)
    want = dlib.resize_image(plane, out_nr, out_nc)
    assert np.array_equal(pyramid.resize_planes(plane[None], out_nr, out_nc)[0], want)


@pytest.mark.dlib
@pytest.mark.parametrize("seed", range(6))
def test_pyramid_up_is_bit_exact(dlib, seed) -> None:
    rng = np.random.default_rng(100 + seed)
    nr, nc = (int(v) for v in rng.integers(6, 200, 2))
    image = rng.integers(0, 256, (nr, nc, 3), dtype=np.uint8)
    want = dlib.resize_image(image, 2 * nr + 1, 2 * nc + 2)  # what pyramid_up computes
    assert np.array_equal(pyramid.pyramid_up(image), want)
