"""Fast mode's own pyramid (coarser than dlib's) and canvas layout."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from album.faces import pyramid
from album.faces.detector import MMODDetector
from album.faces.mmod_fast import mean_pixel
from tests.detector_support import assert_same_faces


def test_levels_shrink_by_the_given_rate() -> None:
    sizes = pyramid.level_sizes(800, 1200, min_side=40, rate=0.75)
    for (r0, c0), (r1, c1) in zip(sizes, sizes[1:]):
        assert (r1, c1) == (math.floor(0.75 * r0), math.floor(0.75 * c0))
    assert len(sizes) < len(pyramid.level_sizes(800, 1200, min_side=40))


def test_canvas_holds_raw_levels_and_mean_coloured_gaps(model_path) -> None:
    det = MMODDetector(device="cpu")
    image = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    canvas, tiles = det._fast_canvas(image)
    assert canvas.dtype == np.uint8 and canvas.shape[2] == 3 and len(tiles) >= 2
    inside = np.zeros(canvas.shape[:2], bool)
    for tile in tiles:
        inside[tile.top : tile.bottom, tile.left : tile.right] = True
    assert (canvas[~inside] == mean_pixel(det.net)).all()
    first = tiles[0]
    level0 = canvas[first.top : first.bottom, first.left : first.right]
    scale = det.working_scale(120, 160)
    want = cv2.resize(image, (first.width, first.height), interpolation=cv2.INTER_LINEAR)
    assert level0.shape[:2] == (round(120 * scale), round(160 * scale))
    assert np.array_equal(level0, want)


@pytest.mark.parametrize("zoom", [1.0, 1.07, 1.15])
def test_faces_between_two_levels_are_found(model_path, crop, zoom) -> None:
    """Faces scaled anywhere within one fast-pyramid step are still found."""
    image = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    exact = MMODDetector(upsample=0, device="cpu").detect(crop)
    assert len(exact) == 3
    expected = [d.__class__(tuple(v * zoom for v in d.box), d.score) for d in exact]
    assert_same_faces(MMODDetector(device="cpu").detect(image), expected, min_iou=0.5)
