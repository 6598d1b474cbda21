"""Face aligners: 5 landmarks -> an upright, scaled face chip for an embedder.

`DlibChipAligner` reproduces dlib's `get_face_chip_details` + `extract_image_chip` (dlib's
interpolation.h) step by step, because dlib's ResNet is sensitive to the crop: a 1-pixel shift
moves its descriptor by ~0.09 against a 0.6 match threshold. The details that matter:
- the landmark template, padded as `(padding + p) / (2 padding + 1) * size`, is fitted to the
  landmarks by a least-squares similarity (Umeyama); dlib's Python API passes `padding` as a
  32-bit float, so we round it the same way;
- when the chip is much smaller than the face, dlib first shrinks a crop around the face with its
  5x5 [1 4 6 4 1] pyramid (integer arithmetic, floor division by 256) until one more halving
  would make the rectangle smaller than the chip, and samples that level;
- bilinear samples are truncated (not rounded) to uint8; samples whose 2x2 neighbourhood leaves
  the (cropped) image are black.

`ArcFaceAligner` is insightface's `norm_crop`: a similarity fit to the standard 112x112 ArcFace
5-point template (eye centres, nose tip, mouth corners), then an OpenCV bilinear warp.
Our landmarks are dlib's 5 points (types.FaceRecord): outer and inner corner of the eye on the
image's right, the same for the eye on the image's left, and the point under the nose. They are
not the ArcFace points (no mouth corners; the nose point is below the tip), so with
`landmark_order="dlib"` we fit to dlib's own mean-face template placed in the ArcFace frame by
the similarity that puts its eye centres exactly on the ArcFace eye centres: the eyes land where
ArcFace models expect them, and the nose constrains scale and tilt as in dlib's chips. Landmarks
that are already in ArcFace order (e.g. from an insightface detector) use the template as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# dlib's 5-point mean face on the unit square (get_face_chip_details), in dlib's point order.
DLIB_TEMPLATE = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ]
)
# insightface's arcface_dst for 112x112 chips: left eye, right eye, nose tip, mouth corners.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
).astype(np.float64)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama 1991, eqs. 34-43) mapping src (K,2) to dst: (2,3)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mean_src, mean_dst = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - mean_src, dst - mean_dst
    sigma_src = float((src_c**2).sum()) / len(src)
    cov = dst_c.T @ src_c / len(src)
    u, d, vt = np.linalg.svd(cov)
    s = np.ones(2)
    if np.linalg.det(cov) < 0 or (np.linalg.det(cov) == 0 and np.linalg.det(u @ vt) < 0):
        s[1 if d[1] < d[0] else 0] = -1
    rotation = u @ np.diag(s) @ vt
    scale = float(d @ s) / sigma_src if sigma_src else 1.0
    matrix = scale * rotation
    return np.hstack([matrix, (mean_dst - matrix @ mean_src)[:, None]])


def _check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    landmarks = np.asarray(landmarks, np.float64)
    if landmarks.ndim != 3 or landmarks.shape[1:] != (5, 2):
        raise ValueError(f"landmarks must be (N, 5, 2), got {landmarks.shape}")
    return landmarks


# --- dlib's chip geometry -------------------------------------------------------------------
# Rectangles are dlib drectangles: (left, top, right, bottom), inclusive, so width = r - l + 1.


@dataclass(frozen=True)
class ChipDetails:
    """dlib's `chip_details`: the chip's rectangle in the image, its rotation and its size."""

    rect: tuple[float, float, float, float]
    angle: float
    rows: int
    cols: int


def _area(rect: tuple[float, ...]) -> float:
    left, top, right, bottom = rect
    if left > right or top > bottom:
        return 0.0
    return (right - left + 1) * (bottom - top + 1)


def _rect_down(rect: tuple[float, ...]) -> tuple[float, ...]:
    """pyramid_down<2>::rect_down: each corner p -> p/2 - (1.25, 0.75)."""
    left, top, right, bottom = rect
    return (left / 2.0 - 1.25, top / 2.0 - 0.75, right / 2.0 - 1.25, bottom / 2.0 - 0.75)


def _center(rect: tuple[float, ...]) -> tuple[float, float]:
    left, top, right, bottom = rect
    return ((left + right) / 2.0, (top + bottom) / 2.0)


def _rotated_corners(rect: tuple[float, ...], angle: float) -> np.ndarray:
    """The rectangle's tl, tr, bl, br corners rotated by `angle` about its centre (rotate_point)."""
    cx, cy = _center(rect)
    sin, cos = math.sin(angle), math.cos(angle)
    left, top, right, bottom = rect
    corners = []
    for x, y in ((left, top), (right, top), (left, bottom), (right, bottom)):
        dx, dy = x - cx, y - cy
        corners.append((cos * dx - sin * dy + cx, sin * dx + cos * dy + cy))
    return np.array(corners)


def face_chip_details(landmarks: np.ndarray, size: int, padding: float) -> ChipDetails:
    """dlib's get_face_chip_details for one face's 5 landmarks (5, 2)."""
    template = (padding + DLIB_TEMPLATE) / (2 * padding + 1) * size
    transform = similarity_transform(template, landmarks)
    px, py = transform[0, 0], transform[1, 0]  # the image of the unit vector (1, 0)
    angle, scale = math.atan2(py, px), math.sqrt(px * px + py * py)  # dlib's length()
    cx, cy = transform @ np.array([size / 2.0, size / 2.0, 1.0])
    half = (size * scale - 1) / 2  # centered_drect: width - 1 spans left..right
    return ChipDetails((cx - half, cy - half, cx + half, cy + half), angle, size, size)


def pyramid_down(image: np.ndarray) -> np.ndarray:
    """dlib's pyramid_down<2> for RGB: separable [1 4 6 4 1] filter, keep every other pixel."""
    height, width = image.shape[:2]
    if height <= 8 or width <= 8:
        return np.zeros((0, 0, 3), np.uint8)
    rows, cols = (height - 3) // 2, (width - 3) // 2
    x = image.astype(np.int32)
    weights = (1, 4, 6, 4, 1)
    horizontal = sum(w * x[:, k : k + 2 * cols : 2] for k, w in enumerate(weights))
    vertical = sum(w * horizontal[k : k + 2 * rows : 2] for k, w in enumerate(weights))
    return (vertical // 256).astype(np.uint8)


def _to_int_rect(rect: tuple[float, ...]) -> tuple[int, int, int, int]:
    """drectangle -> rectangle conversion: each side rounded as floor(x + 0.5)."""
    return tuple(int(math.floor(v + 0.5)) for v in rect)


def _crop_box(image: np.ndarray, details: ChipDetails) -> tuple[tuple[int, ...], int]:
    """The crop around the rotated chip (with a border for the pyramid filter), and the depth."""
    depth, grow = 0, 2.0
    rect = _rect_down(details.rect)
    while _area(rect) > details.rows * details.cols:
        rect = _rect_down(rect)
        depth += 1
        grow = grow * 2 + 2
    corners = _rotated_corners(details.rect, details.angle)
    height, width = image.shape[:2]
    grown = (
        max(corners[:, 0].min() - grow, 0),
        max(corners[:, 1].min() - grow, 0),
        min(corners[:, 0].max() + grow, width - 1),
        min(corners[:, 1].max() + grow, height - 1),
    )
    return _to_int_rect(grown), depth


def _bilinear(source: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dlib's interpolate_bilinear for RGB, truncating to uint8; outside -> black."""
    left, top = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    height, width = source.shape[:2]
    inside = (left >= 0) & (top >= 0) & (left + 1 < width) & (top + 1 < height)
    if height < 2 or width < 2 or not inside.any():
        return np.zeros((*x.shape, 3), np.uint8)
    flat = source.reshape(-1, 3)
    index = np.where(inside, top * width + left, 0)
    lr, tb = (x - left)[..., None], (y - top)[..., None]
    tl, tr = flat.take(index, axis=0).astype(np.float64), flat.take(index + 1, axis=0)
    bl, br = flat.take(index + width, axis=0), flat.take(index + width + 1, axis=0)
    value = (1 - tb) * ((1 - lr) * tl + lr * tr) + tb * ((1 - lr) * bl + lr * br)
    return np.where(inside[..., None], value, 0).astype(np.uint8)


def _basic_chip(image: np.ndarray, rect: tuple[float, ...]) -> np.ndarray:
    """dlib's basic_extract_image_chip: an unscaled, unrotated copy, zero outside the image."""
    left, top, right, bottom = _to_int_rect(rect)
    chip = np.zeros((bottom - top + 1, right - left + 1, 3), np.uint8)
    height, width = image.shape[:2]
    y0, y1, x0, x1 = max(top, 0), min(bottom, height - 1), max(left, 0), min(right, width - 1)
    if y0 <= y1 and x0 <= x1:
        chip[y0 - top : y1 - top + 1, x0 - left : x1 - left + 1] = image[y0 : y1 + 1, x0 : x1 + 1]
    return chip


def extract_image_chip(image: np.ndarray, details: ChipDetails) -> np.ndarray:
    """dlib's extract_image_chip with bilinear interpolation: (rows, cols, 3) uint8."""
    rect = details.rect
    width, height = rect[2] - rect[0] + 1, rect[3] - rect[1] + 1
    if details.angle == 0 and (details.rows, details.cols) == (height, width):
        return _basic_chip(image, rect)
    (left, top, right, bottom), depth = _crop_box(image, details)
    if left > right or top > bottom:
        return np.zeros((details.rows, details.cols, 3), np.uint8)
    levels = [image[top : bottom + 1, left : right + 1]]
    for _ in range(depth):
        levels.append(pyramid_down(levels[-1]))
    level, rect = 0, (rect[0] - left, rect[1] - top, rect[2] - left, rect[3] - top)
    while _area(_rect_down(rect)) > details.rows * details.cols:
        level, rect = level + 1, _rect_down(rect)
    tl, tr, bl, _ = _rotated_corners(rect, details.angle)
    # the affine map chip (0,0), (cols-1,0), (0,rows-1) -> tl, tr, bl
    ax, ay = (tr - tl) / (details.cols - 1), (bl - tl) / (details.rows - 1)
    rows, cols = np.mgrid[0 : details.rows, 0 : details.cols].astype(np.float64)
    x = (ax[0] * cols + ay[0] * rows) + tl[0]
    y = (ax[1] * cols + ay[1] * rows) + tl[1]
    return _bilinear(levels[min(level, depth)], x, y)


class DlibChipAligner:
    """dlib's face chips (what dlib's ResNet was trained on) from dlib-order 5 landmarks."""

    def __init__(self, size: int = 150, padding: float = 0.25) -> None:
        self.size = size
        self.padding = float(np.float32(padding))  # dlib's Python API takes a float

    def align(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        landmarks = _check_landmarks(landmarks)
        chips = np.zeros((len(landmarks), self.size, self.size, 3), np.uint8)
        for i, points in enumerate(landmarks):
            details = face_chip_details(points, self.size, self.padding)
            chips[i] = extract_image_chip(image, details)
        return chips


def _dlib_template_in_arcface_frame() -> np.ndarray:
    """dlib's 5-point mean face, moved so its eye centres sit on the ArcFace eye centres."""
    dlib_eyes = np.stack([DLIB_TEMPLATE[2:4].mean(axis=0), DLIB_TEMPLATE[0:2].mean(axis=0)])
    transform = similarity_transform(dlib_eyes, ARCFACE_TEMPLATE[:2])
    return DLIB_TEMPLATE @ transform[:, :2].T + transform[:, 2]


class ArcFaceAligner:
    """insightface's norm_crop: 112x112 (or a multiple) chips for ArcFace-style models."""

    def __init__(self, size: int = 112, landmark_order: str = "dlib") -> None:
        if size % 112:
            raise ValueError("ArcFace chips are 112 pixels or a multiple of 112")
        if landmark_order not in ("dlib", "arcface"):
            raise ValueError("landmark_order is 'dlib' or 'arcface'")
        self.size = size
        self.landmark_order = landmark_order
        base = _dlib_template_in_arcface_frame() if landmark_order == "dlib" else ARCFACE_TEMPLATE
        self.template = base * (size / 112.0)

    def align(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        landmarks = _check_landmarks(landmarks)
        chips = np.zeros((len(landmarks), self.size, self.size, 3), np.uint8)
        for i, points in enumerate(landmarks):
            matrix = similarity_transform(points, self.template)
            chips[i] = cv2.warpAffine(image, matrix, (self.size, self.size), borderValue=0.0)
        return chips
