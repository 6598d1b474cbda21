"""End to end: our default face pipeline vs the `face_recognition` package's approach.

    python bench/bench_e2e.py                       # faces-dev, both pipelines, interleaved
    python bench/bench_e2e.py --folder ~/Pictures   # also (or instead) another folder
    python bench/bench_e2e.py --limit 40 --repeat 2 # a quicker look, each batch timed twice
    python bench/bench_e2e.py --threads 1           # ours on one torch thread (theirs uses one)
    python bench/bench_e2e.py --sweep               # our detector alone: recall and CPU time vs
                                                    # min_face_size and the fast pyramid's rate

(a) ours: `album.faces.default.load_pipeline(None)`, `process_batch` on batches of decoded photos.
(b) theirs: what `face_recognition.face_locations(img)` + `face_encodings(img)` compute with their
    documented defaults, reproduced with dlib-bin (installing face_recognition builds dlib from
    source): HOG detector with upsample 1, the 5-point shape predictor, dlib's ResNet with
    num_jitters=1.
Both run in this process on the same decoded photos (`album.imaging.decode(data, name, 3200)`, timed
apart), batch by batch, alternating which goes first. The machine may be shared: each timing is
printed with CPU time (`time.process_time`, all threads of this process: the compute spent, barely
moved by other processes) and wall time, next to the load average. The ratio uses CPU time.
Recall: photos with at least one face found (faces-dev has one labeled subject per photo).

Measured on faces-dev, 2 cores, quiet machine (load 0.8, 2026-12-01), int8 detector: ours 137
faces, recall 100%, 12.4 s CPU / 6.7 s wall (detector 10.8 s CPU / 5.6 s wall); theirs 135 faces,
99.3%, 24.1 s CPU / 24.0 s wall: ours/theirs **3.63x per wall second, 1.98x per CPU second**.
Same run with the fp32 detector (before int8): 60.3 s CPU / 34.1 s wall, 0.70x / 0.39x.
`--sweep` (1 thread): fp32 0.358 s CPU per photo, int8 0.066, both 100% on faces-dev and on
80 pasted faces in every size bin from 40 to 400 px.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from album.faces.default import load_pipeline
from album.faces.model_files import EMBEDDER, LANDMARKS_5, dlib_model_path
from album.imaging import decode

FACES_DEV = Path(__file__).resolve().parents[2] / "shared/data/faces-dev/images"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".heic", ".tif", ".tiff", ".bmp"}
DECODE_MAX_SIDE = 3200


@dataclass
class Tally:
    """CPU and wall seconds per stage, and what was found."""

    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    wall: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    photos: int = 0
    faces: int = 0
    with_face: int = 0
    loads: list[float] = field(default_factory=list)

    def timed(self, stage: str, fn: Callable, *args):
        cpu, wall = time.process_time(), time.perf_counter()
        out = fn(*args)
        self.cpu[stage] += time.process_time() - cpu
        self.wall[stage] += time.perf_counter() - wall
        return out

    def count(self, faces_per_photo: list[int]) -> None:
        self.photos += len(faces_per_photo)
        self.faces += sum(faces_per_photo)
        self.with_face += sum(1 for n in faces_per_photo if n > 0)

    @property
    def total_cpu(self) -> float:
        return sum(self.cpu.values())

    @property
    def total_wall(self) -> float:
        return sum(self.wall.values())


class Ours:
    """The default pipeline, its stages wrapped to time them."""

    name = "ours (default)"

    def __init__(self, batch: int, **options) -> None:
        self.pipeline = load_pipeline(None, **options)
        self.tally = Tally()
        self._wrap("detect", self.pipeline.detector, "detect_batch")
        self._wrap("landmarks", self.pipeline.landmarks, "predict")
        self._wrap("align", self.pipeline.aligner, "align")
        self._wrap("embed", self.pipeline.embedder, "embed")

    def _wrap(self, stage: str, obj, method: str) -> None:
        inner = getattr(obj, method)
        setattr(obj, method, lambda *args: self.tally.timed(stage, inner, *args))

    def run(self, images: list[np.ndarray]) -> None:
        self.tally.loads.append(os.getloadavg()[0])
        results = self.pipeline.process_batch(images)
        self.tally.count([len(r) for r in results])


class Theirs:
    """face_recognition's defaults with dlib-bin: HOG (upsample 1), 5 landmarks, ResNet."""

    name = "face_recognition (HOG)"

    def __init__(self) -> None:
        import dlib

        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(str(dlib_model_path(LANDMARKS_5)))
        self.encoder = dlib.face_recognition_model_v1(str(dlib_model_path(EMBEDDER)))
        self.tally = Tally()

    def run(self, images: list[np.ndarray]) -> None:
        self.tally.loads.append(os.getloadavg()[0])
        found = []
        for image in images:
            rects = self.tally.timed("detect", self.detector, image, 1)
            shapes = [self.tally.timed("landmarks", self.shapes, image, r) for r in rects]
            for shape in shapes:
                self.tally.timed("embed", self.encoder.compute_face_descriptor, image, shape, 1)
            found.append(len(rects))
        self.tally.count(found)


def photo_files(folder: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return files[:limit] if limit else files


def decode_all(files: list[Path], tally: Tally) -> list[np.ndarray]:
    images = []
    for path in files:
        data = path.read_bytes()
        images.append(tally.timed("decode", decode, data, path.name, DECODE_MAX_SIDE).rgb)
    tally.count([0] * len(images))
    return images


def run_interleaved(runners: list, images: list[np.ndarray], batch: int, repeat: int) -> None:
    """Batch by batch, each runner in turn, the first runner alternating between batches."""
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        order = runners if (start // batch) % 2 == 0 else runners[::-1]
        for _ in range(repeat):
            for runner in order:
                runner.run(chunk)
        print(f"  {start + len(chunk)}/{len(images)} photos, load {os.getloadavg()[0]:.1f}")


def report(runners: list, decoded: Tally, repeat: int) -> None:
    print(f"\ndecode: {decoded.photos} photos, {decoded.total_cpu:.1f} s CPU (not counted below)")
    header = "pipeline                 photos faces recall  cpu s  wall s  photo/s faces/s  load"
    print(header)
    rates, wall_rates = [], []
    for r in runners:
        t = r.tally
        photos, faces = t.photos // repeat, t.faces // repeat
        cpu, wall = t.total_cpu / repeat, t.total_wall / repeat
        rates.append(faces / cpu if cpu else 0.0)
        wall_rates.append(faces / wall if wall else 0.0)
        print(
            f"{r.name:24} {photos:6d} {faces:5d} {t.with_face / t.photos:6.1%} {cpu:6.1f} "
            f"{wall:7.1f} {photos / cpu:8.2f} {faces / cpu:7.2f} {np.mean(t.loads):5.1f}"
        )
    if len(rates) == 2 and rates[1]:
        print(f"ratio ours/theirs, faces per CPU second: {rates[0] / rates[1]:.2f}x")
        print(f"ratio ours/theirs, faces per wall second: {wall_rates[0] / wall_rates[1]:.2f}x")
    for r in runners:
        stages = ", ".join(
            f"{s} {r.tally.cpu[s] / repeat:.1f} s cpu / {r.tally.wall[s] / repeat:.1f} s wall"
            for s in r.tally.cpu
        )
        print(f"  {r.name}: {stages}")


def bench_folder(folder: Path, args: argparse.Namespace) -> None:
    import torch

    files = photo_files(folder, args.limit)
    print(f"\n== {folder} ({len(files)} photos), load {os.getloadavg()[0]:.1f}")
    decoded = Tally()
    images = decode_all(files, decoded)
    options = {"min_face_size": args.min_face_size} if args.min_face_size else {}
    runners = [Ours(args.batch, **options)]
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)  # after the embedder set its own
    if not args.ours_only:
        runners.append(Theirs())
    for runner in runners:  # first calls build kernels and caches: not what a scan pays
        runner.run(images[:1])
        runner.tally = Tally()
    print(f"torch threads {torch.get_num_threads()}")
    run_interleaved(runners, images, args.batch, args.repeat)
    report(runners, decoded, args.repeat)


SWEEP = [(40, 0.75), (40, 0.7), (60, 0.75), (80, 0.75)]
SIZE_EDGES = [40, 57, 80, 113, 160, 226, 320, 401]


def synthetic_faces(images: list[np.ndarray], count: int, seed: int = 0) -> list[tuple]:
    """(canvas, box) pairs: faces-dev faces (boxes from our detector) pasted at sizes drawn
    log-uniformly in 40..400 px onto 640 x 640 smooth random backgrounds."""
    import cv2

    from album.faces.detector import MMODDetector

    rng = np.random.default_rng(seed)
    reference = MMODDetector(min_face_size=80)
    crops = []
    for image in images:
        dets = reference.detect(image)
        if dets and dets[0].box[2] - dets[0].box[0] >= 100:
            crops.append((image, dets[0].box))
    out = []
    for i in range(count):
        image, (left, top, right, bottom) = crops[i % len(crops)]
        side = np.exp(rng.uniform(np.log(SIZE_EDGES[0]), np.log(SIZE_EDGES[-1] - 1)))
        scale = side / (right - left)
        margin = 0.3 * (right - left)
        x0, y0 = int(max(0, left - margin)), int(max(0, top - margin))
        x1, y1 = int(min(image.shape[1], right + margin)), int(min(image.shape[0], bottom + margin))
        crop = cv2.resize(image[y0:y1, x0:x1], None, fx=scale, fy=scale)
        crop = crop[:640, :640]
        noise = rng.uniform(0, 255, (20, 20, 3)).astype(np.float32)
        canvas = cv2.resize(noise, (640, 640), interpolation=cv2.INTER_CUBIC)
        canvas = np.clip(canvas, 0, 255).astype(np.uint8)
        px = int(rng.integers(0, 641 - crop.shape[1]))
        py = int(rng.integers(0, 641 - crop.shape[0]))
        canvas[py : py + crop.shape[0], px : px + crop.shape[1]] = crop
        fx, fy = px + (left - x0) * scale, py + (top - y0) * scale
        out.append((canvas, (fx, fy, fx + side, fy + side * (bottom - top) / (right - left))))
    return out


def iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def sweep(args: argparse.Namespace) -> None:
    """Detector alone: recall and CPU time vs min_face_size and the fast pyramid's rate."""
    import torch

    from album.faces.detector import MMODDetector

    torch.set_num_threads(1)  # CPU time of one thread: what a loaded machine barely moves
    images = decode_all(photo_files(FACES_DEV, args.limit), Tally())
    synthetic = synthetic_faces(images, args.synthetic)
    sizes = np.array([box[2] - box[0] for _, box in synthetic])
    bins = np.digitize(sizes, SIZE_EDGES) - 1
    print(f"faces-dev {len(images)} photos; synthetic {len(synthetic)} faces; 1 torch thread")
    edges = " ".join(f"{a}-{b - 1}".rjust(8) for a, b in zip(SIZE_EDGES, SIZE_EDGES[1:]))
    print(
        f"prec min  rate  dev recall faces cpu s/photo | synth recall cpu s/img | by face size {edges}"
    )
    configs = [(m, r) for m in args.sweep_min for r in args.sweep_rate] if args.sweep_min else SWEEP
    for precision, (min_face, rate) in ((p, c) for c in configs for p in args.precision):
        det = MMODDetector(
            min_face_size=min_face, pyramid_rate=rate, device="cpu", precision=precision
        )
        det.detect(images[0])
        cpu = time.process_time()
        dev_found = [len(det.detect(image)) for image in images]
        dev_cpu = (time.process_time() - cpu) / len(images)
        cpu = time.process_time()
        hits = np.array(
            [any(iou(d.box, box) >= 0.3 for d in det.detect(c)) for c, box in synthetic]
        )
        syn_cpu = (time.process_time() - cpu) / len(synthetic)
        by_size = " ".join(
            f"{hits[bins == b].mean():8.0%}" if (bins == b).any() else "       -"
            for b in range(len(SIZE_EDGES) - 1)
        )
        print(
            f"{precision:4} {min_face:3d} {rate:5.3f} {np.mean(np.array(dev_found) > 0):10.1%} {sum(dev_found):5d}"
            f" {dev_cpu:11.3f} | "
            f"{hits.mean():12.1%} {syn_cpu:10.3f} | {' ' * 12} {by_size}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, action="append", help="another photo folder")
    parser.add_argument("--no-faces-dev", action="store_true", help="only the --folder ones")
    parser.add_argument("--limit", type=int, help="first N photos of each folder")
    parser.add_argument("--batch", type=int, default=8, help="photos per process_batch call")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each batch per pipeline")
    parser.add_argument("--min-face-size", type=int, help="override our default")
    parser.add_argument("--threads", type=int, help="torch threads for ours (default: as built)")
    parser.add_argument("--ours-only", action="store_true", help="skip the dlib-bin pipeline")
    parser.add_argument("--sweep", action="store_true", help="detector settings vs recall")
    parser.add_argument("--synthetic", type=int, default=80, help="pasted faces in --sweep")
    parser.add_argument("--sweep-min", type=int, nargs="+", help="min face sizes to sweep")
    parser.add_argument("--sweep-rate", type=float, nargs="+", default=[5 / 6], help="rates")
    parser.add_argument(
        "--precision", nargs="+", default=["fp32", "int8"], help="detector arithmetic in --sweep"
    )
    args = parser.parse_args()
    if args.sweep:
        sweep(args)
        return
    folders = [] if args.no_faces_dev else [FACES_DEV]
    folders += args.folder or []
    print(f"{os.cpu_count()} CPUs; ratio from CPU seconds (all threads of this process)")
    for folder in folders:
        bench_folder(folder, args)


if __name__ == "__main__":
    main()
