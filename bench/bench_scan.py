"""Scan throughput and rescan time.

    python bench/bench_scan.py [--synthetic 200] [--rescan 1000] [--faces-dev PATH]

1. faces-dev with the default offline pipeline: photos/s, faces/s, time by stage.
2. A synthetic folder of N photos (two faces-dev photos pasted side by side on a 1024x768 canvas,
   JPEG q90) scanned with the default pipeline.
3. A synthetic folder of M photos scanned once with a pipeline whose detector finds nothing
   (read, hash, decode and database only: the rescan does not depend on the faces), then rescanned
   unchanged (target: < 2 s at 1,000).
Prints a table. Libraries and the synthetic folders live in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from album import Library
from album.album import Album
from album.faces.align import DlibChipAligner
from album.faces.pipeline import FacePipeline

FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev"


def make_synthetic(folder: Path, count: int, source: Path, seed: int = 0) -> None:
    rng = random.Random(seed)
    images = sorted((source / "images").iterdir())
    folder.mkdir(parents=True)
    for i in range(count):
        canvas = Image.new("RGB", (1024, 768), (rng.randrange(256),) * 3)
        for k in range(2):
            with Image.open(rng.choice(images)) as im:
                im = im.convert("RGB")
                im.thumbnail((500, 700))
                canvas.paste(im, (12 + 512 * k, rng.randrange(0, 768 - im.height + 1)))
        sub = folder / f"{i // 100:02}"
        sub.mkdir(exist_ok=True)
        canvas.save(sub / f"img{i:05}.jpg", quality=90)


class _NoFaces:
    """A detector that finds nothing: isolates reading, hashing, decoding and the database."""

    min_face_size = 40

    def detect_with_keypoints(self, image):
        return [], np.zeros((0, 5, 2), np.float32)


def timed_scan(lib: Library, folder: Path, pipeline=None) -> tuple[float, object]:
    t0 = time.perf_counter()
    summary = Album(lib).scan([folder], pipeline=pipeline)
    return time.perf_counter() - t0, summary


def row(name: str, seconds: float, s) -> list:
    processed = s.new + s.changed
    stages = " ".join(f"{k}={v:.1f}s" for k, v in s.stage_seconds.items())
    return [
        name,
        f"{seconds:.2f}",
        s.photos_seen,
        processed,
        s.faces_found,
        f"{processed / seconds:.2f}",
        f"{s.faces_found / seconds:.2f}",
        s.errors,
        stages,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=200)
    parser.add_argument("--rescan", type=int, default=1000)
    parser.add_argument("--faces-dev", type=Path, default=FACES_DEV)
    parser.add_argument("--skip-real", action="store_true", help="skip the faces-dev scan")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_real:
            lib = Library(tmp / "dev.db")
            rows.append(row("faces-dev scan", *timed_scan(lib, args.faces_dev / "images")))
        folder = tmp / "synthetic"
        make_synthetic(folder, args.synthetic, args.faces_dev)
        lib = Library(tmp / "syn.db")
        rows.append(row(f"synthetic {args.synthetic} scan", *timed_scan(lib, folder)))
        big = tmp / "rescan"
        make_synthetic(big, args.rescan, args.faces_dev, seed=1)
        lib = Library(tmp / "rescan.db")
        no_faces = FacePipeline(_NoFaces(), None, DlibChipAligner(), None)
        rows.append(row(f"{args.rescan} photos, no detector", *timed_scan(lib, big, no_faces)))
        rows.append(row(f"{args.rescan} photos rescan", *timed_scan(lib, big, no_faces)))
    headers = [
        "run",
        "seconds",
        "seen",
        "processed",
        "faces",
        "photos/s",
        "faces/s",
        "errors",
        "stages",
    ]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))


if __name__ == "__main__":
    main()
