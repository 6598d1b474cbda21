"""Calibrate the default model (dlib's ResNet): its fixed center and cosine thresholds.

    /tmp/venv/bin/python bench/calibrate_default.py [--data DIR] [--write]

Faces come from dlib-bin itself (HOG detector, falling back to dlib's CNN detector on a
downscaled copy; 5-point landmarks; `get_face_chip(img, shape, 150, 0.25)`), the largest face per
labeled photo. They are embedded with our torch port. Then:
- center = the person-balanced mean raw descriptor (the mean of per-person means), so people
  with many photos do not pull it;
- on centered + L2-normalized vectors, all same-person and different-person pair cosines;
- same_person = the threshold with a false-match rate (FMR) of ~1e-3 on different-person pairs,
  suggestion = ~1e-2; each is the larger (stricter) of the empirical quantile and a normal fit to
  the different-person cosines, because ~8k pairs from 15 people estimate a 1e-3 tail poorly;
- a cross-check: the cosine that matches the FMR of dlib's own Euclidean 0.6 rule.
`--write` stores center, thresholds and the measured FMRs in resources/models/dlib_resnet_v1.json.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from training.backbones import create_backbone  # noqa: E402
from training.backbones.dlib_resnet import (  # noqa: E402
    DAT_NAME,
    default_dat_path,
    dlib_resnet_spec,
    read_dlib_resnet_dat,
)
from training.spec import Thresholds, sha256_file  # noqa: E402
from training.verification import tar_at_far  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared/data/faces-dev"
SPEC_PATH = REPO / "resources/models/dlib_resnet_v1.json"
SAME_FMR, SUGGESTION_FMR = 1e-3, 1e-2


def dlib_chips(data: Path) -> tuple[np.ndarray, list[str]]:
    """The largest face of each labeled photo as a dlib chip, and the photo's person."""
    import dlib

    models = default_dat_path().parent
    hog = dlib.get_frontal_face_detector()
    cnn = dlib.cnn_face_detection_model_v1(str(models / "mmod_human_face_detector.dat"))
    shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    chips, people = [], []
    with open(data / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        image = np.asarray(ImageOps.exif_transpose(Image.open(data / row["path"])).convert("RGB"))
        box = _largest_face(image, hog, cnn)
        if box is None:
            print(f"no face: {row['path']}", file=sys.stderr)
            continue
        chips.append(dlib.get_face_chip(image, shapes(image, box), 150, 0.25))
        people.append(row["person"])
    return np.stack(chips), people


def _largest_face(image: np.ndarray, hog, cnn):
    import dlib

    upsample = 1 if max(image.shape[:2]) < 600 else 0
    boxes = list(hog(image, upsample))
    if not boxes:  # CNN on a copy at most 640 px long: dlib-bin's CNN is slow on 2 cores
        scale = min(1.0, 640 / max(image.shape[:2]))
        small = np.asarray(
            Image.fromarray(image).resize(
                (round(image.shape[1] * scale), round(image.shape[0] * scale))
            )
        )
        boxes = [
            dlib.rectangle(
                *(
                    round(v / scale)
                    for v in (d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom())
                )
            )
            for d in cnn(small, 1 if max(small.shape[:2]) < 400 else 0)
        ]
    return max(boxes, key=lambda b: b.area(), default=None)


def torch_raw_descriptors(chips: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    from album.faces.embedder import TorchEmbedder

    mean_rgb = read_dlib_resnet_dat(default_dat_path()).mean_rgb
    embedder = TorchEmbedder(dlib_resnet_spec(mean_rgb), create_backbone("dlib_resnet"))
    return embedder.embed_raw(chips), mean_rgb


def person_balanced_center(raw: np.ndarray, people: list[str]) -> np.ndarray:
    labels = np.array(people)
    return np.mean([raw[labels == p].mean(axis=0) for p in sorted(set(people))], axis=0)


def pair_scores(vectors: np.ndarray, people: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine (rows are unit) of every unordered pair, and whether it is the same person."""
    labels = np.array(people)
    i, j = np.triu_indices(len(vectors), k=1)
    return np.sum(vectors[i] * vectors[j], axis=1), labels[i] == labels[j]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def choose_threshold(scores: np.ndarray, same: np.ndarray, fmr: float) -> tuple[float, ...]:
    """The stricter of the empirical FMR quantile and a normal fit's, rounded up to 0.01; and
    the two estimates."""
    empirical = tar_at_far(scores, same, fmr).threshold
    different = scores[~same]
    fitted = statistics.NormalDist(different.mean(), different.std()).inv_cdf(1 - fmr)
    return math.ceil(max(empirical, fitted) * 100) / 100, empirical, fitted


def report(raw: np.ndarray, people: list[str], center: np.ndarray) -> dict:
    scores, same = pair_scores(unit(raw - center), people)
    plain, _ = pair_scores(unit(raw), people)
    i, j = np.triu_indices(len(raw), k=1)
    euclid = np.linalg.norm(raw[i] - raw[j], axis=1)
    dlib_fmr = float(np.mean(euclid[~same] < 0.6))
    result = {
        "faces": len(raw),
        "people": len(set(people)),
        "same_pairs": int(same.sum()),
        "different_pairs": int((~same).sum()),
        "dlib_euclid_0.6": {"fmr": dlib_fmr, "tar": float(np.mean(euclid[same] < 0.6))},
        "dlib_0.6_as_cosine": float(np.quantile(scores[~same], 1 - dlib_fmr)),
    }
    for name, values in (("raw_l2", plain), ("centered_l2", scores)):
        result[name] = {
            "same_mean": float(values[same].mean()),
            "same_p5": float(np.percentile(values[same], 5)),
            "different_mean": float(values[~same].mean()),
            "different_p95": float(np.percentile(values[~same], 95)),
            "different_p99.9": float(np.percentile(values[~same], 99.9)),
        }
    for key, fmr in (("same_person", SAME_FMR), ("suggestion", SUGGESTION_FMR)):
        threshold, empirical, fitted = choose_threshold(scores, same, fmr)
        result[key] = {
            "target_fmr": fmr,
            "threshold": threshold,
            "empirical_quantile": empirical,
            "normal_fit_quantile": fitted,
            "measured_fmr": float(np.mean(scores[~same] > threshold)),
            "tar": float(np.mean(scores[same] > threshold)),
        }
    return result


def held_out_check(raw: np.ndarray, people: list[str], stats: dict) -> dict:
    """The thresholds on half the people, with the center estimated on the other half: does a
    fixed center carry over to people it never saw?"""
    names = sorted(set(people))
    labels = np.array(people)
    fit, test = np.isin(labels, names[::2]), np.isin(labels, names[1::2])
    center = person_balanced_center(raw[fit], list(labels[fit]))
    scores, same = pair_scores(unit(raw[test] - center), list(labels[test]))
    return {
        key: {
            "fmr": float(np.mean(scores[~same] > stats[key]["threshold"])),
            "tar": float(np.mean(scores[same] > stats[key]["threshold"])),
        }
        for key in ("same_person", "suggestion")
    }


def print_table(stats: dict) -> None:
    print(
        f"faces {stats['faces']}, people {stats['people']}, same pairs {stats['same_pairs']}, "
        f"different pairs {stats['different_pairs']}"
    )
    print(
        f"{'vectors':<13}{'same mean':>10}{'same p5':>9}{'diff mean':>10}{'diff p95':>9}"
        f"{'diff p99.9':>11}"
    )
    for name in ("raw_l2", "centered_l2"):
        s = stats[name]
        print(
            f"{name:<13}{s['same_mean']:>10.3f}{s['same_p5']:>9.3f}{s['different_mean']:>10.3f}"
            f"{s['different_p95']:>9.3f}{s['different_p99.9']:>11.3f}"
        )
    print(f"{'threshold':<13}{'cosine':>8}{'empirical q':>13}{'normal q':>10}{'FMR':>9}{'TAR':>7}")
    for key in ("same_person", "suggestion"):
        s = stats[key]
        print(
            f"{key:<13}{s['threshold']:>8.2f}{s['empirical_quantile']:>13.3f}"
            f"{s['normal_fit_quantile']:>10.3f}{s['measured_fmr']:>9.4f}{s['tar']:>7.3f}"
        )
    for key, s in stats["held_out_center"].items():
        print(f"held-out center, {key}: FMR {s['fmr']:.4f}, TAR {s['tar']:.3f}")
    d = stats["dlib_euclid_0.6"]
    print(
        f"dlib Euclidean < 0.6: FMR {d['fmr']:.4f}, TAR {d['tar']:.3f}; the same FMR on "
        f"centered cosines is cosine > {stats['dlib_0.6_as_cosine']:.3f}"
    )


def write_spec(mean_rgb, center: np.ndarray, stats: dict) -> None:
    thresholds = Thresholds(
        same_person=stats["same_person"]["threshold"],
        suggestion=stats["suggestion"]["threshold"],
        same_person_fmr=round(stats["same_person"]["measured_fmr"], 5),
        suggestion_fmr=round(stats["suggestion"]["measured_fmr"], 5),
    )
    training = {
        "source": DAT_NAME,
        "source_sha256": sha256_file(default_dat_path()),
        "calibration": {"data": "faces-dev (dlib-bin detection, largest face per photo)", **stats},
    }
    spec = dlib_resnet_spec(
        mean_rgb,
        center=tuple(round(float(c), 7) for c in center),
        thresholds=thresholds,
        training=training,
    )
    SPEC_PATH.parent.mkdir(parents=True, exist_ok=True)
    SPEC_PATH.write_text(spec.to_json() + "\n")
    print(f"wrote {SPEC_PATH}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--write", action="store_true", help="update the shipped spec JSON")
    args = parser.parse_args()
    chips, people = dlib_chips(args.data)
    raw, mean_rgb = torch_raw_descriptors(chips)
    center = person_balanced_center(raw, people)
    stats = report(raw, people, center)
    stats["held_out_center"] = held_out_check(raw, people, stats)
    print_table(stats)
    if args.write:
        write_spec(mean_rgb, center, stats)


if __name__ == "__main__":
    main()
