"""Scan throughput and rescan time.

    python bench/bench_scan.py [--synthetic 1000] [--faces-dev PATH] [--skip-real]

1. faces-dev with the default offline pipeline: photos/s, faces/s, time by stage.
2. A synthetic folder of N photos (two faces-dev photos pasted side by side on a 1024x768 canvas,
   JPEG q90), scanned with the default pipeline, then rescanned unchanged (target: < 2 s at 1,000).
Prints a table. Libraries and the synthetic folder live in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from PIL import Image

from album import Library

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


def timed_scan(lib: Library, folder: Path) -> tuple[float, object]:
    t0 = time.perf_counter()
    summary = lib.scan([folder])
    return time.perf_counter() - t0, summary


def row(name: str, seconds: float, s) -> list:
    processed = s.new + s.changed
    stages = " ".join(f"{k}={v:.1f}s" for k, v in s.stage_seconds.items())
    return [
        name,
        f"{seconds:.2f}",
        processed,
        s.faces_found,
        f"{processed / seconds:.2f}",
        f"{s.faces_found / seconds:.2f}",
        s.errors,
        stages,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=1000)
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
        rows.append(row(f"synthetic {args.synthetic} rescan", *timed_scan(lib, folder)))
    headers = ["run", "seconds", "photos", "faces", "photos/s", "faces/s", "errors", "stages"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))


if __name__ == "__main__":
    main()
