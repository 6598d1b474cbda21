"""Speed of the numpy 5-point landmark port vs dlib-bin, and model load times.

    python bench/bench_landmarks.py [--repeat 7]

Boxes come from dlib's HOG detector on insightface's sample photo t1.jpg, jittered to make 64
distinct faces; both implementations get the same image and boxes. dlib has no batch call, so
its "64 per call" row is 64 calls. Times are the best of --repeat runs. Load times: parsing
the .dat (cold), reading our .npz cache (warm, fresh process state), and the in-process cache;
dlib's own load for reference.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from album.faces import landmarks
from album.faces.landmarks import ShapePredictor5, load_shape_predictor
from album.faces.model_files import LANDMARKS_5, dlib_model_path


def timed(call: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` calls, in seconds: the least disturbed by other processes."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def sample_boxes(dlib, image: np.ndarray, count: int) -> np.ndarray:
    rects = dlib.get_frontal_face_detector()(image, 0)
    found = np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], float)
    rng = np.random.default_rng(0)
    picks = found[rng.integers(0, len(found), count)]
    return picks + rng.integers(-6, 7, picks.shape)


def load_times(path: Path, repeat: int) -> dict[str, float]:
    def fresh_load(cache_dir: Path | None) -> None:
        landmarks._LOADED.clear()
        load_shape_predictor(path, cache_dir)

    with tempfile.TemporaryDirectory() as cache:
        cold = timed(lambda: fresh_load(None), repeat)
        fresh_load(Path(cache))  # writes the .npz
        warm = timed(lambda: fresh_load(Path(cache)), repeat)
    hot = timed(lambda: load_shape_predictor(path), repeat)
    return {"cold (parse .dat)": cold, "warm (.npz cache)": warm, "in-process cache": hot}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import dlib  # the reference; a test dependency only

    path = dlib_model_path(LANDMARKS_5)
    folder = Path(next(iter(importlib.util.find_spec("insightface").submodule_search_locations)))
    image = np.asarray(Image.open(folder / "data/images/t1.jpg").convert("RGB"))
    boxes = sample_boxes(dlib, image, 64)
    rects = [dlib.rectangle(*map(int, box)) for box in boxes]

    loads = load_times(path, args.repeat)
    loads["dlib.shape_predictor(path)"] = timed(lambda: dlib.shape_predictor(str(path)), 3)
    ours, theirs = ShapePredictor5(path), dlib.shape_predictor(str(path))
    assert np.array_equal(
        ours.predict(image, boxes),
        np.array([[(p.x, p.y) for p in theirs(image, r).parts()] for r in rects], np.float32),
    )

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"image {image.shape[1]}x{image.shape[0]}, model {path.name}")
    print(f"{os.cpu_count()} CPUs, load average {load} (other work slows both columns)")
    print(f"{'load':32s} {'ms':>9s}")
    for name, seconds in loads.items():
        print(f"{name:32s} {seconds * 1e3:9.1f}")
    print(f"\n{'faces per call':16s} {'ours faces/s':>13s} {'dlib faces/s':>13s} {'speed-up':>9s}")
    for per_call in (1, 64):
        chunks = [boxes[i : i + per_call] for i in range(0, 64, per_call)]
        mine, ref = np.inf, np.inf
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            mine = min(mine, timed(lambda c=chunks: [ours.predict(image, b) for b in c], 1))
            ref = min(ref, timed(lambda: [theirs(image, r) for r in rects], 1))
        print(f"{per_call:<16d} {64 / mine:13.0f} {64 / ref:13.0f} {ref / mine:8.2f}x")


if __name__ == "__main__":
    main()
