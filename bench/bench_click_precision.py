"""What a click shows, measured: a face's person page and its "maybe" photos, and suggestions.

    .venv/bin/python bench/bench_click_precision.py [--labels CSV] [--name 200] [--limit N]

On the app's own scan of a labeled album (default faces-lfw; cached by
bench/bench_cluster_quality.py's scan), at the defaults:
- Click a face: a face in a person opens the person (`People.person_photos`: their photos, then
  the "maybe" photos matching them by similarity); an unsorted face shows the faces like it
  (`People.search_face`). Per click, the precision of what is shown (a photo is right when its
  labeled subject is the clicked face's person; only photos shown for their labeled subject are
  scored, background faces have no label), and the share of clicks showing anyone wrong.
- Suggestions with simulated naming: the `--name` largest groups are named after their
  majority, then each "Is this <name>?" is right when the suggested faces' labeled person is
  that name's. Precision, and how many faces of named people it would add.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_cluster_quality import scanned  # noqa: E402
from labeled_album import LFW, album_faces, subjects  # noqa: E402

from album.library.library import Library  # noqa: E402
from album.people import People  # noqa: E402


def label_maps(lib: Library, labels_csv: Path):
    faces = album_faces(lib, labels_csv)
    rows = subjects(faces["photos"], faces["boxes"], faces["person"])
    subject_of_photo = {int(faces["photos"][r]): int(faces["ids"][r]) for r in rows}
    label = {int(faces["ids"][r]): str(faces["person"][r]) for r in rows}
    return subject_of_photo, label


def clicks(people: People, subject_of_photo, label, limit: int | None) -> dict:
    """Precision of person pages and of search results over clicks on labeled faces."""
    stats = {k: [] for k in ("person", "maybe", "search")}
    wrong = Counter()
    any_wrong = 0
    infos = people.faces(label)
    for n, (face_id, truth) in enumerate(label.items()):
        if limit and n >= limit:
            break
        info = infos[face_id]
        if info.person_id:
            hits = people.person_photos(info.person_id)
            shown = [(h.photo_id, h.face_ids, "person" if h.assigned else "maybe") for h in hits]
        else:
            shown = [(h.photo_id, (h.face_id,), "search") for h in people.search_face(face_id)]
        kinds = Counter()
        for photo, faces, kind in shown:
            subject = subject_of_photo.get(photo)
            if subject is None or subject not in faces or subject == face_id:
                continue  # shown for an unlabeled background face, or the click itself
            ok = label[subject] == truth
            stats[kind].append(ok)
            kinds[kind] += not ok
        for kind, bad in kinds.items():
            wrong[kind] += bad > 0
        any_wrong += any(bad > 0 for bad in kinds.values())
    found = {
        kind: (np.mean(v) if v else float("nan"), len(v), wrong[kind]) for kind, v in stats.items()
    }
    shown = [ok for v in stats.values() for ok in v]
    found["any"] = (np.mean(shown) if shown else float("nan"), len(shown), any_wrong)
    return found


def simulated_naming(lib: Library, label, name_count: int) -> tuple[People, dict]:
    """Name the largest groups after their majority label; returns the person -> label map."""
    people = People(lib)
    named = {}
    infos = people.faces(label)
    by_person: dict[int, Counter] = {}
    for face_id, truth in label.items():
        pid = infos[face_id].person_id
        if pid:
            by_person.setdefault(pid, Counter())[truth] += 1
    largest = sorted(by_person, key=lambda p: -sum(by_person[p].values()))[:name_count]
    used = set()
    for pid in largest:
        truth = by_person[pid].most_common(1)[0][0]
        if truth in used:
            continue
        used.add(truth)
        people.name(pid, truth)
        named[pid] = truth
    return people, named


def suggestion_precision(people: People, label) -> tuple[float, int, int]:
    found = people.suggestions(limit=None)
    right = faces_added = 0
    for s in found:
        truths = Counter(label[f] for f in s.face_ids if f in label)
        ok = bool(truths) and truths.most_common(1)[0][0] == s.person_name
        right += ok
        faces_added += ok * sum(truths.values())
    return (right / len(found) if found else float("nan")), len(found), faces_added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LFW)
    parser.add_argument("--name", type=int, default=200, help="groups named by the simulated user")
    parser.add_argument("--limit", type=int, help="clicks measured (default: every labeled face)")
    args = parser.parse_args()
    source = scanned(args.labels)
    subject_of_photo, label = label_maps(source, args.labels)
    people = People(source)
    print(
        f"defaults: grouping {people.cluster_threshold():.4f}, maybe/search "
        f"{people.thresholds().same_person:.4f}, suggestions {people.thresholds().suggestion:.4f}"
    )
    result = clicks(people, subject_of_photo, label, args.limit)
    print(f"{'shown as':<10}{'precision':>10}{'photos':>8}{'clicks with a wrong photo':>27}")
    for kind, (precision, count, wrong) in result.items():
        print(f"{kind:<10}{precision:>10.4f}{count:>8}{wrong:>27}")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "library.db"
        shutil.copy(source.path, copy)
        lib = Library(copy)
        named_people, named = simulated_naming(lib, label, args.name)
        precision, count, added = suggestion_precision(named_people, label)
        print(
            f"suggestions after naming {len(named)} groups: {count} offered, precision "
            f"{precision:.4f}, {added} labeled faces of named people found"
        )
        lib.close()


if __name__ == "__main__":
    main()
