"""MMODDetector: dlib-identical boxes in dlib mode, sensible boxes in the fast default mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from album.faces.detector import MMODDetector, as_rgb, overlaps
from album.faces.types import Detection
from tests.detector_support import assert_same_faces


@pytest.fixture(scope="module")
def dlib_net(model_path: Path):
    dlib = pytest.importorskip("dlib")
    return dlib.cnn_face_detection_model_v1(str(model_path))


def _variant(crop: np.ndarray, name: str) -> np.ndarray:
    if name == "flipped":
        return np.ascontiguousarray(crop[:, ::-1])
    if name == "rotated90":
        return np.ascontiguousarray(np.rot90(crop))
    if name == "scaled":  # faces of ~45 px: found only with upsampling
        return np.asarray(Image.fromarray(crop).resize((372, 240), Image.BILINEAR))
    if name == "grey":
        return np.asarray(Image.fromarray(crop).convert("L"))
    return crop


def _check_against_dlib(dlib_net, image: np.ndarray, upsample: int) -> None:
    ref = dlib_net(image, upsample)
    assert ref, "the reference found no face: this case would test nothing"
    want = sorted(
        ((r.rect.left(), r.rect.top(), r.rect.right() + 1, r.rect.bottom() + 1), r.confidence)
        for r in ref
    )
    ours = MMODDetector(upsample=upsample, device="cpu").detect(image)
    got = sorted((d.box, d.score) for d in ours)
    assert [box for box, _ in got] == [box for box, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-3)


@pytest.mark.dlib
@pytest.mark.parametrize(
    ("name", "upsample"),
    [("crop", 0), ("flipped", 0), ("rotated90", 0), ("scaled", 1), ("grey", 0)],
)
def test_dlib_mode_boxes_identical_to_dlib(dlib_net, crop, name, upsample) -> None:
    _check_against_dlib(dlib_net, _variant(crop, name), upsample)


@pytest.mark.dlib
@pytest.mark.slow
def test_dlib_mode_identical_on_full_sample(dlib_net, t1) -> None:
    _check_against_dlib(dlib_net, t1, 0)


def test_network_read_from_file(model_path) -> None:
    det = MMODDetector(upsample=0, device="cpu", model_path=model_path)
    assert det.window == (80, 80)
    assert (det.net.stride, det.net.offset) == (8, 14)
    assert det.net.options.nms_iou == pytest.approx(0.338276, abs=1e-6)
    convs = [m for m in det.net.body if hasattr(m, "weight")]
    assert [c.out_channels for c in convs] == [16, 32, 32, 45, 45, 45, 1]


def test_fast_mode_finds_the_faces_dlib_finds(model_path, t1) -> None:
    exact = MMODDetector(upsample=0, device="cpu").detect(t1)
    fast = MMODDetector(device="cpu").detect(t1)
    assert len(exact) == 6
    assert_same_faces(fast, exact, min_iou=0.6)


def test_fast_mode_maps_boxes_back_from_a_downscaled_photo(model_path, crop) -> None:
    big = np.asarray(Image.fromarray(crop).resize((crop.shape[1] * 3, crop.shape[0] * 3)))
    det = MMODDetector(device="cpu", max_side=crop.shape[1])  # works at 1/3 scale
    assert det.working_scale(*big.shape[:2]) == pytest.approx(1 / 3)
    exact = MMODDetector(upsample=0, device="cpu").detect(crop)
    tripled = [Detection(tuple(3 * v for v in d.box), d.score) for d in exact]
    assert_same_faces(det.detect(big), tripled, min_iou=0.6)


def test_fast_mode_upsamples_for_small_faces(model_path, crop) -> None:
    small = _variant(crop, "scaled")
    coarse = MMODDetector(device="cpu", min_face_size=80).detect(small)
    assert all(d.box[2] - d.box[0] >= 80 - 1e-6 for d in coarse)  # no level above scale 1
    found = MMODDetector(device="cpu", min_face_size=40).detect(small)
    exact = MMODDetector(upsample=1, device="cpu").detect(small)
    assert_same_faces(found, exact, min_iou=0.5)


def test_working_scale_follows_min_face_size_and_max_side(model_path) -> None:
    det = MMODDetector(device="cpu", min_face_size=40, max_side=2000)
    assert det.working_scale(300, 400) == 2.0
    assert det.working_scale(3000, 4000) == 0.5
    assert MMODDetector(device="cpu", min_face_size=40, max_side=None).working_scale(
        3000, 4000
    ) == pytest.approx(2.0)


@pytest.mark.parametrize("upsample", [None, 0])
def test_no_face_gives_empty_list(model_path, upsample) -> None:
    ramp = np.linspace(0, 255, 320 * 240, dtype=np.float32).reshape(240, 320)
    image = np.stack([ramp, ramp[::-1], np.full_like(ramp, 90)], axis=2).astype(np.uint8)
    assert MMODDetector(upsample=upsample, device="cpu").detect(image) == []


def test_tiny_image_is_handled(model_path) -> None:
    assert MMODDetector(upsample=0, device="cpu").detect(np.zeros((3, 4, 3), np.uint8)) == []
    assert MMODDetector(device="cpu").detect(np.zeros((3, 4, 3), np.uint8)) == []


def test_grey_is_converted_and_rgba_or_float_rejected(model_path, crop) -> None:
    grey = np.asarray(Image.fromarray(crop).convert("L"))
    as_three = np.repeat(grey[:, :, None], 3, axis=2)
    assert np.array_equal(as_rgb(grey), as_three)
    assert np.array_equal(as_rgb(grey[:, :, None]), as_three)
    det = MMODDetector(device="cpu", min_face_size=80)
    assert det.detect(grey) == det.detect(as_three)
    with pytest.raises(ValueError, match="RGBA"):
        det.detect(np.zeros((50, 50, 4), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        det.detect(np.zeros((50, 50, 3), np.float32))


def test_detect_batch_matches_detect(model_path, crop) -> None:
    det = MMODDetector(device="cpu", min_face_size=80)
    images = [crop, np.ascontiguousarray(crop[:, ::-1])]
    assert det.detect_batch(images) == [det.detect(im) for im in images]


def test_overlap_is_intersection_over_enclosing_box() -> None:
    a = (0.0, 0.0, 10.0, 10.0)
    b = (5.0, 0.0, 15.0, 10.0)  # intersection 50, enclosing 150 (union would be 150 too)
    c = (5.0, 5.0, 15.0, 15.0)  # intersection 25, enclosing 225, union 175
    assert overlaps(a, b, iou=0.33, covered=1.0)
    assert not overlaps(a, c, iou=0.12, covered=1.0)  # 25/225 = 0.111 < 0.12 < 25/175
    assert overlaps(a, (2.0, 2.0, 4.0, 4.0), iou=0.9, covered=0.99)  # fully covered
