"""Retrain numbers for the closing note: heads compared on faces-dev, and wall time at 2,000 faces.

    python bench/bench_retrain.py heads [--steps 60] [--low-res 14]
    python bench/bench_retrain.py scale [--faces 2000] [--steps 60]

`heads`: the album is 10 of faces-dev's 15 people (faces found by the test helper: dlib HOG boxes,
the app's landmarks, aligner and embedder); the other 5 are the identity-disjoint reference set
(forgetting check). ArcFace, CosFace and SphereFace are trained with the same seed, steps and
split; the table shows held-out scores before and after. `--low-res N` makes it the harder
album of the tests (chips shrunk to N px and back), where the shipped model has room to improve.

`scale`: a library of `--faces` labeled faces synthesized from faces-dev's chips (each chip
repeated with a random shift of up to 3 px, flip and brightness change, 15 people), then one
retrain (`--steps`) and the re-embedding of every face; prints the wall time of each stage.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album.cli.common import print_table  # noqa: E402
from album.library.library import Library  # noqa: E402
from album.retrain import Reference, Retrainer  # noqa: E402
from tests.retrain_support import build_library, faces_dev_chips, low_resolution  # noqa: E402

ALBUM_PEOPLE = 10


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def heads(args: argparse.Namespace) -> None:
    paths, names, chips, points = faces_dev_chips()
    people = sorted(set(names))
    album = [i for i, n in enumerate(names) if n in people[:ALBUM_PEOPLE]]
    others = [i for i, n in enumerate(names) if n not in people[:ALBUM_PEOPLE]]
    album_chips = low_resolution(chips[album], args.low_res) if args.low_res else chips[album]
    reference = Reference("faces-dev, 5 other people", chips[others], np.array(names)[others])
    rows = []
    for head in ("arcface", "cosface", "sphereface"):
        with tempfile.TemporaryDirectory() as folder:
            lib = Library(Path(folder) / "library.db")
            pick = [paths[i] for i in album], [names[i] for i in album]
            build_library(lib, *pick, album_chips, [points[i] for i in album])
            retrainer = Retrainer(
                lib, head, steps=args.steps, seed=0, device=args.device, reference=reference
            )
            report = retrainer.run()
            lib.close()
        if not rows:
            rows.append(_row("(shipped model)", report.before, report.counts, 0.0, "-"))
        rows.append(_row(head, report.after, report.counts, report.seconds, report.improved))
        print(f"{head}: {report.reason}", file=sys.stderr)
    print(
        f"\nfaces-dev album ({'low-res ' + str(args.low_res) if args.low_res else 'clean'}), "
        f"{args.steps} steps, seed 0; counts {rows and report.counts}"
    )
    print_table(
        ["model", "rank-1 %", "named %", "TAR@1e-3 %", "TAR@1e-2 %", "threshold",
         "ref TAR@1e-3 %", "seconds", "adopt"],
        rows,
    )  # fmt: skip


def _row(label, scores, counts, seconds, improved) -> tuple:
    return (
        label,
        _pct(scores.identification),
        _pct(scores.recall_at_threshold),
        _pct(scores.tar_at_far_1e3),
        _pct(scores.tar_at_far_1e2),
        f"{scores.threshold:.3f}",
        _pct(scores.reference_tar_1e3),
        f"{seconds:.0f}",
        improved,
    )


def synthesize(chips: np.ndarray, labels: list[str], count: int, seed: int = 0):
    """`count` chips: faces-dev's, each repeated with a small shift, flip and brightness change
    (a stand-in for more photos of the same people)."""
    rng = np.random.default_rng(seed)
    picks = np.arange(count) % len(chips)
    out = np.empty((count, *chips.shape[1:]), np.uint8)
    for k, i in enumerate(picks.tolist()):
        dx, dy = rng.integers(-3, 4, size=2)
        chip = np.roll(chips[i], (int(dy), int(dx)), axis=(0, 1))
        chip = chip[:, ::-1] if rng.random() < 0.5 else chip
        out[k] = np.clip(chip * rng.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
    return out, [labels[i] for i in picks.tolist()], picks


def scale(args: argparse.Namespace) -> None:
    paths, names, chips, points = faces_dev_chips()
    synth, labels, picks = synthesize(chips, names, args.faces)
    stages = []
    with tempfile.TemporaryDirectory() as folder:
        lib = Library(Path(folder) / "library.db")
        started = time.perf_counter()
        build_library(
            lib, [f"{k}-{Path(paths[i]).name}" for k, i in enumerate(picks.tolist())], labels, synth,
            [points[i] for i in picks.tolist()], burst_every=9,
        )  # fmt: skip
        stages.append(("build library (embed with shipped model)", time.perf_counter() - started))
        retrainer = Retrainer(lib, "arcface", steps=args.steps, seed=0, device=args.device)
        report = retrainer.run()
        stages.append((f"retrain ({args.steps} steps, incl. before/after scoring)", report.seconds))
        started = time.perf_counter()
        result = retrainer.adopt(report, force=True)
        stages.append(
            (f"adopt: re-embed {result.embedded} faces + switch", time.perf_counter() - started)
        )
        lib.close()
    print(f"\n{args.faces} labeled faces ({report.counts}), device {args.device}")
    print_table(["stage", "seconds"], [(s, f"{t:.1f}") for s, t in stages])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["heads", "scale"])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--low-res", type=int, default=0)
    parser.add_argument("--faces", type=int, default=2000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    heads(args) if args.what == "heads" else scale(args)


if __name__ == "__main__":
    main()
