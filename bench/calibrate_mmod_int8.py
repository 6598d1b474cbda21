"""Measure the activation ranges of the int8 mmod detector (`album.faces.mmod_fast`).

    python bench/calibrate_mmod_int8.py [--write]

Photos: the sample photos that insightface's package ships (the demo folder; not faces-dev, so
the detector is not tuned on the set it is measured on), each at 1/2, 1 and 2x its size, laid
out in the fast mode's tiled canvas exactly as a scan does. For each convolution (after its
ReLU) the range kept is [0, the 99.99th percentile] of its outputs: the rare larger values
saturate instead of coarsening every other value. The score layer's range is symmetric around
0 (the detection threshold must be exact) at 1.25x the largest score seen.
`--write` stores them in resources/models/mmod_int8.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from album.demo import demo_folder  # noqa: E402
from album.faces.detector import MMODDetector  # noqa: E402
from album.faces.mmod_fast import INT8_RANGES, activations  # noqa: E402
from album.imaging import decode  # noqa: E402

PERCENTILE = 99.99
SCALES = (0.5, 1.0, 2.0)
SAMPLE = 200_000  # values per layer and canvas kept for the percentiles


def calibration_images() -> list[np.ndarray]:
    images = []
    for path in sorted(demo_folder().iterdir()):
        try:
            image = decode(path.read_bytes(), path.name, 3200).rgb
        except Exception:  # noqa: BLE001 - not a photo
            continue
        for scale in SCALES:
            images.append(image if scale == 1 else cv2.resize(image, None, fx=scale, fy=scale))
    return images


def measure() -> list[tuple[float, float]]:
    detector = MMODDetector(device="cpu", precision="fp32")
    rng = np.random.default_rng(0)
    samples: list[list[np.ndarray]] = []
    with torch.inference_mode():
        for image in calibration_images():
            canvas, _tiles = detector._fast_canvas(image)
            pixels = torch.from_numpy(canvas).permute(2, 0, 1)[None]
            outputs = activations(detector.net, pixels)
            samples = samples or [[] for _ in outputs]
            for layer, out in zip(samples, outputs):
                values = out.flatten().numpy()
                layer.append(rng.choice(values, min(SAMPLE, values.size), replace=False))
                if layer is samples[-1]:
                    layer.append(np.array([values.max()]))
    ranges = [(0.0, float(np.percentile(np.concatenate(v), PERCENTILE))) for v in samples[:-1]]
    top = 1.25 * float(np.concatenate(samples[-1]).max())
    return [*ranges, (-top, top)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the ranges in resources/")
    args = parser.parse_args()
    ranges = measure()
    for i, (low, high) in enumerate(ranges):
        print(f"conv {i}: [{low:8.4f}, {high:8.4f}]")
    if args.write:
        out = REPO / "resources" / "models" / INT8_RANGES
        payload = {
            "about": "activation ranges of the int8 mmod detector (album.faces.mmod_fast); "
            "made by bench/calibrate_mmod_int8.py",
            "percentile": PERCENTILE,
            "ranges": [[round(low, 6), round(high, 6)] for low, high in ranges],
        }
        out.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
