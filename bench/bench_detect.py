"""Face detection: speed per photo and recall, ours (dlib's CNN in torch) vs dlib-bin.

    python bench/bench_detect.py              # everything, a few minutes on 2 cores
    python bench/bench_detect.py --quick      # skips dlib's CNN with upsample 1 on 1280 px
    python bench/bench_detect.py --full       # also times dlib's CNN on the 12 MP photo for real

Speed: seconds per photo on (a) insightface's t1.jpg (1280 x 886) and (b) the same photo upscaled
to 4000 x 3000 (12 MP). dlib's CNN on 12 MP takes minutes on a small CPU, so by default it is
timed on a 2000 x 1500 version and multiplied by 4 (its cost is linear in pixels): marked "est.";
with upsample 1 (4x that again) and in our dlib mode it is not run on 12 MP at all ("-").

Recall on faces-dev (135 photos, one labeled subject each): photos with at least one face found,
and faces found in total. "dlib CNN" rows come from our dlib mode, whose boxes are identical to
dlib-bin's (tests/test_detector.py); a few photos are re-run through dlib-bin to show it here too.
The load average is printed: on a shared machine, wall times are only comparable within one run.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps

from album.faces.detector import MMODDetector
from album.faces.model_files import DETECTOR, dlib_model_path

FACES_DEV = Path(__file__).resolve().parents[2] / "shared/data/faces-dev"


def sample_photo() -> np.ndarray:
    import importlib.util

    spec = importlib.util.find_spec("insightface")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "images"
    return np.asarray(Image.open(folder / "t1.jpg").convert("RGB"))


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def timed(fn: Callable[[], list], repeat: int = 1) -> tuple[float, int]:
    """Best wall time of `repeat` runs and the number of faces found."""
    best, found = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = len(fn())
        best = min(best, time.perf_counter() - start)
    return best, found


def make_methods(quick: bool) -> dict[str, Callable[[np.ndarray], list]]:
    import dlib

    cnn = dlib.cnn_face_detection_model_v1(str(dlib_model_path(DETECTOR)))
    hog = dlib.get_frontal_face_detector()
    ours = MMODDetector()
    methods = {
        f"ours fast {ours.fast_scorer.precision} (min {ours.min_face_size}, max_side {ours.max_side})": ours.detect,
        "ours fast fp32": MMODDetector(precision="fp32").detect,
        "ours dlib mode, upsample 0": MMODDetector(upsample=0).detect,
        "dlib-bin CNN, upsample 0": lambda im: cnn(im, 0),
        "dlib-bin CNN, upsample 1": lambda im: cnn(im, 1),
        "dlib-bin HOG, upsample 0": lambda im: hog(im, 0),
        "dlib-bin HOG, upsample 1": lambda im: hog(im, 1),
    }
    if quick:
        del methods["dlib-bin CNN, upsample 1"]
    return methods


def bench_speed(quick: bool, full: bool) -> None:
    photo = sample_photo()
    big = cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    half_big = cv2.resize(photo, (2000, 1500), interpolation=cv2.INTER_CUBIC)
    print(f"\n## Seconds per photo (torch threads: {torch.get_num_threads()})")
    print(f"{'method':<52} {'1280x886':>10} {'faces':>5} {'4000x3000':>12} {'faces':>5}")
    for name, fn in make_methods(quick).items():
        is_dlib_cnn = name.startswith("dlib-bin CNN")
        small_s, small_n = timed(lambda fn=fn: fn(photo), repeat=1 if is_dlib_cnn else 3)
        if name.startswith("ours dlib mode") or (is_dlib_cnn and "upsample 1" in name):
            big_txt, big_n = "-", 0  # 4x the upsample-0 cost, many GB: not for 12 MP photos
        elif is_dlib_cnn and not full:
            half_s, big_n = timed(lambda fn=fn: fn(half_big))
            big_txt = f"{4 * half_s:.1f} est."
        else:
            big_s, big_n = timed(lambda fn=fn: fn(big), repeat=1 if is_dlib_cnn else 2)
            big_txt = f"{big_s:.2f}"
        print(f"{name:<52} {small_s:>10.2f} {small_n:>5} {big_txt:>12} {big_n:>5}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def faces_dev_photos(folder: Path) -> list[Path]:
    with open(folder / "labels.csv", newline="") as f:
        return [folder / row["path"] for row in csv.DictReader(f)]


def bench_recall(folder: Path, spot_checks: int) -> None:
    import dlib

    paths = faces_dev_photos(folder)
    images = [load_rgb(p) for p in paths]
    hog = dlib.get_frontal_face_detector()
    ours = MMODDetector()
    methods = {
        f"ours fast {ours.fast_scorer.precision} (min {ours.min_face_size}, max_side {ours.max_side})": ours.detect,
        "ours fast fp32": MMODDetector(precision="fp32").detect,
        "ours fast (min_face_size=80)": MMODDetector(min_face_size=80).detect,
        "dlib CNN, upsample 0 (= ours dlib mode)": MMODDetector(upsample=0).detect,
        "dlib HOG, upsample 0": lambda im: hog(im, 0),
        "dlib HOG, upsample 1": lambda im: hog(im, 1),
    }
    print(f"\n## Recall on faces-dev ({len(images)} photos, one labeled subject each)")
    print(f"{'method':<52} {'recall':>8} {'photos':>7} {'faces':>6} {'s/photo':>8}")
    for name, fn in methods.items():
        start = time.perf_counter()
        counts = [len(fn(im)) for im in images]
        seconds = (time.perf_counter() - start) / len(images)
        hit = sum(c > 0 for c in counts)
        print(f"{name:<52} {hit / len(images):>8.3f} {hit:>7} {sum(counts):>6} {seconds:>8.3f}")
    spot_check(images, spot_checks)


def spot_check(images: list[np.ndarray], count: int) -> None:
    """Re-run a few photos through dlib-bin's CNN: the boxes must equal our dlib mode's."""
    import dlib

    cnn = dlib.cnn_face_detection_model_v1(str(dlib_model_path(DETECTOR)))
    ours = MMODDetector(upsample=0)
    smaller_half = sorted(range(len(images)), key=lambda i: images[i].size)[: len(images) // 2]
    picked = smaller_half[:: max(1, len(smaller_half) // count)][:count]
    same = 0
    for i in picked:
        ref = sorted(
            (r.rect.left(), r.rect.top(), r.rect.right() + 1, r.rect.bottom() + 1)
            for r in cnn(images[i], 0)
        )
        same += ref == sorted(d.box for d in ours.detect(images[i]))
    print(f"dlib-bin CNN spot check: {same}/{len(picked)} photos with identical boxes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip dlib's CNN at upsample 1")
    parser.add_argument("--full", action="store_true", help="time dlib's CNN on 12 MP for real")
    parser.add_argument("--faces-dev", type=Path, default=FACES_DEV)
    parser.add_argument("--spot-checks", type=int, default=8)
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    bench_speed(args.quick, args.full)
    if (args.faces_dev / "labels.csv").is_file():
        bench_recall(args.faces_dev, args.spot_checks)
    else:
        print(f"\nfaces-dev not found at {args.faces_dev}: recall skipped")


if __name__ == "__main__":
    main()
