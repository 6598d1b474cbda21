"""Fast mode's own pyramid (coarser than dlib's) and canvas layout."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from album.faces import pyramid
from album.faces.detector import MMODDetector
from tests.test_detector import _assert_same_faces, crop, model_path, t1  # noqa: F401


def test_levels_shrink_by_the_given_rate() -> None:
    sizes = pyramid.level_sizes(800, 1200, min_side=40, rate=0.75)
    for (r0, c0), (r1, c1) in zip(sizes, sizes[1:]):
        assert (r1, c1) == (math.floor(0.75 * r0), math.floor(0.75 * c0))
    assert len(sizes) < len(pyramid.level_sizes(800, 1200, min_side=40))


def test_canvas_is_a_channels_last_view(model_path) -> None:  # noqa: F811
    det = MMODDetector(device="cpu")
    canvas, tiles = det._fast_canvas(np.full((120, 160, 3), 128, np.uint8))
    x = torch.from_numpy(canvas)[None]
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert canvas.shape[0] == 3 and len(tiles) >= 2


@pytest.mark.parametrize("zoom", [1.0, 1.07, 1.15])
def test_faces_between_two_levels_are_found(model_path, crop, zoom) -> None:  # noqa: F811
    """Faces scaled anywhere within one fast-pyramid step are still found."""
    image = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    exact = MMODDetector(upsample=0, device="cpu").detect(crop)
    assert len(exact) == 3
    expected = [d.__class__(tuple(v * zoom for v in d.box), d.score) for d in exact]
    _assert_same_faces(MMODDetector(device="cpu").detect(image), expected, min_iou=0.5)
