"""10-fold verification on faces-lfw's pairs.txt: the app's embeddings vs face_recognition's.

    .venv/bin/python bench/bench_verification.py

Ours: each photo's largest face as the app's scan stored it (bench/labeled_album.py's cached
scan; the embedding the app groups and searches with), cosine. face_recognition: dlib HOG
(upsample 1) + 5 points + ResNet via dlib-bin (bench/anchor_face_recognition.py), largest face,
negative Euclidean distance; a photo where it finds no face cannot match anything. Same pairs,
same folds, same run. `face-album verify --pairs ... --images ...` measures ours from the image
files through the CLI (faces-lfw: 99.25% +- 0.25%).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import anchor_face_recognition as anchor  # noqa: E402
from labeled_album import LFW, album_faces, scanned_library, subjects  # noqa: E402

from album.people import People  # noqa: E402
from training.evaluate import lfw_pairs  # noqa: E402
from training.verification import verify  # noqa: E402


def ours(pairs) -> np.ndarray:
    lib = scanned_library(LFW, group=True)
    faces = album_faces(lib, LFW)
    rows = subjects(faces["photos"], faces["boxes"], faces["person"])
    index = People(lib).index()
    vectors = index.vectors[index.rows_of(faces["ids"][rows])]
    with lib.session() as s:
        from album.library.schema import Photo

        names = dict(s.query(Photo.id, Photo.relpath).all())
    row_of = {os.path.basename(names[int(p)]): i for i, p in enumerate(faces["photos"][rows])}
    found = np.array([row_of.get(Path(p).name, -1) for p in pairs.images])
    return _scores(found, vectors, lambda a, b: np.sum(a * b, axis=1), pairs)


def face_recognition(pairs) -> np.ndarray:
    dlib = anchor.dlib_faces(LFW.parent, LFW)
    rows = subjects(dlib["photos"], dlib["boxes"], dlib["people"])
    import csv

    with open(LFW, newline="") as handle:
        paths = [r["path"] for r in csv.DictReader(handle)]
    row_of = {Path(paths[int(dlib["photos"][r])]).name: k for k, r in enumerate(rows)}
    found = np.array([row_of.get(Path(p).name, -1) for p in pairs.images])
    vectors = dlib["vectors"][rows]
    return _scores(found, vectors, lambda a, b: -np.linalg.norm(a - b, axis=1), pairs)


def _scores(found, vectors, similarity, pairs) -> np.ndarray:
    left, right = found[pairs.left], found[pairs.right]
    scores = np.full(len(left), -np.inf)
    ok = (left >= 0) & (right >= 0)
    scores[ok] = similarity(vectors[left[ok]], vectors[right[ok]])
    return scores


def main() -> None:
    pairs = lfw_pairs(LFW.parent / "pairs.txt", LFW.parent / "images")
    print(f"faces-lfw pairs.txt: {pairs.issame.sum()} same / {(~pairs.issame).sum()} different")
    print(f"{'method':<40}{'accuracy':>18}{'TAR@FAR1e-3':>13}{'no face':>9}")
    for name, fn in (
        ("face-album (flip-fused dlib_resnet_v2)", ours),
        ("face_recognition", face_recognition),
    ):
        scores = fn(pairs)
        missing = int(np.isinf(scores).sum())
        finite = np.where(np.isinf(scores), np.nanmin(scores[~np.isinf(scores)]) - 1, scores)
        report = verify(finite, pairs.issame, pairs.folds)
        acc = report.accuracy
        tar = report.threshold_at(1e-3).tar
        print(f"{name:<40}{acc.mean:>11.2%} ± {acc.std:.2%}{tar:>13.2%}{missing:>9}")


if __name__ == "__main__":
    main()
