"""Faces per second: our torch port of dlib's ResNet vs dlib-bin, on the same chips.

    /tmp/venv/bin/python bench/bench_embed.py [--repeats 3]

Chips are dlib's own (`get_face_chip`, 150 px, padding 0.25) of the faces in insightface's sample
photos, repeated to fill the batches. Rows: dlib-bin (`compute_face_descriptor`, one chip or a
list of chips), our `TorchEmbedder` (affines folded into the convs) and the plain module (affines
kept, as for fine-tuning). Each figure is the best of `--repeats` timed runs after a warm-up.
Also times chip extraction: our `DlibChipAligner` vs `dlib.get_face_chip`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album.faces.align import DlibChipAligner  # noqa: E402
from album.faces.embedder import TorchEmbedder, load_default_embedder  # noqa: E402
from training.backbones import create_backbone  # noqa: E402
from training.backbones.dlib_resnet import default_dat_path  # noqa: E402

BATCHES = (1, 16, 64)


def sample_faces() -> list[tuple[np.ndarray, object]]:
    """(image, dlib shape) for each face in insightface's sample photos."""
    import dlib

    root = Path(next(iter(importlib.util.find_spec("insightface").submodule_search_locations)))
    models = default_dat_path().parent
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    faces = []
    for name in ("t1.jpg", "Tom_Hanks_54745.png"):
        image = np.asarray(Image.open(root / "data/images" / name).convert("RGB"))
        faces += [(image, predictor(image, box)) for box in detector(image, 1)]
    return faces


def best_rate(run: Callable[[], object], count: int, repeats: int) -> float:
    run()
    best = min(_seconds(run) for _ in range(repeats))
    return count / best


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def embed_table(chips: np.ndarray, repeats: int) -> None:
    import dlib

    recognizer = dlib.face_recognition_model_v1(str(default_dat_path()))
    embedder = load_default_embedder(device="cpu", batch_size=max(BATCHES))
    # wrapped, the module has no `fused()`, so the embedder keeps its affines
    plain = TorchEmbedder(embedder.spec, torch.nn.Sequential(create_backbone("dlib_resnet")), "cpu")
    print(f"{'batch':>5} {'dlib-bin':>10} {'torch fused':>12} {'torch plain':>12} {'ratio':>7}")
    for batch in BATCHES:
        dlib_rate, fused, unfused = embed_rates(recognizer, embedder, plain, chips[:batch], repeats)
        print(
            f"{batch:>5} {dlib_rate:>10.1f} {fused:>12.1f} {unfused:>12.1f} "
            f"{fused / dlib_rate:>6.1f}x"
        )


def embed_rates(recognizer, embedder, plain, chips: np.ndarray, repeats: int) -> tuple[float, ...]:
    """Faces/s of dlib-bin (one timed run for a batch: it is slow), the fused and plain embedder."""
    n = len(chips)
    listed = list(chips) if n > 1 else chips[0]
    dlib_rate = best_rate(
        lambda: recognizer.compute_face_descriptor(listed), n, 1 if n > 1 else repeats
    )
    fused = best_rate(lambda: embedder.embed(chips), n, repeats)
    unfused = best_rate(lambda: plain.embed(chips), n, repeats)
    return dlib_rate, fused, unfused


def align_table(faces: list, repeats: int) -> None:
    import dlib

    aligner = DlibChipAligner()
    points = [np.array([[[p.x, p.y] for p in shape.parts()]], np.float32) for _, shape in faces]
    ours = best_rate(
        lambda: [aligner.align(img, pts) for (img, _), pts in zip(faces, points)],
        len(faces),
        repeats,
    )
    theirs = best_rate(
        lambda: [dlib.get_face_chip(img, shape, 150, 0.25) for img, shape in faces],
        len(faces),
        repeats,
    )
    print(f"chips/s: DlibChipAligner {ours:.0f}, dlib.get_face_chip {theirs:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import dlib

    faces = sample_faces()
    base = np.stack([dlib.get_face_chip(img, shape, 150, 0.25) for img, shape in faces])
    chips = np.concatenate([base, base[:, :, ::-1]] * (max(BATCHES) // (2 * len(base)) + 1))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; faces/s on {len(base)} distinct chips"
    )
    embed_table(np.ascontiguousarray(chips[: max(BATCHES)]), args.repeats)
    align_table(faces, args.repeats)


if __name__ == "__main__":
    main()
