"""Verification benchmarks for an embedding model: pair sets, flip-fused features, the report.

The model is any `Embed` callable, uint8 RGB chips (N, S, S, 3) -> (N, D) float features, so the
same code scores a torch module (`model_embedder`), the app's embedder or a stub in a test.

Pair sets come from three places, each image embedded once however many pairs use it:
- LFW's `pairs.txt` over a folder of aligned chips (`lfw_pairs`),
- a folder of aligned chips per person (`chip_folder_pairs`), every same pair and a seeded sample
  of different pairs,
- an insightface `.bin` pack (`bin_pairs`).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from training.insightface_rec import load_bin
from training.spec import ModelSpec, Thresholds
from training.verification import (
    DEFAULT_FARS,
    VerificationReport,
    contiguous_folds,
    stratified_folds,
    verify,
)

if TYPE_CHECKING:
    from torch import nn

Embed = Callable[[np.ndarray], np.ndarray]
ImageSource = Path | bytes
CHIP_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class PairSet:
    """Images (paths or encoded bytes) and pairs of indices into them, labeled and in folds."""

    name: str
    images: Sequence[ImageSource]
    left: np.ndarray
    right: np.ndarray
    issame: np.ndarray
    folds: np.ndarray

    def __len__(self) -> int:
        return len(self.issame)


def load_chip(source: ImageSource, size: int | None = None) -> np.ndarray:
    """Decode a chip to RGB uint8 (S, S, 3), resized (bilinear) to `size` when given and different."""
    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        image = image.convert("RGB")
        if size and image.size != (size, size):
            image = image.resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8).copy()


def parse_lfw_pairs(path: str | Path) -> tuple[list[tuple[str, int, str, int]], np.ndarray | None]:
    """Read LFW's pairs format: `name i j` (same) and `name1 i name2 j` (different) lines.

    The header may be `10 300` (10 folds of 300 same then 300 different pairs: fold ids follow
    the file), a single count (`1100`, pairsDevTrain.txt: one block, no folds) or absent.
    Returns the pairs and their fold ids, None when the file defines no folds.
    """
    lines = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    header = lines[0] if lines and all(token.isdigit() for token in lines[0]) else []
    pairs = []
    for number, tokens in enumerate(lines[1 if header else 0 :], start=2 if header else 1):
        if len(tokens) == 3:
            pairs.append((tokens[0], int(tokens[1]), tokens[0], int(tokens[2])))
        elif len(tokens) == 4:
            pairs.append((tokens[0], int(tokens[1]), tokens[2], int(tokens[3])))
        else:
            raise ValueError(f"{path}:{number}: expected 3 or 4 fields, got {len(tokens)}")
    counts = [int(token) for token in header]
    expected = 2 * counts[0] * counts[1] if len(counts) == 2 else 2 * counts[0] if counts else None
    if expected is not None and expected != len(pairs):
        raise ValueError(f"{path}: header promises {expected} pairs, file has {len(pairs)}")
    folds = contiguous_folds(len(pairs), counts[0]) if len(counts) == 2 else None
    return pairs, folds


def _find_image(root: Path, name: str, number: int, listing: dict[str, dict[str, Path]]) -> Path:
    if name not in listing:
        folder = root / name
        files = folder.iterdir() if folder.is_dir() else []
        listing[name] = {p.stem: p for p in files if p.suffix.lower() in CHIP_SUFFIXES}
    path = listing[name].get(f"{name}_{number:04d}")
    if path is None:
        raise FileNotFoundError(f"no image {root / name / f'{name}_{number:04d}'}.<ext>")
    return path


def lfw_pairs(pairs_txt: str | Path, images_root: str | Path, n_folds: int = 10) -> PairSet:
    """LFW-format pairs over `images_root/Name/Name_0001.<ext>` chips."""
    pairs, folds = parse_lfw_pairs(pairs_txt)
    root, listing, index = Path(images_root), {}, {}
    left, right = [], []
    for name1, i, name2, j in pairs:
        for name, number, side in ((name1, i, left), (name2, j, right)):
            path = _find_image(root, name, number, listing)
            side.append(index.setdefault(path, len(index)))
    issame = np.array([p[0] == p[2] for p in pairs], dtype=bool)
    return PairSet(
        name=Path(pairs_txt).name,
        images=list(index),
        left=np.array(left),
        right=np.array(right),
        issame=issame,
        folds=folds if folds is not None else stratified_folds(issame, n_folds),
    )


def _chip_folders(root: Path) -> tuple[list[Path], np.ndarray]:
    paths, labels = [], []
    for label, folder in enumerate(sorted(p for p in root.iterdir() if p.is_dir())):
        chips = sorted(p for p in folder.iterdir() if p.suffix.lower() in CHIP_SUFFIXES)
        paths += chips
        labels += [label] * len(chips)
    if not paths:
        raise ValueError(f"no chips under {root}/<person>/")
    return paths, np.array(labels)


def sample_different_pairs(labels: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """`count` distinct pairs (i < j) of different labels, uniformly at random, as (count, 2)."""
    n = len(labels)
    available = (n * n - int(np.sum(np.bincount(labels) ** 2))) // 2
    count = min(count, available)
    rng = np.random.default_rng(seed)
    if 2 * count >= available:  # small set: enumerate and choose
        i, j = np.triu_indices(n, k=1)
        keep = labels[i] != labels[j]
        chosen = rng.choice(int(keep.sum()), size=count, replace=False)
        return np.stack([i[keep][chosen], j[keep][chosen]], axis=1)
    found: set[tuple[int, int]] = set()
    while len(found) < count:
        a, b = rng.integers(0, n, size=(2, 2 * (count - len(found))))
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            if labels[x] != labels[y] and len(found) < count:
                found.add((min(x, y), max(x, y)))
    return np.array(sorted(found)).reshape(-1, 2)


def chip_folder_pairs(
    root: str | Path, n_different: int | None = None, seed: int = 0, n_folds: int = 10
) -> PairSet:
    """`root/<person>/<chip>`: all same-person pairs and `n_different` sampled different pairs.

    `n_different` defaults to the number of same pairs but at least 1000 (what TAR at FAR 1e-3
    needs to mean anything), capped at what the folder can give.
    """
    paths, labels = _chip_folders(Path(root))
    same = [
        pair
        for label in np.unique(labels)
        for pair in itertools.combinations(np.flatnonzero(labels == label).tolist(), 2)
    ]
    count = n_different if n_different is not None else max(len(same), 1000)
    different = sample_different_pairs(labels, count, seed)
    pairs = np.array(same + different.tolist(), dtype=np.int64).reshape(-1, 2)
    issame = np.arange(len(pairs)) < len(same)
    return PairSet(
        name=Path(root).name,
        images=paths,
        left=pairs[:, 0],
        right=pairs[:, 1],
        issame=issame,
        folds=stratified_folds(issame, n_folds),
    )


def bin_pairs(path: str | Path, n_folds: int = 10) -> PairSet:
    """An insightface `.bin` pack: pair k is images 2k and 2k+1; folds follow the file (as
    insightface's own evaluation splits it, unshuffled)."""
    pack = load_bin(path)
    n = len(pack.issame)
    return PairSet(
        name=Path(path).name,
        images=pack.images,
        left=np.arange(n) * 2,
        right=np.arange(n) * 2 + 1,
        issame=pack.issame,
        folds=contiguous_folds(n, n_folds),
    )


def embed_images(
    embed: Embed,
    images: Sequence[ImageSource],
    size: int | None = None,
    batch_size: int = 64,
    flip: bool = True,
) -> np.ndarray:
    """L2-normalized features; with `flip`, of the sum of the image's and its mirror's features."""
    features = []
    for start in range(0, len(images), batch_size):
        chips = np.stack([load_chip(source, size) for source in images[start : start + batch_size]])
        batch = np.asarray(embed(chips), dtype=np.float64)
        if flip:
            batch = batch + np.asarray(embed(np.ascontiguousarray(chips[:, :, ::-1])))
        features.append(batch)
    features = np.concatenate(features)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32)


def evaluate_pairs(
    embed: Embed,
    pairs: PairSet,
    size: int | None = None,
    fars: Sequence[float] = DEFAULT_FARS,
    batch_size: int = 64,
    flip: bool = True,
) -> VerificationReport:
    """Embed every image of the set once, score each pair by cosine, report (see `verify`)."""
    features = embed_images(embed, pairs.images, size, batch_size, flip)
    scores = np.sum(features[pairs.left] * features[pairs.right], axis=1)
    return verify(scores, pairs.issame, pairs.folds, fars)


def calibrated_thresholds(
    report: VerificationReport, same_person_far: float = 1e-3, suggestion_far: float = 1e-2
) -> Thresholds:
    """The spec's thresholds at measured false-accept rates (both FARs must be in the report)."""
    same, suggestion = report.threshold_at(same_person_far), report.threshold_at(suggestion_far)
    return Thresholds(
        same_person=same.threshold,
        suggestion=suggestion.threshold,
        same_person_fmr=same.far,
        suggestion_fmr=suggestion.far,
    )


def model_embedder(model: nn.Module, spec: ModelSpec, device: str = "cpu") -> Embed:
    """An `Embed` over a torch module: the spec's preprocessing, eval mode, no grad, and the
    spec's `center` subtracted from each raw descriptor (before any flip sum and L2)."""
    import torch

    from training.data import Preprocess

    preprocess = Preprocess(spec)
    model = model.to(device).eval()
    center = None if spec.center is None else np.asarray(spec.center, dtype=np.float32)

    def embed(chips: np.ndarray) -> np.ndarray:
        pixels = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).to(device)
        with torch.inference_mode():
            out = model(preprocess(pixels)).float().cpu().numpy()
        return out - center if center is not None else out

    return embed
