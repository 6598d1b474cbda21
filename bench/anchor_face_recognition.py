"""face_recognition's approach, the floor every quality claim is compared with, on a labeled album.

ageitgey/face_recognition = dlib's HOG detector (upsample 1) + 5-point landmarks + dlib's ResNet
(raw 128-d descriptors), grouped by Chinese Whispers at Euclidean 0.5 (its documented clustering
example) or DBSCAN eps 0.5. Here it runs through dlib-bin (a test dependency), on every face of
every labeled photo, cached under /tmp because it takes ~10 minutes for faces-lfw on 2 cores.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

CACHE_DIR = Path("/tmp/face-album-bench")


def dlib_faces(data: Path, labels_csv: Path) -> dict[str, np.ndarray]:
    """Every face dlib's HOG finds in the labeled photos: photo index, box, raw descriptor, and
    the photo's labeled person (each photo's largest face is the one scored)."""
    key = hashlib.sha1(f"{data.resolve()}|{labels_csv.resolve()}".encode()).hexdigest()[:10]
    cache = CACHE_DIR / f"face_recognition_{key}.npz"
    if cache.is_file():
        with np.load(cache) as saved:
            return {k: saved[k] for k in saved.files}
    import dlib
    from PIL import Image, ImageOps

    from album.faces.model_files import EMBEDDER, LANDMARKS_5, dlib_model_path

    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(str(dlib_model_path(LANDMARKS_5)))
    net = dlib.face_recognition_model_v1(str(dlib_model_path(EMBEDDER)))
    with open(labels_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    photos, boxes, vectors, people = [], [], [], []
    for index, row in enumerate(rows):
        image = ImageOps.exif_transpose(Image.open(data / row["path"])).convert("RGB")
        pixels = np.asarray(image)
        for rect in hog(pixels, 1):
            shape = shapes(pixels, rect)
            vectors.append(np.array(net.compute_face_descriptor(pixels, shape), np.float32))
            boxes.append([rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1])
            photos.append(index)
            people.append(row["person"])
    found = {
        "photos": np.array(photos, np.int64),
        "boxes": np.array(boxes, np.float32).reshape(-1, 4),
        "vectors": np.array(vectors, np.float32).reshape(-1, 128),
        "people": np.array(people),
        "photo_count": np.array(len(rows)),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **found)
    return found


def chinese_whispers(raw: np.ndarray, distance: float = 0.5) -> np.ndarray:
    """dlib's Chinese Whispers over raw descriptors (face_recognition's clustering example)."""
    import dlib

    vectors = [dlib.vector(v.tolist()) for v in raw]
    return np.array(dlib.chinese_whispers_clustering(vectors, distance), np.int64)


def dbscan(raw: np.ndarray, eps: float = 0.5, min_samples: int = 1) -> np.ndarray:
    """DBSCAN on raw Euclidean descriptors (face_recognition users' other common choice)."""
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(raw)
