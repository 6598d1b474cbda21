"""Optional insightface model packs (SCRFD detector + ArcFace embedder) the user already has.

insightface publishes ONNX packs (`buffalo_l`, `buffalo_s`, `antelopev2`, ...) that its own tools
unpack under `~/.insightface/models/<pack>/`. Their licence is non-commercial, so Face Album
never downloads them: a user who has a pack can point the app at it, and this module runs the
detector and the embedder with onnxruntime directly (insightface itself is not needed).

Inside a pack folder the detector and the embedder are told apart by file name, as insightface
names them: SCRFD detectors start with `det_` or `scrfd` (det_10g, det_500m, scrfd_10g_bnkps),
ArcFace embedders with `w600k`, `glint`, `arcface`, `webface` or `ms1m` (w600k_r50, w600k_mbf,
glintr100). Their graphs are then checked (SCRFD with keypoints: 9 or 15 outputs; ArcFace:
1x3x112x112 in, one (N, D) out) so a wrong or damaged file fails with a clear message.

SCRFD's keypoints are in ArcFace order (left eye, right eye, nose tip, left and right mouth
corner, "left" as seen in the image) and feed `album.faces.align.ArcFaceAligner(
landmark_order="arcface")`; they are not dlib's 5 points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from album.faces.align import ArcFaceAligner
from album.faces.types import Detection
from training.model import preprocess
from training.spec import ModelSpec, sha256_file

DEFAULT_ROOT = Path("~/.insightface/models")
DETECTOR_PREFIXES = ("det_", "scrfd")
EMBEDDER_PREFIXES = ("w600k", "glint", "arcface", "webface", "ms1m")
ARCFACE_SIZE = 112


class PackMissing(FileNotFoundError):
    """The pack folder, or a model the pack needs, is not there."""


class PackInvalid(ValueError):
    """A model file in the pack is not the kind of model its name says."""


# --- finding packs -------------------------------------------------------------------------


@dataclass(frozen=True)
class PackFiles:
    name: str
    detector: Path
    embedder: Path


def _root(root: str | Path | None) -> Path:
    return Path(root if root is not None else DEFAULT_ROOT).expanduser()


def _role(path: Path) -> str | None:
    stem = path.stem.lower()
    if stem.startswith(DETECTOR_PREFIXES):
        return "detector"
    if stem.startswith(EMBEDDER_PREFIXES):
        return "embedder"
    return None


def _pick(folder: Path) -> dict[str, Path]:
    """The first detector and the first embedder in the folder, by sorted file name."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.onnx")):
        role = _role(path)
        if role is not None and path.is_file():
            found.setdefault(role, path)
    return found


def available_packs(root: str | Path | None = None) -> list[str]:
    """Names of the pack folders under `root` (default ~/.insightface/models) that hold both a
    detector and an embedder. Looks at file names only; loading validates the graphs."""
    folder = _root(root)
    if not folder.is_dir():
        return []
    return sorted(pack.name for pack in folder.iterdir() if pack.is_dir() and len(_pick(pack)) == 2)


def find_pack(name: str, root: str | Path | None = None) -> PackFiles:
    """The detector and embedder files of pack `name`, or an error that says what is missing."""
    folder = _root(root) / name
    if not folder.is_dir():
        raise PackMissing(
            f"insightface model pack {name!r} not found: no folder {folder}. Face Album never "
            f"downloads these packs; unpack one you have (e.g. {name}.zip) into that folder."
        )
    found = _pick(folder)
    missing = [role for role in ("detector", "embedder") if role not in found]
    if missing:
        present = sorted(p.name for p in folder.glob("*.onnx")) or ["no .onnx files"]
        wanted = {"detector": DETECTOR_PREFIXES, "embedder": EMBEDDER_PREFIXES}
        needs = "; ".join(
            f"a {r} (file name starting with {' or '.join(wanted[r])})" for r in missing
        )
        raise PackMissing(
            f"insightface model pack {name!r} in {folder} is incomplete: it needs {needs}, "
            f"found {', '.join(present)}."
        )
    return PackFiles(name, found["detector"], found["embedder"])


def _session(path: Path, providers: list[str] | None):
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            "insightface model packs need onnxruntime: pip install onnxruntime"
        ) from exc
    try:
        return onnxruntime.InferenceSession(
            str(path), providers=providers or ["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise PackInvalid(f"{path} is not a readable ONNX model: {exc}") from exc


# --- SCRFD detector ------------------------------------------------------------------------

# outputs -> (strides, anchors per location) for SCRFD graphs that predict keypoints
_SCRFD_LAYOUTS = {9: ((8, 16, 32), 2), 15: ((8, 16, 32, 64, 128), 1)}


class ScrfdDetector:
    """SCRFD face detector (insightface's post-processing): boxes, scores and 5 keypoints.

    The image is scaled to fit `input_size` (width, height), keeping its aspect ratio, at the
    top-left of a black canvas; (pixel - 127.5) / 128 in RGB. Each output level predicts a score,
    box distances and keypoint offsets per anchor (in units of its stride); boxes are merged by
    NMS (IoU with insightface's +1 pixel areas). Boxes are float (left, top, right, bottom) in the
    image's pixels; faces whose box is narrower or shorter than `min_face_size` are dropped.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        input_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
        min_face_size: int = 20,
        providers: list[str] | None = None,
    ) -> None:
        self.session = _session(Path(model_path), providers)
        outputs = self.session.get_outputs()
        if len(outputs) not in _SCRFD_LAYOUTS:
            raise PackInvalid(
                f"{model_path} has {len(outputs)} outputs; an SCRFD detector with keypoints has "
                f"9 or 15 (scores, boxes and keypoints per stride)"
            )
        self.strides, self.anchors = _SCRFD_LAYOUTS[len(outputs)]
        model_input = self.session.get_inputs()[0]
        height, width = model_input.shape[2:4]
        fixed = isinstance(height, int) and isinstance(width, int)
        self.input_name = model_input.name
        self.input_size = (width, height) if fixed else tuple(input_size)
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold
        self.min_face_size = min_face_size

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self.detect_with_keypoints(image)[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        return [self.detect(image) for image in images]

    def detect_with_keypoints(self, image: np.ndarray) -> tuple[list[Detection], np.ndarray]:
        """Detections (best score first) and their keypoints (N, 5, 2) float32, ArcFace order."""
        canvas, scale = self._letterbox(image)
        blob = ((canvas.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outputs = self.session.run(None, {self.input_name: np.ascontiguousarray(blob)})
        boxes, scores, points = self._decode(outputs, canvas.shape[:2])
        order = np.argsort(-scores, kind="stable")
        boxes, scores, points = boxes[order] / scale, scores[order], points[order] / scale
        keep = _nms(boxes, self.nms_threshold)
        sides = np.minimum(boxes[keep, 2] - boxes[keep, 0], boxes[keep, 3] - boxes[keep, 1])
        keep = keep[sides >= self.min_face_size]
        detections = [Detection(tuple(float(v) for v in boxes[i]), float(scores[i])) for i in keep]
        return detections, points[keep].reshape(-1, 5, 2).astype(np.float32)

    def _letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        width, height = self.input_size
        rows, cols = image.shape[:2]
        if rows / cols > height / width:
            new_h, new_w = height, int(height / (rows / cols))
        else:
            new_w, new_h = width, int(width * (rows / cols))
        canvas = np.zeros((height, width, 3), np.uint8)
        canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h))
        return canvas, new_h / rows

    def _decode(
        self, outputs: list[np.ndarray], shape: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates above the score threshold, in canvas pixels: boxes, scores, keypoints."""
        levels = len(self.strides)
        boxes, scores, points = [], [], []
        for level, stride in enumerate(self.strides):
            score = outputs[level].reshape(-1)
            distance = outputs[level + levels].reshape(-1, 4) * stride
            offsets = outputs[level + 2 * levels].reshape(-1, 10) * stride
            rows, cols = shape[0] // stride, shape[1] // stride
            ys, xs = np.mgrid[:rows, :cols]
            centers = np.stack([xs, ys], -1).reshape(-1, 1, 2).astype(np.float32) * stride
            centers = np.repeat(centers, self.anchors, axis=0)[:, 0]
            if len(score) != len(centers):
                raise PackInvalid(
                    f"SCRFD output {level} has {len(score)} anchors, expected {len(centers)}"
                )
            hit = score >= self.score_threshold
            centers = centers[hit]
            scores.append(score[hit])
            boxes.append(np.hstack([centers - distance[hit, :2], centers + distance[hit, 2:]]))
            points.append(np.tile(centers, 5) + offsets[hit])
        return np.concatenate(boxes), np.concatenate(scores), np.concatenate(points)


def _nms(boxes: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS over boxes sorted best first; insightface's IoU with +1 pixel sizes."""
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    order, keep = np.arange(len(boxes)), []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        low = np.maximum(boxes[best, :2], boxes[rest, :2])
        high = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        inter = np.prod(np.maximum(0.0, high - low + 1), axis=1)
        overlap = inter / (areas[best] + areas[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=np.intp)


# --- ArcFace embedder ----------------------------------------------------------------------


class OnnxArcFaceEmbedder:
    """An ArcFace ONNX model: 112x112 RGB chips normalized by its spec (mean and std 127.5),
    L2-normalized output.

    Graphs with a fixed batch size (often 1) are fed that many chips at a time.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        name: str | None = None,
        providers: list[str] | None = None,
        batch_size: int = 64,
    ) -> None:
        path = Path(model_path)
        self.session = _session(path, providers)
        model_input, outputs = self.session.get_inputs()[0], self.session.get_outputs()
        dims = list(model_input.shape)
        if len(dims) != 4 or dims[1:] != [3, ARCFACE_SIZE, ARCFACE_SIZE] or len(outputs) != 1:
            raise PackInvalid(
                f"{path} is not an ArcFace embedder: input {dims} (want N x 3 x 112 x 112), "
                f"{len(outputs)} outputs (want 1)"
            )
        out_dims = outputs[0].shape
        if len(out_dims) != 2 or not isinstance(out_dims[1], int):
            raise PackInvalid(f"{path} has output {out_dims}; an embedder gives (N, D)")
        self.input_name = model_input.name
        self.fixed_batch = dims[0] if isinstance(dims[0], int) else None
        self.batch_size = self.fixed_batch or batch_size
        self.spec = ModelSpec(
            name=name or f"onnx-{path.stem}",
            backbone="onnx",
            input_size=ARCFACE_SIZE,
            alignment="arcface_112",
            embedding_dim=out_dims[1],
            mean=(127.5, 127.5, 127.5),
            std=(127.5, 127.5, 127.5),
            weights_sha256=sha256_file(path),
        )

    def embed(self, chips: np.ndarray) -> np.ndarray:
        chips = np.asarray(chips)
        if chips.ndim != 4 or chips.shape[1:] != (ARCFACE_SIZE, ARCFACE_SIZE, 3):
            raise ValueError(f"expected (N, 112, 112, 3) RGB chips, got {chips.shape}")
        out = np.zeros((len(chips), self.spec.embedding_dim), np.float32)
        for start in range(0, len(chips), self.batch_size):
            batch = chips[start : start + self.batch_size]
            out[start : start + len(batch)] = self._run(batch)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _run(self, chips: np.ndarray) -> np.ndarray:
        blob = np.zeros((self.fixed_batch or len(chips), 3, ARCFACE_SIZE, ARCFACE_SIZE), np.float32)
        pixels = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2)
        blob[: len(chips)] = preprocess(pixels, self.spec).numpy()
        return self.session.run(None, {self.input_name: blob})[0][: len(chips)]


# --- a whole pack --------------------------------------------------------------------------


@dataclass(frozen=True)
class InsightfacePack:
    """What a pipeline needs from a pack: the detector gives ArcFace-order keypoints
    (`detect_with_keypoints`), the aligner cuts 112x112 chips from them, the embedder embeds."""

    name: str
    detector: ScrfdDetector
    embedder: OnnxArcFaceEmbedder
    aligner: ArcFaceAligner


def load_pack(
    name: str,
    root: str | Path | None = None,
    *,
    providers: list[str] | None = None,
    min_face_size: int = 20,
) -> InsightfacePack:
    """Load pack `name` from `root` (default ~/.insightface/models); never downloads."""
    files = find_pack(name, root)
    return InsightfacePack(
        name=name,
        detector=ScrfdDetector(files.detector, providers=providers, min_face_size=min_face_size),
        embedder=OnnxArcFaceEmbedder(
            files.embedder, name=f"insightface-{name}-{files.embedder.stem}", providers=providers
        ),
        aligner=ArcFaceAligner(ARCFACE_SIZE, landmark_order="arcface"),
    )
