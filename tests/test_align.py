"""Aligners: dlib's chips reproduced exactly; ArcFace crops as insightface makes them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from album.faces.align import (
    ARCFACE_TEMPLATE,
    ArcFaceAligner,
    DlibChipAligner,
    _dlib_template_in_arcface_frame,
    pyramid_down,
    similarity_transform,
)


def sample_images() -> list[np.ndarray]:
    from PIL import Image

    spec = importlib.util.find_spec("insightface")
    if spec is None:
        pytest.skip("insightface (sample photos) is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "data/images"
    return [
        np.asarray(Image.open(root / n).convert("RGB")) for n in ("t1.jpg", "Tom_Hanks_54745.png")
    ]


def variants(image: np.ndarray, scales: tuple[float, ...]) -> list[np.ndarray]:
    """Scaled (large enough for one and two of dlib's pyramid levels), rotated, mirrored, and
    cropped so that faces run off the border."""
    h, w = image.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), -23, 1.0)
    return [
        image,
        *(cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR) for s in scales),
        cv2.warpAffine(image, rotation, (w, h)),
        np.ascontiguousarray(image[:, ::-1]),
        np.ascontiguousarray(image[h // 5 :, w // 7 :]),
    ]


@pytest.fixture(scope="module")
def dlib_shapes():
    """(image, dlib shape, our (1, 5, 2) landmarks) for every face dlib finds in every variant."""
    dlib = pytest.importorskip("dlib")
    from album.faces.model_files import LANDMARKS_5, dlib_model_path

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(dlib_model_path(LANDMARKS_5)))
    found = []
    group, portrait = sample_images()
    for image in variants(group, (0.55, 2.5)) + variants(portrait, (0.55, 2.5, 4.5, 6.0)):
        for box in detector(image, 1 if max(image.shape[:2]) < 500 else 0):
            shape = predictor(image, box)
            points = np.array([[[p.x, p.y] for p in shape.parts()]], np.float32)
            found.append((image, shape, points))
    assert len(found) >= 40
    return found


@pytest.mark.dlib
def test_dlib_chips_are_identical_to_dlibs(dlib_shapes):
    import dlib

    aligner = DlibChipAligner()
    worst, differing = 0, 0
    for image, shape, points in dlib_shapes:
        expected = dlib.get_face_chip(image, shape, 150, 0.25)
        ours = aligner.align(image, points)[0]
        diff = np.abs(ours.astype(int) - expected.astype(int))
        worst, differing = max(worst, int(diff.max())), differing + int((diff > 0).sum())
    assert worst <= 1
    assert differing <= 1e-4 * len(dlib_shapes) * ours.size


@pytest.mark.dlib
def test_other_sizes_and_paddings_match_dlib(dlib_shapes):
    import dlib

    for size, padding in ((112, 0.0), (200, 0.4), (81, 0.3)):
        aligner = DlibChipAligner(size, padding)
        for image, shape, points in dlib_shapes[::7]:
            expected = dlib.get_face_chip(image, shape, size, padding)
            ours = aligner.align(image, points)[0]
            assert ours.shape == (size, size, 3)
            assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 1


def test_aligners_take_a_batch_and_an_empty_batch():
    image = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    points = np.array([[[250, 100], [220, 102], [150, 100], [180, 102], [200, 160]]], np.float32)
    for aligner in (DlibChipAligner(), ArcFaceAligner()):
        size = aligner.size
        assert aligner.align(image, np.zeros((0, 5, 2))).shape == (0, size, size, 3)
        chips = aligner.align(image, np.concatenate([points, points + 20]))
        assert chips.shape == (2, size, size, 3) and chips.dtype == np.uint8
        assert not np.array_equal(chips[0], chips[1])
        with pytest.raises(ValueError):
            aligner.align(image, points[0])


def test_a_face_outside_the_image_gives_a_black_chip():
    image = np.full((100, 100, 3), 200, np.uint8)
    points = np.array([[[850, 500], [820, 502], [750, 500], [780, 502], [800, 560]]], np.float32)
    assert not DlibChipAligner().align(image, points).any()


def test_pyramid_down_keeps_flat_images_flat_and_halves_the_size():
    image = np.full((41, 30, 3), 173, np.uint8)
    down = pyramid_down(image)
    assert down.shape == ((41 - 3) // 2, (30 - 3) // 2, 3)
    assert np.all(down == 173)  # the [1 4 6 4 1]^2 kernel sums to exactly 256
    assert pyramid_down(image[:8]).size == 0


def test_similarity_transform_recovers_a_known_similarity():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rotation.T + shift
    assert np.allclose(similarity_transform(src, dst), np.hstack([rotation, shift[:, None]]))


def test_arcface_order_is_insightface_norm_crop():
    face_align = pytest.importorskip("insightface.utils.face_align")
    image = sample_images()[1]
    rng = np.random.default_rng(5)
    aligner = ArcFaceAligner(landmark_order="arcface")
    for _ in range(5):
        points = ARCFACE_TEMPLATE * rng.uniform(1.2, 1.8) + rng.uniform(0, 40, 2)
        points += rng.normal(0, 2, points.shape)
        expected = face_align.norm_crop(image, points.astype(np.float32))
        ours = aligner.align(image, points[None])[0]
        assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 1


def test_dlib_landmarks_put_the_eyes_on_the_arcface_eyes():
    """dlib's mean face, anywhere in a photo, lands with its eye centres on ArcFace's."""
    template = _dlib_template_in_arcface_frame()
    eyes = np.stack([template[2:4].mean(axis=0), template[0:2].mean(axis=0)])
    assert np.allclose(eyes, ARCFACE_TEMPLATE[:2])
    # the point under the nose sits below ArcFace's nose tip and above its mouth
    assert ARCFACE_TEMPLATE[2, 1] < template[4, 1] < ARCFACE_TEMPLATE[3, 1]
    placed = template @ np.array([[0.0, -2.1], [2.1, 0.0]]).T + [300.0, 200.0]  # rotate, scale
    matrix = similarity_transform(placed, template)
    assert np.allclose(placed @ matrix[:, :2].T + matrix[:, 2], template)


@pytest.mark.dlib
def test_real_dlib_landmarks_land_near_the_arcface_eyes(dlib_shapes):
    """Real faces fit the template: eyes within ~1-2 px of ArcFace's on a 112 chip (turned heads,
    whose eyes look closer together, land a few pixels off, as with any 5-point fit)."""
    aligner = ArcFaceAligner()
    errors = []
    for _, _, points in dlib_shapes:
        matrix = similarity_transform(points[0], aligner.template)
        moved = points[0] @ matrix[:, :2].T + matrix[:, 2]
        eyes = np.stack([moved[2:4].mean(axis=0), moved[0:2].mean(axis=0)])
        errors.append(np.abs(eyes - ARCFACE_TEMPLATE[:2]).max())
    assert np.median(errors) < 2.0 and max(errors) < 8.0
