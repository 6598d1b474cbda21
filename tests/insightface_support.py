"""Tiny insightface packs for tests, built with the `onnx` package (a test dependency): an
embedder (1x3x112x112 -> global average -> MatMul -> 512) and a detector with SCRFD's 9-output
layout (scores from the red channel's mean per stride cell, constant box distances and keypoint
offsets), so results can be worked out by hand; and the photo they are tried on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

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


def write_pack(root: Path, name: str, files: dict[str, str]) -> Path:
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


def face_image() -> np.ndarray:
    """128x96 black image with a red square on canvas cell (row 1, col 2) of stride 16, brighter
    on its left half, so the cells that see it score differently."""
    image = np.zeros((96, 128, 3), np.uint8)
    image[32:64, 64:96, 0] = 240
    image[32:64, 64:80, 0] = 255
    image[10:20, 5:15] = 200  # a grey blob: red mean too low in every cell
    return image
