"""insightface packs: discovery and errors, and the SCRFD / ArcFace runners on tiny ONNX graphs.

The graphs come from tests/insightface_support.py (built with the `onnx` package, a test
dependency: missing, these tests fail rather than skip), small enough to work results out by
hand and compare them with insightface's own classes on the same files. Nothing is downloaded;
no real pack is needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from album.faces.insightface_pack import (
    OnnxArcFaceEmbedder,
    PackInvalid,
    PackMissing,
    ScrfdDetector,
    available_packs,
    find_pack,
    load_pack,
)
from tests.insightface_support import (
    FIVE_LEVELS,
    THREE_LEVELS,
    embedder_model,
    face_image,
    scrfd_model,
    write_pack,
)

# --- discovery and errors ------------------------------------------------------------------


def test_available_packs_lists_complete_folders_only(tmp_path):
    write_pack(tmp_path, "buffalo_s", {"det_500m.onnx": "detector", "w600k_mbf.onnx": "embedder"})
    write_pack(tmp_path, "half", {"w600k_r50.onnx": "embedder", "genderage.onnx": "junk"})
    write_pack(tmp_path, "empty", {})
    (tmp_path / "stray.onnx").write_bytes(b"x")
    assert available_packs(tmp_path) == ["buffalo_s"]
    assert available_packs(tmp_path / "nowhere") == []
    files = find_pack("buffalo_s", tmp_path)
    assert (files.detector.name, files.embedder.name) == ("det_500m.onnx", "w600k_mbf.onnx")


def test_missing_pack_says_where_and_that_nothing_is_downloaded(tmp_path):
    with pytest.raises(PackMissing, match="never downloads") as info:
        load_pack("buffalo_l", tmp_path)
    assert str(tmp_path / "buffalo_l") in str(info.value)


def test_incomplete_pack_names_the_missing_model_and_what_was_found(tmp_path):
    write_pack(tmp_path, "half", {"w600k_r50.onnx": "embedder", "1k3d68.onnx": "junk"})
    with pytest.raises(PackMissing, match=r"needs a detector \(file name starting with det_"):
        load_pack("half", tmp_path)
    with pytest.raises(PackMissing, match="1k3d68.onnx, w600k_r50.onnx"):
        find_pack("half", tmp_path)


def test_damaged_or_mislabelled_models_are_rejected(tmp_path):
    write_pack(tmp_path, "broken", {"det_10g.onnx": "junk", "w600k_r50.onnx": "embedder"})
    with pytest.raises(PackInvalid, match="not a readable ONNX model"):
        load_pack("broken", tmp_path)
    write_pack(tmp_path, "swapped", {"det_10g.onnx": "embedder", "w600k_r50.onnx": "detector"})
    with pytest.raises(PackInvalid, match="9 or 15"):
        ScrfdDetector(tmp_path / "swapped/det_10g.onnx")
    with pytest.raises(PackInvalid, match="not an ArcFace embedder"):
        OnnxArcFaceEmbedder(tmp_path / "swapped/w600k_r50.onnx")


def test_load_pack_wires_detector_embedder_and_arcface_aligner(tmp_path):
    write_pack(tmp_path, "buffalo_l", {"det_10g.onnx": "detector", "w600k_r50.onnx": "embedder"})
    pack = load_pack("buffalo_l", tmp_path, min_face_size=0)
    assert pack.embedder.spec.name == "insightface-buffalo_l-w600k_r50"
    assert pack.embedder.spec.alignment == "arcface_112"
    assert pack.aligner.size == 112 and pack.aligner.landmark_order == "arcface"
    detections, points = pack.detector.detect_with_keypoints(face_image())
    chips = pack.aligner.align(face_image(), points)
    assert pack.embedder.embed(chips).shape == (len(detections), 512)


# --- the embedder --------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, "N"])
def test_embedder_normalizes_input_and_output(tmp_path, batch):
    weight = embedder_model(tmp_path / "w600k_r50.onnx", batch=batch)
    embedder = OnnxArcFaceEmbedder(tmp_path / "w600k_r50.onnx")
    spec = embedder.spec
    assert (spec.input_size, spec.embedding_dim, spec.alignment) == (112, 512, "arcface_112")
    assert spec.mean == spec.std == (127.5, 127.5, 127.5) and len(spec.weights_sha256) == 64
    rng = np.random.default_rng(2)
    chips = rng.integers(0, 256, (5, 112, 112, 3), dtype=np.uint8)
    chips[0, ..., 0] = 255  # channel order matters: a red chip is not a blue one
    got = embedder.embed(chips)
    means = ((chips.astype(np.float64) - 127.5) / 127.5).mean(axis=(1, 2))  # (N, 3) RGB
    expected = means @ weight
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got.dtype == np.float32
    with pytest.raises(ValueError, match="112, 112, 3"):
        embedder.embed(chips[:, :100])


def test_embedder_matches_insightface_arcface_onnx(tmp_path):
    arcface = pytest.importorskip("insightface.model_zoo.arcface_onnx")
    embedder_model(tmp_path / "w600k_r50.onnx")
    chips = np.random.default_rng(4).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    reference = arcface.ArcFaceONNX(model_file=str(tmp_path / "w600k_r50.onnx"))
    theirs = np.concatenate([reference.get_feat(chip[..., ::-1].copy()) for chip in chips])
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    ours = OnnxArcFaceEmbedder(tmp_path / "w600k_r50.onnx").embed(chips)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


# --- the detector --------------------------------------------------------------------------


def test_detector_finds_the_bright_cell_with_keypoints(tmp_path):
    detector = ScrfdDetector(scrfd_model(tmp_path / "det.onnx"), min_face_size=0)
    assert detector.input_size == (64, 64) and detector.anchors == 2
    detections, points = detector.detect_with_keypoints(face_image())
    assert detections and points.shape == (len(detections), 5, 2)
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.5
    # every candidate is anchored on a cell inside the red square (image x 64..96, y 32..64);
    # the canvas is half the image's scale, so a stride-s distance d spans 2*s*d image pixels
    for det in detections:
        cx, cy = (det.box[0] + det.box[2]) / 2, (det.box[1] + det.box[3]) / 2
        assert 48 <= cx <= 112 and 16 <= cy <= 80, det
    assert detector.detect(np.zeros((96, 128, 3), np.uint8)) == []


def test_min_face_size_drops_small_boxes(tmp_path):
    path = scrfd_model(tmp_path / "det.onnx")
    everything = ScrfdDetector(path, min_face_size=0).detect(face_image())
    smallest = min(min(d.box[2] - d.box[0], d.box[3] - d.box[1]) for d in everything)
    fewer = ScrfdDetector(path, min_face_size=int(smallest) + 1).detect(face_image())
    assert len(fewer) < len(everything)


@pytest.mark.parametrize(
    ("strides", "size", "batched"),
    [(THREE_LEVELS, 64, False), (THREE_LEVELS, 64, True), (FIVE_LEVELS, 128, False)],
)
def test_detector_matches_insightface_scrfd(tmp_path, strides, size, batched):
    scrfd = pytest.importorskip("insightface.model_zoo.scrfd")
    path = scrfd_model(tmp_path / "det.onnx", size, batched, seed=7, strides=strides)
    image = face_image()
    image[70:90, 8:40, 0] = 230  # a second, weaker face
    reference = scrfd.SCRFD(model_file=str(path))
    reference.prepare(-1)
    det, kps = reference.detect(image[..., ::-1].copy())
    detector = ScrfdDetector(path, min_face_size=0)
    assert (detector.strides, detector.anchors) == (strides, 2 if len(strides) == 3 else 1)
    ours, points = detector.detect_with_keypoints(image)
    assert len(ours) == len(det) >= 2
    np.testing.assert_allclose([d.box for d in ours], det[:, :4], atol=1e-4)
    np.testing.assert_allclose([d.score for d in ours], det[:, 4], atol=1e-6)
    np.testing.assert_allclose(points, kps, atol=1e-4)
