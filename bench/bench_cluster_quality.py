"""Grouping quality on a labeled album at real scale, beside face_recognition in the same run.

    .venv/bin/python bench/bench_cluster_quality.py [--labels CSV] [--batches 10] [--scale]

Default album: faces-lfw (5,778 photos, 2,507 people, 1,000 one-photo strangers); `--labels`
takes faces-dev's or faces-lfw's slice.csv. Scored the way the product is judged
(../shared/tools/score_album.py): BCubed precision / recall / F over each photo's labeled subject
(its largest face; background faces are grouped but not scored), unsorted faces as singletons,
plus the largest group that mixes people and the one-photo strangers placed under somebody.

Rows:
- `face-album scan`: the app's own scan of the album with its scan-time grouping, as a user
  runs it (cached under /tmp per album and default spec); `--batches N`: the same photos
  arriving in N parts, each followed by the scan-time grouping (photos added over months).
- `face-album cluster`: the full re-cluster of the same faces at the defaults.
- the same at fixed thresholds and other min sizes, and raw (no flip) vectors, for the record.
- face_recognition's approach on the same photos (dlib HOG + 5 points + ResNet via dlib-bin):
  Chinese Whispers at Euclidean 0.5 and DBSCAN eps 0.5 (bench/anchor_face_recognition.py).
`--scale`: subsets of 10/25/50/100% of the people: the size rule vs the best fixed threshold.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import anchor_face_recognition as anchor  # noqa: E402
from labeled_album import LFW, album_faces, read_labels, subjects  # noqa: E402

from album.faces.embedder import TorchEmbedder, load_default_embedder  # noqa: E402
from album.library.library import Library  # noqa: E402
from album.library.schema import Face  # noqa: E402
from album.people import People  # noqa: E402
from album.people.cluster import cluster  # noqa: E402
from album.people.threshold import grouping_threshold  # noqa: E402
from album.people.types import ClusterSettings  # noqa: E402


def score(groups: list, truth: list[str]) -> dict:
    """BCubed over subjects (groups: a label per subject, None = unsorted), as score_album.py."""
    groups = [("unsorted", i) if g is None or g == -1 else g for i, g in enumerate(groups)]
    n = len(truth)
    pair, gsize, tsize = Counter(zip(groups, truth)), Counter(groups), Counter(truth)
    p = sum(pair[(g, t)] / gsize[g] for g, t in zip(groups, truth)) / n
    r = sum(pair[(g, t)] / tsize[t] for g, t in zip(groups, truth)) / n
    members: dict = {}
    for g, t in zip(groups, truth):
        if not isinstance(g, tuple):
            members.setdefault(g, Counter())[t] += 1
    mixed = max(members.values(), key=lambda c: (len(c), sum(c.values())), default=Counter())
    strangers = sum(1 for g, t in zip(groups, truth) if tsize[t] == 1 and not isinstance(g, tuple))
    return {
        "P": p, "R": r, "F": 2 * p * r / (p + r), "groups": len(members),
        "mixed": f"{sum(mixed.values())} faces / {len(mixed)} people",
        "strangers": f"{strangers}/{sum(1 for v in tsize.values() if v == 1)}",
    }  # fmt: skip


def scanned(labels_csv: Path) -> Library:
    """The album scanned by the app (`Album.scan`: detection, embedding, then its scan-time
    grouping), cached per album and default spec."""
    from labeled_album import scanned_library

    return scanned_library(labels_csv, group=True)


def arrived_in_batches(lib: Library, batches: int, folder: Path) -> Library:
    """A copy of `lib` in which the photos arrive in `batches` parts (by photo id, i.e. scan
    order), each followed by the scan-time grouping (`People.update`), as when photos are added
    over months. Uses the faces the scan stored (no second detection)."""
    import sqlite3

    copy = folder / "batches.db"
    copy.unlink(missing_ok=True)
    with sqlite3.connect(lib.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE faces SET person_id = NULL, decision = 'none'")
        db.execute("DELETE FROM people")
        db.execute("DELETE FROM edits")
        db.execute("DELETE FROM settings WHERE key IN ('grouped_faces', 'grouping_pending')")
        for table in ("faces", "embeddings", "face_chips"):
            db.execute(f"CREATE TABLE held_{table} AS SELECT * FROM {table}")
        db.execute("DELETE FROM embeddings")
        db.execute("DELETE FROM face_chips")
        db.execute("DELETE FROM faces")
    photo_ids = sorted(r[0] for r in sqlite3.connect(copy).execute("SELECT id FROM photos"))
    result = Library(copy)
    for part in np.array_split(np.array(photo_ids), batches):
        low, high = int(part[0]), int(part[-1])
        with sqlite3.connect(copy) as db:
            where = f"photo_id BETWEEN {low} AND {high}"
            db.execute(f"INSERT INTO faces SELECT * FROM held_faces WHERE {where}")
            for table in ("embeddings", "face_chips"):
                db.execute(
                    f"INSERT INTO {table} SELECT * FROM held_{table} WHERE face_id IN "
                    f"(SELECT id FROM held_faces WHERE {where})"
                )
        People(result).update()
    return result


def scan_row(lib: Library, labels_csv: Path, name: str) -> dict:
    faces = album_faces(lib, labels_csv)
    rows = subjects(faces["photos"], faces["boxes"], faces["person"])
    with lib.session() as s:
        person = dict(s.query(Face.id, Face.person_id).all())
    groups = [person.get(int(f)) for f in faces["ids"][rows]]
    return {"method": name, **score(groups, list(faces["person"][rows])), "time": "scan"}


def cluster_row(name, vectors, photos, rows, truth, threshold, min_size=2) -> dict:
    start = time.perf_counter()
    labels = cluster(vectors, photos, threshold, min_size).labels
    took = time.perf_counter() - start
    return {"method": name, **score(list(labels[rows]), truth), "time": f"{took:.1f} s"}


def anchor_rows(labels_csv: Path) -> list[dict]:
    found = anchor.dlib_faces(labels_csv.parent, labels_csv)
    labels = read_labels(labels_csv)
    rows = subjects(found["photos"], found["boxes"], found["people"])
    truth = list(found["people"][rows])
    scored_photos = len(labels)
    out = []
    for name, fn in (
        ("face_recognition: Chinese Whispers, Euclidean 0.5", anchor.chinese_whispers),
        ("face_recognition: DBSCAN eps 0.5", anchor.dbscan),
    ):
        start = time.perf_counter()
        labels_ = fn(found["vectors"])
        took = time.perf_counter() - start
        out.append({"method": name, **score(list(labels_[rows]), truth), "time": f"{took:.1f} s"})
    print(f"face_recognition found a face in {len(rows)} of {scored_photos} labeled photos")
    return out


def print_table(rows: list[dict]) -> None:
    headers = ["method", "P", "R", "F", "groups", "mixed", "strangers", "time"]
    cells = [
        [f"{r[h]:.3f}" if isinstance(r[h], float) else str(r[h]) for h in headers] for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(headers, *cells, strict=True)]
    for line in [headers, ["-" * w for w in widths], *cells]:
        print("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)))


def scale_table(vectors, faces, rows_all) -> None:
    """Subsets of the people: the size rule's threshold vs the best fixed one at each size."""
    thresholds = load_default_embedder(device="cpu").spec.thresholds
    people = np.unique(faces["person"][rows_all])
    rng = np.random.default_rng(0)
    print("\nscale: people  faces  rule t  rule P/R/F  best fixed t  best F")
    for fraction in (0.1, 0.25, 0.5, 1.0):
        chosen = rng.choice(people, int(len(people) * fraction), replace=False)
        keep_photos = np.unique(faces["photos"][np.isin(faces["person"], chosen)])
        keep = np.isin(faces["photos"], keep_photos)
        sub = {k: faces[k][keep] for k in ("photos", "boxes", "person")}
        rows = subjects(sub["photos"], sub["boxes"], sub["person"])
        truth = list(sub["person"][rows])
        rule = grouping_threshold(thresholds, int(keep.sum()))
        ruled = _subset_score(vectors[keep], sub, rows, truth, rule)
        best = max(
            (_subset_score(vectors[keep], sub, rows, truth, t)["F"], t)
            for t in np.arange(0.925, 0.9551, 0.005)
        )
        print(
            f"       {len(chosen):>6} {int(keep.sum()):>6}  {rule:.4f}  "
            f"{ruled['P']:.3f}/{ruled['R']:.3f}/{ruled['F']:.3f}  {best[1]:.3f}  {best[0]:.3f}"
        )


def _subset_score(vectors, sub, rows, truth, threshold) -> dict:
    return score(list(cluster(vectors, sub["photos"], threshold, 2).labels[rows]), truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LFW)
    parser.add_argument("--batches", type=int, default=0, help="also scan in N folders")
    parser.add_argument("--scale", action="store_true", help="the size rule on subsets")
    parser.add_argument("--no-anchor", action="store_true", help="skip face_recognition")
    args = parser.parse_args()
    lib = scanned(args.labels)
    table = [scan_row(lib, args.labels, "face-album scan (scan-time grouping)")]
    if args.batches > 1:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            batched = arrived_in_batches(lib, args.batches, Path(tmp))
            row = scan_row(
                batched, args.labels, f"the same photos arriving in {args.batches} parts"
            )
            table.append({**row, "time": f"{time.perf_counter() - start:.1f} s"})
            batched.close()
    faces = album_faces(lib, args.labels)
    rows = subjects(faces["photos"], faces["boxes"], faces["person"])
    truth = list(faces["person"][rows])
    index = People(lib).index()  # the embeddings the scan stored: what the app groups
    vectors = index.vectors[index.rows_of(faces["ids"])]
    embedder = load_default_embedder(device="cpu")
    plain = TorchEmbedder(embedder.spec, embedder.model, "cpu", flip=False).embed(faces["chips"])
    default = People(lib).cluster_threshold()
    settings = ClusterSettings()
    print(
        f"{args.labels.parent.name}/{args.labels.name}: {len(faces['ids'])} faces, "
        f"{len(rows)} labeled subjects, {len(set(truth))} people; default threshold "
        f"{default:.4f} (FMR 1/N), min size {settings.min_size}"
    )
    table.append(
        cluster_row("face-album cluster (defaults)", vectors, faces["photos"], rows, truth, default)
    )
    for t in (0.93, 0.935, 0.945, 0.95):
        table.append(cluster_row(f"  fixed t={t}", vectors, faces["photos"], rows, truth, t))
    table.append(
        cluster_row("  defaults, min size 3", vectors, faces["photos"], rows, truth, default, 3)
    )
    table.append(cluster_row("  no flip (raw L2)", plain, faces["photos"], rows, truth, default))
    if not args.no_anchor:
        table += anchor_rows(args.labels)
    print_table(table)
    if args.scale:
        scale_table(vectors, faces, rows)


if __name__ == "__main__":
    main()
