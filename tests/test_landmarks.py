"""The numpy port of dlib's 5-point shape predictor: parsing, caching, and exactness vs dlib."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from album.faces import landmarks
from album.faces.landmarks import (
    ShapePredictor5,
    load_shape_predictor,
    parse_shape_predictor,
    sum_in_order,
)
from album.faces.model_files import LANDMARKS_5, dlib_model_path
from training.dlib_format import DlibFormatError, DlibReader

FACES_DEV = Path(__file__).resolve().parents[2] / "shared/data/faces-dev"


def _model_path() -> Path:
    try:
        return dlib_model_path(LANDMARKS_5)
    except FileNotFoundError:
        pytest.skip("face_recognition_models is not installed")


@pytest.fixture(scope="module")
def predictor() -> ShapePredictor5:
    return ShapePredictor5(_model_path())


def _sample_images() -> dict[str, np.ndarray]:
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("insightface (for its sample photos) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data/images"
    names = ("t1.jpg", "Tom_Hanks_54745.png")
    return {name: np.asarray(Image.open(folder / name).convert("RGB")) for name in names}


# --- parsing and caching -------------------------------------------------------------------


def test_parsed_shapes_and_values_agree_with_the_sequential_reader(predictor):
    model = predictor.model
    assert model.initial_shape.shape == (10,)
    assert model.split_idx1.shape == model.split_thresh.shape == (15, 500, 15)
    assert model.leaves.shape == (15, 500, 16, 10)
    assert model.anchor_idx.shape == (15, 800) and model.deltas.shape == (15, 800, 2)
    # walk the head of the file (initial shape + the first level's 500 trees) the slow way
    reader = DlibReader.open(_model_path())
    assert reader.int() == 1
    assert np.array_equal(reader.matrix("<f4").ravel(), model.initial_shape)
    assert (reader.int(), reader.int()) == (15, 500)
    for tree in range(500):
        assert reader.int() == 15
        for split in range(15):
            idx1, idx2, thresh = reader.int(), reader.int(), reader.float()
            assert idx1 == model.split_idx1[0, tree, split]
            assert idx2 == model.split_idx2[0, tree, split]
            assert np.float32(thresh) == model.split_thresh[0, tree, split]
        assert reader.int() == 16
        leaves = [reader.matrix("<f4").ravel() for _ in range(16)]
        assert np.array_equal(np.stack(leaves), model.leaves[0, tree])


@pytest.mark.parametrize("cut", [1, 1000, 9_000_000])
def test_truncated_file_is_rejected(cut):
    data = _model_path().read_bytes()
    with pytest.raises(DlibFormatError):
        parse_shape_predictor(data[:cut])


def test_other_files_are_rejected():
    with pytest.raises(DlibFormatError):
        parse_shape_predictor(b"\x00not a model")
    with pytest.raises(DlibFormatError):
        parse_shape_predictor(bytes([1, 2]) + b"\x01\x05" * 50)


def test_disk_cache_round_trip_and_recovery(tmp_path, monkeypatch, predictor):
    source = tmp_path / "sp5.dat"
    source.write_bytes(_model_path().read_bytes())
    monkeypatch.setattr(landmarks, "_LOADED", {})
    cold = load_shape_predictor(source, tmp_path / "cache")
    (entry,) = (tmp_path / "cache").glob("*.npz")
    assert load_shape_predictor(source, tmp_path / "cache") is cold  # in-process cache
    monkeypatch.setattr(landmarks, "_LOADED", {})
    warm = load_shape_predictor(source, tmp_path / "cache")
    assert warm is not cold
    for name in cold.__dataclass_fields__:
        assert np.array_equal(getattr(cold, name), getattr(warm, name)), name
    entry.write_bytes(b"garbage")  # a broken entry is re-parsed and rewritten
    monkeypatch.setattr(landmarks, "_LOADED", {})
    again = load_shape_predictor(source, tmp_path / "cache")
    assert np.array_equal(again.leaves, cold.leaves)
    assert entry.stat().st_size > 1000
    os.utime(source, ns=(1, 1))  # a changed file gets a new entry
    load_shape_predictor(source, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


# --- numerics ------------------------------------------------------------------------------


def test_sum_in_order_adds_rows_one_after_another():
    rng = np.random.default_rng(3)
    for faces in (1, 7, 64):
        rows = rng.standard_normal((500, faces, 10)) * rng.choice([1e-4, 1.0, 1e4], (500, 1, 10))
        rows = rows.astype(np.float32)
        expected = rows[0].copy()
        for row in rows[1:]:
            expected += row
        assert np.array_equal(sum_in_order(rows), expected)


def test_split_outcomes_pack_into_bits_and_pick_the_leaf():
    codes = np.arange(1 << 16)
    flags = ((codes[:, None] >> np.arange(16)) & 1).astype(bool)
    assert np.array_equal(landmarks._pack_bits16(flags), codes)
    table = landmarks._leaf_table(15)
    # all splits right -> last leaf; all left -> first; left at the root only -> nodes 1, 4, 10, 22
    assert (table[0], table[0x7FFF], table[0b1]) == (15, 0, 22 - 15)
    # left at nodes 0 and 1, right at 3 and 8 (bits 4 and 15 lie off that path): leaf 18 - 15
    assert table[0b1000_0000_0001_0011] == 18 - 15
    with pytest.raises(DlibFormatError):
        landmarks._leaf_table(31)


def _umeyama_2x2(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Reference: Umeyama's SVD solution (rotation restricted to det +1), scale times rotation."""
    src_c, dst_c = src - src.mean(0), dst - dst.mean(0)
    cov = dst_c.T @ src_c / len(src)
    u, d, vt = np.linalg.svd(cov)
    s = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt))])
    scale = np.trace(np.diag(d) @ s) / (src_c**2).sum(1).mean()
    return scale * u @ s @ vt


def test_similarity_matches_umeyama_including_reflections(predictor):
    rng = np.random.default_rng(5)
    reference = predictor.model.initial_shape.reshape(5, 2)
    shapes = (reference + rng.normal(0, 0.2, (50, 5, 2))).astype(np.float32)
    shapes[::2, :, 0] *= -1  # mirrored shapes: the best similarity has no reflection
    flat = shapes.reshape(50, 10).astype(np.float64)
    ours = (flat @ landmarks.similarity_basis(reference)).reshape(50, 2, 2)
    for shape, got in zip(shapes, ours, strict=True):
        expected = _umeyama_2x2(reference.astype(np.float64), shape.astype(np.float64))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


# --- prediction ----------------------------------------------------------------------------


def test_batch_equals_one_at_a_time_and_rounding(predictor):
    image = _sample_images()["t1.jpg"]
    rng = np.random.default_rng(0)
    left, top = rng.integers(-40, 900, 40), rng.integers(-40, 600, 40)
    side = rng.integers(30, 300, 40)
    boxes = np.stack([left, top, left + side, top + side], 1).astype(float)
    together = predictor.predict(image, boxes)
    assert together.shape == (40, 5, 2) and together.dtype == np.float32
    alone = np.concatenate([predictor.predict(image, box[None]) for box in boxes])
    assert np.array_equal(together, alone)
    fine = ShapePredictor5(_model_path(), subpixel=True).predict(image, boxes)
    assert np.array_equal(np.floor(fine.astype(np.float64) + 0.5), together)
    assert np.abs(fine - together).max() > 0.1


def test_empty_and_invalid_inputs(predictor):
    image = np.zeros((50, 60, 3), np.uint8)
    assert predictor.predict(image, np.zeros((0, 4))).shape == (0, 5, 2)
    with pytest.raises(ValueError, match="RGB"):
        predictor.predict(image[..., 0], np.array([[0, 0, 10, 10]]))
    with pytest.raises(ValueError, match="RGB"):
        predictor.predict(image.astype(np.float32), np.array([[0, 0, 10, 10]]))


# --- exactness against dlib ----------------------------------------------------------------


@pytest.fixture(scope="module")
def dlib_reference():
    dlib = pytest.importorskip("dlib")
    return dlib, dlib.shape_predictor(str(_model_path())), dlib.get_frontal_face_detector()


def _dlib_points(dlib_reference, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    dlib, shape_predictor, _ = dlib_reference
    image = np.ascontiguousarray(image)
    out = []
    for left, top, right, bottom in boxes.astype(int):
        parts = shape_predictor(image, dlib.rectangle(left, top, right, bottom)).parts()
        out.append([(p.x, p.y) for p in parts])
    return np.array(out, np.float32).reshape(-1, 5, 2)


def _detected_boxes(dlib_reference, image: np.ndarray) -> np.ndarray:
    rects = dlib_reference[2](np.ascontiguousarray(image), 0)
    boxes = [[r.left(), r.top(), r.right(), r.bottom()] for r in rects]
    return np.array(boxes, float).reshape(-1, 4)


def _variants(image: np.ndarray) -> dict[str, np.ndarray]:
    pil = Image.fromarray(image)
    width, height = pil.size
    return {
        "original": image,
        "half": np.asarray(pil.resize((width // 2, height // 2), Image.BILINEAR)),
        "enlarged": np.asarray(pil.resize((width * 17 // 10, height * 17 // 10), Image.BICUBIC)),
        "flipped": image[:, ::-1],
        "rotated_10": np.asarray(pil.rotate(10, resample=Image.BILINEAR, expand=True)),
        "rotated_90": np.rot90(image),
    }


def _shifted_boxes(boxes: np.ndarray, image: np.ndarray, rng) -> np.ndarray:
    """Detected boxes nudged, scaled and pushed partly (or wholly) off the image edges."""
    height, width = image.shape[:2]
    extra = [boxes + rng.integers(-7, 8, boxes.shape)]
    side = rng.integers(20, 260, 12)
    left = rng.integers(-side, width, 12)
    top = rng.integers(-side, height, 12)
    extra.append(np.stack([left, top, left + side, top + side - 1], 1))
    extra.append(np.array([[-50, -40, width + 30, height + 20], [width + 5, 0, width + 90, 80]]))
    return np.concatenate([boxes, *extra]).astype(float)


@pytest.mark.dlib
@pytest.mark.parametrize("name", ["t1.jpg", "Tom_Hanks_54745.png"])
def test_identical_to_dlib_on_sample_photos_and_variants(name, predictor, dlib_reference):
    rng = np.random.default_rng(len(name))
    for variant, image in _variants(_sample_images()[name]).items():
        boxes = _detected_boxes(dlib_reference, image)
        if variant in ("original", "flipped"):
            assert len(boxes) >= 1, f"dlib found no face in {name} {variant}"
        boxes = _shifted_boxes(boxes, image, rng)
        ours = predictor.predict(image, boxes)  # views (flipped, rotated) work as they are
        theirs = _dlib_points(dlib_reference, image, boxes)
        assert np.array_equal(ours, theirs), f"{name} {variant}"


@pytest.mark.dlib
@pytest.mark.slow
def test_identical_to_dlib_on_faces_dev(predictor, dlib_reference):
    if not FACES_DEV.is_dir():
        pytest.skip("faces-dev photos are not available")
    rows = (FACES_DEV / "labels.csv").read_text().splitlines()[1:]
    photos = [FACES_DEV / row.split(",")[0] for row in rows]
    rng = np.random.default_rng(11)
    for photo in photos[::9]:
        image = np.asarray(Image.open(photo).convert("RGB"))
        boxes = _shifted_boxes(_detected_boxes(dlib_reference, image), image, rng)
        theirs = _dlib_points(dlib_reference, image, boxes)
        assert np.array_equal(predictor.predict(image, boxes), theirs), photo.name
