"""insightface packs: discovery and errors, and the SCRFD / ArcFace runners on tiny ONNX graphs.

The graphs are built here with the `onnx` package: an embedder (1x3x112x112 -> global average
-> MatMul -> 512) and a detector with SCRFD's 9-output layout (scores from the red channel's
mean per stride cell, constant box distances and keypoint offsets), so results can be worked
out by hand and compared with insightface's own classes on the same files. Nothing is
downloaded; no real pack is needed.
"""

from __future__ import annotations

from pathlib import Path

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

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

THREE_LEVELS, FIVE_LEVELS = (8, 16, 32), (8, 16, 32, 64, 128)  # 2 and 1 anchors per cell


def _save(path: Path, nodes, inputs, outputs, initializers) -> Path:
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def embedder_model(path: Path, batch: int | str = 1, dim: int = 512, seed: int = 0) -> np.ndarray:
    """chips -> mean per channel -> @ W (3, dim). Returns W."""
    weight = np.random.default_rng(seed).normal(size=(3, dim)).astype(np.float32)
    _save(
        path,
        [
            helper.make_node("GlobalAveragePool", ["input.1"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "W"], ["fc1"]),
        ],
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [batch, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [batch, dim])],
        [numpy_helper.from_array(weight, "W")],
    )
    return weight


def _const(name: str, values) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values), name)


def _scrfd_level(
    stride: int, size: int, anchors: int, batched: bool, rng
) -> tuple[list, list, list]:
    """Nodes, constants and outputs of one stride: score per anchor = mean red of its cell."""
    s, lead = stride, [1] if batched else []
    count = anchors * (size // stride) ** 2
    consts = [
        _const(f"cells_{s}", np.array([count // anchors, 1], np.int64)),
        _const(f"anchors_{s}", np.array([*lead, count, 1], np.int64)),
        _const(f"dist_{s}", rng.uniform(0.5, 2.0, (*lead, count, 4)).astype(np.float32)),
        _const(f"offs_{s}", rng.uniform(-1, 1, (*lead, count, 10)).astype(np.float32)),
    ]
    nodes = [
        helper.make_node(
            "AveragePool", ["red"], [f"pool_{s}"], kernel_shape=[s, s], strides=[s, s]
        ),
        helper.make_node("Reshape", [f"pool_{s}", f"cells_{s}"], [f"col_{s}"]),
        helper.make_node("Concat", [f"col_{s}"] * anchors, [f"pair_{s}"], axis=1),
        helper.make_node("Reshape", [f"pair_{s}", f"anchors_{s}"], [f"score_{s}"]),
        helper.make_node("Identity", [f"dist_{s}"], [f"bbox_{s}"]),
        helper.make_node("Identity", [f"offs_{s}"], [f"kps_{s}"]),
    ]
    outputs = [
        helper.make_tensor_value_info(f"{kind}_{s}", TensorProto.FLOAT, [*lead, count, width])
        for kind, width in (("score", 1), ("bbox", 4), ("kps", 10))
    ]
    return nodes, consts, outputs


def scrfd_model(
    path: Path, size: int = 64, batched: bool = False, seed: int = 1, strides=THREE_LEVELS
) -> Path:
    """SCRFD's output layout: scores for every stride, then boxes, then keypoints (9 or 15)."""
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Slice", ["input.1", "zero", "one", "one"], ["red"])]
    consts = [_const("zero", np.array([0], np.int64)), _const("one", np.array([1], np.int64))]
    outputs: dict[str, list] = {"score": [], "bbox": [], "kps": []}
    anchors = 2 if strides == THREE_LEVELS else 1
    for stride in strides:
        level_nodes, level_consts, level_outputs = _scrfd_level(stride, size, anchors, batched, rng)
        nodes += level_nodes
        consts += level_consts
        for kind, output in zip(outputs, level_outputs, strict=True):
            outputs[kind].append(output)
    image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, size, size])
    return _save(path, nodes, [image], sum(outputs.values(), []), consts)


def _pack(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for filename, kind in files.items():
        if kind == "detector":
            scrfd_model(folder / filename)
        elif kind == "embedder":
            embedder_model(folder / filename)
        else:
            (folder / filename).write_bytes(b"not onnx")
    return folder


def _face_image() -> np.ndarray:
    """128x96 black image with a red square on canvas cell (row 1, col 2) of stride 16, brighter
    on its left half, so the cells that see it score differently."""
    image = np.zeros((96, 128, 3), np.uint8)
    image[32:64, 64:96, 0] = 240
    image[32:64, 64:80, 0] = 255
    image[10:20, 5:15] = 200  # a grey blob: red mean too low in every cell
    return image


# --- discovery and errors ------------------------------------------------------------------


def test_available_packs_lists_complete_folders_only(tmp_path):
    _pack(tmp_path, "buffalo_s", {"det_500m.onnx": "detector", "w600k_mbf.onnx": "embedder"})
    _pack(tmp_path, "half", {"w600k_r50.onnx": "embedder", "genderage.onnx": "junk"})
    _pack(tmp_path, "empty", {})
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
    _pack(tmp_path, "half", {"w600k_r50.onnx": "embedder", "1k3d68.onnx": "junk"})
    with pytest.raises(PackMissing, match=r"needs a detector \(file name starting with det_"):
        load_pack("half", tmp_path)
    with pytest.raises(PackMissing, match="1k3d68.onnx, w600k_r50.onnx"):
        find_pack("half", tmp_path)


def test_damaged_or_mislabelled_models_are_rejected(tmp_path):
    _pack(tmp_path, "broken", {"det_10g.onnx": "junk", "w600k_r50.onnx": "embedder"})
    with pytest.raises(PackInvalid, match="not a readable ONNX model"):
        load_pack("broken", tmp_path)
    _pack(tmp_path, "swapped", {"det_10g.onnx": "embedder", "w600k_r50.onnx": "detector"})
    with pytest.raises(PackInvalid, match="9 or 15"):
        ScrfdDetector(tmp_path / "swapped/det_10g.onnx")
    with pytest.raises(PackInvalid, match="not an ArcFace embedder"):
        OnnxArcFaceEmbedder(tmp_path / "swapped/w600k_r50.onnx")


def test_load_pack_wires_detector_embedder_and_arcface_aligner(tmp_path):
    _pack(tmp_path, "buffalo_l", {"det_10g.onnx": "detector", "w600k_r50.onnx": "embedder"})
    pack = load_pack("buffalo_l", tmp_path, min_face_size=0)
    assert pack.embedder.spec.name == "insightface-buffalo_l-w600k_r50"
    assert pack.embedder.spec.alignment == "arcface_112"
    assert pack.aligner.size == 112 and pack.aligner.landmark_order == "arcface"
    detections, points = pack.detector.detect_with_keypoints(_face_image())
    chips = pack.aligner.align(_face_image(), points)
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
    detections, points = detector.detect_with_keypoints(_face_image())
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
    everything = ScrfdDetector(path, min_face_size=0).detect(_face_image())
    smallest = min(min(d.box[2] - d.box[0], d.box[3] - d.box[1]) for d in everything)
    fewer = ScrfdDetector(path, min_face_size=int(smallest) + 1).detect(_face_image())
    assert len(fewer) < len(everything)


@pytest.mark.parametrize(
    ("strides", "size", "batched"),
    [(THREE_LEVELS, 64, False), (THREE_LEVELS, 64, True), (FIVE_LEVELS, 128, False)],
)
def test_detector_matches_insightface_scrfd(tmp_path, strides, size, batched):
    scrfd = pytest.importorskip("insightface.model_zoo.scrfd")
    path = scrfd_model(tmp_path / "det.onnx", size, batched, seed=7, strides=strides)
    image = _face_image()
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
