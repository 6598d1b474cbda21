"""Calibrate the default model (dlib's ResNet) on faces-lfw: its geometry and its FMR curve.

    .venv/bin/python bench/calibrate_default.py [--labels CSV] [--library DB] [--write]

Faces are the app's own: the labeled album is scanned by our pipeline (cached, see
bench/labeled_album.py; or `--library` of a library that scanned it) and each photo's largest
face is embedded from its stored chip. faces-lfw gives ~16.7 M different-person pairs from
2,507 people, enough to measure false-match rates down to 1e-6 (17 pairs) — faces-dev's 8k
pairs of 15 people cannot support even 1e-3.

1. Geometry, measured: TAR at FMR 1e-3 / 1e-4 / 1e-5 for plain L2 of the raw descriptor, the
   mean of the chip's and its mirror's descriptors (flip), and both centred on the
   person-balanced mean (the first release's geometry). The spec takes the most separable.
2. The FMR curve of that geometry: the cosine threshold at each rate from 1e-2 to 1e-6, with the
   pair counts behind it. `same_person` (search's "maybe" photos) is set at FMR 1e-5 and
   `suggestion` at 1e-3; grouping picks its own point on the curve by library size
   (album/people/threshold.py).
3. `finetune_center`: the person-balanced mean flip-fused descriptor of those 2,507 people. A
   retrain fine-tunes the margin head around it (album/retrain/run.py `training_space`).
`--write` stores the result in resources/models/dlib_resnet_v2.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from labeled_album import LFW, album_faces, scanned_library, subjects  # noqa: E402

from album.library.library import Library  # noqa: E402
from album.search import normalize_rows  # noqa: E402
from training.backbones import create_backbone  # noqa: E402
from training.backbones.dlib_resnet import (  # noqa: E402
    DAT_NAME,
    default_dat_path,
    dlib_resnet_spec,
    read_dlib_resnet_dat,
)
from training.spec import Thresholds, sha256_file  # noqa: E402
from training.verification import tar_at_far  # noqa: E402

SPEC_PATH = REPO / "resources/models/dlib_resnet_v2.json"
CURVE_FMRS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)
SAME_FMR, SUGGESTION_FMR = 1e-5, 1e-3


def raw_descriptors(chips: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """dlib's raw descriptors of the chips and of their mirror images, and the input mean."""
    from album.faces.embedder import TorchEmbedder

    mean_rgb = read_dlib_resnet_dat(default_dat_path()).mean_rgb
    embedder = TorchEmbedder(dlib_resnet_spec(mean_rgb), create_backbone("dlib_resnet"), flip=False)
    mirrored = np.ascontiguousarray(chips[:, :, ::-1])
    return embedder.embed_raw(chips), embedder.embed_raw(mirrored), mean_rgb


def pair_scores(vectors: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of every unordered pair of unit rows, and whether it is one person."""
    i, j = np.triu_indices(len(vectors), k=1)
    sims = (vectors @ vectors.T)[i, j]
    return sims, people[i] == people[j]


def balanced_center(raw: np.ndarray, people: np.ndarray) -> np.ndarray:
    return np.mean([raw[people == p].mean(axis=0) for p in np.unique(people)], axis=0)


def geometries(raw: np.ndarray, mirrored: np.ndarray, people: np.ndarray) -> dict:
    center = balanced_center(raw, people)
    return {
        "raw_l2": normalize_rows(raw),
        "flip_l2": normalize_rows(raw + mirrored),
        "centred_l2": normalize_rows(raw - center),
        "flip_centred_l2": normalize_rows((raw + mirrored) / 2 - center),
    }


def curve(sims: np.ndarray, same: np.ndarray, fmrs=CURVE_FMRS) -> list[dict]:
    return [vars(tar_at_far(sims, same, fmr)) for fmr in fmrs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=LFW)
    parser.add_argument("--library", type=Path, help="a library that scanned the labeled album")
    parser.add_argument("--write", action="store_true", help="update the shipped spec JSON")
    args = parser.parse_args()
    lib = Library(args.library) if args.library else scanned_library(args.labels)
    faces = album_faces(lib, args.labels)
    rows = subjects(faces["photos"], faces["boxes"], faces["person"])
    people = faces["person"][rows]
    raw, mirrored, mean_rgb = raw_descriptors(faces["chips"][rows])
    print(f"{len(rows)} faces, {len(np.unique(people))} people")
    print(f"{'geometry':<17}{'TAR@1e-3':>9}{'TAR@1e-4':>9}{'TAR@1e-5':>9}")
    found = {}
    for name, vectors in geometries(raw, mirrored, people).items():
        sims, same = pair_scores(vectors, people)
        found[name] = curve(sims, same)
        tars = {round(np.log10(c["far_target"])): c["tar"] for c in found[name]}
        print(f"{name:<17}{tars[-3]:>9.4f}{tars[-4]:>9.4f}{tars[-5]:>9.4f}")
    chosen = found["flip_l2"]
    print(f"\nflip_l2 FMR curve ({chosen[0]['n_negatives']:,} different-person pairs)")
    print(f"{'FMR':>8}{'threshold':>11}{'TAR':>8}{'pairs above':>13}")
    for c in chosen:
        above = round(c["far"] * c["n_negatives"])
        print(f"{c['far_target']:>8.0e}{c['threshold']:>11.4f}{c['tar']:>8.4f}{above:>13}")
    if args.write:
        center = balanced_center((raw + mirrored) / 2, people)
        write_spec(mean_rgb, chosen, found, center, len(rows), len(np.unique(people)), args.labels)


def write_spec(mean_rgb, chosen, found, center, faces: int, people: int, labels) -> None:
    at = {c["far_target"]: c for c in chosen}
    points = tuple(
        (round(c["threshold"], 5), float(f"{c['far']:.3g}"), c["n_negatives"]) for c in chosen
    )
    thresholds = Thresholds(
        same_person=round(at[SAME_FMR]["threshold"], 4),
        suggestion=round(at[SUGGESTION_FMR]["threshold"], 4),
        same_person_fmr=float(f"{at[SAME_FMR]['far']:.3g}"),
        suggestion_fmr=float(f"{at[SUGGESTION_FMR]['far']:.3g}"),
        fmr_curve=points,
    )
    tar = {
        name: {f"{c['far_target']:.0e}": round(c["tar"], 4) for c in rows}
        for name, rows in found.items()
    }
    training = {
        "finetune_center": [round(float(c), 7) for c in center],
        "source": DAT_NAME,
        "source_sha256": sha256_file(default_dat_path()),
        "calibration": {
            "data": f"{Path(labels).parent.name} ({Path(labels).name}): the app's detector, "
            "landmarks and chips, largest face per photo",
            "faces": faces,
            "people": people,
            "different_pairs": chosen[0]["n_negatives"],
            "tar_by_geometry": tar,
        },
    }
    spec = dlib_resnet_spec(
        mean_rgb, name="dlib_resnet_v2", flip=True, thresholds=thresholds, training=training
    )
    SPEC_PATH.write_text(spec.to_json() + "\n")
    print(f"wrote {SPEC_PATH}")


if __name__ == "__main__":
    main()
