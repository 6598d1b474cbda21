"""Clustering quality on faces-dev: our constrained average link vs Chinese Whispers vs DBSCAN.

    /tmp/venv/bin/python bench/bench_cluster_quality.py [--data DIR]

Faces: dlib-bin (test dependency) finds the largest face per labeled photo (HOG, CNN fallback)
and computes dlib's raw 128-d descriptor, which our torch port reproduces to 5e-7; cached in
/tmp. The default model's embedding is that descriptor minus the fixed `center` of
resources/models/dlib_resnet_v1.json, L2-normalized; its thresholds come from the same file.
Scores are BCubed precision / recall / F over faces; faces left unsorted count as singletons.
Compared in the same run: face_recognition's documented approach (dlib Chinese Whispers at
Euclidean 0.5 on raw descriptors) and scikit-learn DBSCAN on our embeddings.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from album.people.cluster import cluster  # noqa: E402
from album.search import normalize_rows  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "faces-dev"
CACHE = Path("/tmp/face-album-bench/faces_dev_dlib.npz")
SPEC = REPO / "resources" / "models" / "dlib_resnet_v1.json"


def descriptors(data: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(raw descriptors, photo index, person per face), computed once with dlib-bin."""
    if CACHE.is_file():
        cached = np.load(CACHE)
        return cached["vectors"], cached["photos"], list(cached["people"])
    import dlib
    from PIL import Image, ImageOps

    from album.faces.model_files import DETECTOR, EMBEDDER, LANDMARKS_5, dlib_model_path

    hog, cnn = (
        dlib.get_frontal_face_detector(),
        dlib.cnn_face_detection_model_v1(str(dlib_model_path(DETECTOR))),
    )
    shapes = dlib.shape_predictor(str(dlib_model_path(LANDMARKS_5)))
    net = dlib.face_recognition_model_v1(str(dlib_model_path(EMBEDDER)))
    vectors, photos, people = [], [], []
    rows = list(csv.DictReader(open(data / "labels.csv")))
    for index, row in enumerate(rows):
        image = ImageOps.exif_transpose(Image.open(data / row["path"])).convert("RGB")
        image.thumbnail((1000, 1000))
        pixels = np.asarray(image)
        found = list(hog(pixels, 1)) or [
            d.rect for d in cnn(pixels, 1 if max(pixels.shape) < 600 else 0)
        ]
        if not found:
            continue
        largest = max(found, key=lambda r: r.area())
        vectors.append(
            np.array(net.compute_face_descriptor(pixels, shapes(pixels, largest)), np.float32)
        )
        photos.append(index)
        people.append(row["person"])
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, vectors=np.stack(vectors), photos=np.array(photos), people=np.array(people))
    return np.stack(vectors), np.array(photos), people


def bcubed(labels: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    labels = np.where(labels < 0, np.arange(len(labels)) + labels.max() + 1, labels)
    same_cluster = labels[:, None] == labels[None]
    same_person = truth[:, None] == truth[None]
    both = (same_cluster & same_person).sum(1)
    precision, recall = (both / same_cluster.sum(1)).mean(), (both / same_person.sum(1)).mean()
    return precision, recall, 2 * precision * recall / (precision + recall)


def row(name: str, labels: np.ndarray, truth: np.ndarray) -> list:
    p, r, f = bcubed(labels, truth)
    clusters = len(set(labels[labels >= 0].tolist()))
    return [name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", clusters, int((labels < 0).sum())]


def chinese_whispers(raw: np.ndarray, distance: float) -> np.ndarray:
    import dlib

    return np.array(
        dlib.chinese_whispers_clustering([dlib.vector(v.tolist()) for v in raw], distance)
    )


def dbscan(vectors: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=eps, min_samples=min_samples, metric="cosine").fit_predict(vectors)


def look_alikes(
    vectors: np.ndarray, truth: np.ndarray, names: list[str], same: float, top: int = 5
) -> list[list]:
    """The closest pairs of different people: mean and highest cross-person cosine, and how many
    cross pairs a pairwise same-person rule would call a match."""
    found = []
    for a, b in combinations(range(len(names)), 2):
        cross = vectors[truth == a] @ vectors[truth == b].T
        over = f"{(cross >= same).sum()}/{cross.size}"
        found.append(
            [f"{names[a]} / {names[b]}", f"{cross.mean():.3f}", f"{cross.max():.3f}", over]
        )
    return sorted(found, key=lambda r: -float(r[1]))[:top]


def print_table(headers: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    for line in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    raw, photos, people = descriptors(args.data)
    names = sorted(set(people))
    truth = np.array([names.index(p) for p in people])
    spec = json.loads(SPEC.read_text())
    vectors = normalize_rows(raw - np.array(spec["center"], np.float32))
    same, suggest = spec["thresholds"]["same_person"], spec["thresholds"]["suggestion"]
    print(
        f"faces-dev: {len(raw)} faces, {len(names)} people; model thresholds same_person={same}, suggestion={suggest}\n"
    )
    rows = [
        row(
            f"ours: average link t={suggest} (default), min size 3",
            cluster(vectors, photos, suggest).labels,
            truth,
        )
    ]
    rows += [
        row(f"ours: average link t={t}, min size 3", cluster(vectors, photos, t).labels, truth)
        for t in (0.3, 0.35, 0.45, same)
    ]
    rows += [
        row(
            f"ours: t={suggest}, min size 1",
            cluster(vectors, photos, suggest, min_size=1).labels,
            truth,
        )
    ]
    rows += [
        row("single link (k-NN graph components) t=same_person", _single_link(vectors, same), truth)
    ]
    rows += [
        row(
            "Chinese Whispers, Euclidean 0.5 on raw (face_recognition)",
            chinese_whispers(raw, 0.5),
            truth,
        )
    ]
    rows += [
        row(
            "Chinese Whispers, Euclidean 0.6 on raw (dlib's match rule)",
            chinese_whispers(raw, 0.6),
            truth,
        )
    ]
    for eps, samples in ((1 - same, 3), (1 - suggest, 3), (1 - same, 1)):
        rows += [
            row(
                f"DBSCAN cosine eps={eps:.2f} min_samples={samples}",
                dbscan(vectors, eps, samples),
                truth,
            )
        ]
    print_table(["method", "P", "R", "F", "clusters", "unsorted"], rows)
    print(
        f"\nclosest different people (cosine on the default model's embeddings, {len(names)} true people):"
    )
    print_table(["pair", "mean", "max", f">= {same}"], look_alikes(vectors, truth, names, same))
    ours = cluster(vectors, photos, suggest).labels
    mixed = [sorted({names[t] for t in truth[ours == c]}) for c in set(ours[ours >= 0].tolist())]
    print(
        "\nclusters holding more than one person at the default threshold:",
        [m for m in mixed if len(m) > 1] or "none",
    )


def _single_link(vectors: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from album.search import knn_graph

    i, j, _ = knn_graph(vectors, 30, threshold)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(vectors),) * 2)
    return connected_components(graph, directed=False)[1]


if __name__ == "__main__":
    main()
