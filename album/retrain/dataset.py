"""The training set a library gives: confirmed faces of named people, split without leaks.

Chips come from the `face_chips` cache, never from re-decoding photos. The held-out split is
grouped by *shot*: faces of one person taken in the same photo, or in photos less than
`burst_seconds` apart (a burst, or one moment shot from two phones), land on the same side, so
a near-duplicate of a training face never inflates the test score. People with fewer than
`min_faces` confirmed faces are not trained on; their faces serve as *open-set* probes (faces of
people the model was not taught), which is what every unnamed face in the album is. So does a
seeded fifth of the people who could be trained on (`unseen_fraction`): named people held out
whole, an identity-disjoint set with the user's own labels on which a candidate must not group
people it was never shown worse than the current model does (`album.retrain.open_set`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from album.library.schema import Decision, Face, FaceChip, Person, Photo
from album.scan.store import decode_chip
from training.evaluate import CHIP_SUFFIXES, load_chip

BURST_SECONDS = 60.0
MIN_FACES = 5  # fewer confirmed faces: evaluation only (open-set probes)
TEST_FRACTION = 0.25
UNSEEN_FRACTION = 0.2  # of the trainable people, held out whole as unseen people


@dataclass(frozen=True)
class Reference:
    """An independent labeled set (chips + labels) for the forgetting check."""

    name: str
    chips: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class LabeledFaces:
    """Confirmed faces of named people, in face-id order, with their chips decoded."""

    face_ids: np.ndarray  # (N,) int64
    person_ids: np.ndarray  # (N,) int64
    photo_ids: np.ndarray  # (N,) int64
    taken_at: list[datetime | None]
    chips: np.ndarray  # (N, S, S, 3) uint8 RGB

    def __len__(self) -> int:
        return len(self.face_ids)

    def fingerprint(self) -> str:
        """Changes whenever a face is added, removed or relabeled (a resume must not mix sets)."""
        digest = hashlib.sha256(self.face_ids.tobytes() + self.person_ids.tobytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Split:
    """Indices into a `LabeledFaces`: train and test share people; open-set people are unseen."""

    train: np.ndarray
    test: np.ndarray
    open_set: np.ndarray
    groups: np.ndarray  # shot group of every face (same group -> same side)

    def counts(self, faces: LabeledFaces) -> dict[str, int]:
        return {
            "labeled_faces": len(faces),
            "named_people": int(len(np.unique(faces.person_ids))),
            "trained_people": int(len(np.unique(faces.person_ids[self.train]))),
            "train_faces": int(len(self.train)),
            "test_faces": int(len(self.test)),
            "open_set_faces": int(len(self.open_set)),
            "unseen_people": int(len(np.unique(faces.person_ids[self.open_set]))),
        }


def load_labeled(session: Session, alignment: str, with_chips: bool = True) -> LabeledFaces:
    """Confirmed faces of named people with a cached chip of `alignment` (the model's crop);
    `chips` is left empty when `with_chips` is False: counting and splitting need no pixels."""
    columns = [Face.id, Face.person_id, Face.photo_id, Photo.taken_at]
    query = (
        select(*columns, FaceChip.image if with_chips else FaceChip.size)
        .join(FaceChip, FaceChip.face_id == Face.id)
        .join(Photo, Photo.id == Face.photo_id)
        .join(Person, Person.id == Face.person_id)
        .where(Face.decision == Decision.CONFIRMED, Person.name.is_not(None))
        .where(FaceChip.alignment == alignment)
        .order_by(Face.id)
    )
    rows = session.execute(query).all()
    chips = [decode_chip(r[4]) for r in rows] if with_chips else []
    return LabeledFaces(
        face_ids=np.array([r[0] for r in rows], np.int64),
        person_ids=np.array([r[1] for r in rows], np.int64),
        photo_ids=np.array([r[2] for r in rows], np.int64),
        taken_at=[r[3] for r in rows],
        chips=np.stack(chips) if chips else np.zeros((0, 0, 0, 3), np.uint8),
    )


def shot_groups(
    person_ids: np.ndarray,
    photo_ids: np.ndarray,
    taken_at: list[datetime | None],
    burst_seconds: float = BURST_SECONDS,
) -> np.ndarray:
    """A group id per face: one person's faces chained by capture time (gaps under
    `burst_seconds` join), or by photo when the time is unknown."""
    groups = np.full(len(person_ids), -1, np.int64)
    next_group = 0
    for person in np.unique(person_ids).tolist():
        members = np.flatnonzero(person_ids == person)
        timed = sorted((taken_at[i], i) for i in members.tolist() if taken_at[i] is not None)
        previous: datetime | None = None
        for when, index in timed:
            if previous is None or (when - previous).total_seconds() > burst_seconds:
                next_group += 1
            groups[index], previous = next_group, when
        by_photo: dict[int, int] = {}
        for index in (i for i in members.tolist() if taken_at[i] is None):
            photo = int(photo_ids[index])
            if photo not in by_photo:
                next_group += 1
                by_photo[photo] = next_group
            groups[index] = by_photo[photo]
    return groups


def split_faces(
    faces: LabeledFaces,
    test_fraction: float = TEST_FRACTION,
    min_faces: int = MIN_FACES,
    burst_seconds: float = BURST_SECONDS,
    seed: int = 0,
    unseen_fraction: float = UNSEEN_FRACTION,
) -> Split:
    """Per person: whole shot groups go to test (in a seeded order) until about
    `test_fraction` of their faces are held out; at least 2 faces always stay for training,
    and a person whose faces are all one shot is trained on but not tested. People with fewer
    than `min_faces` faces, and `unseen_fraction` of the others (seeded; never so many that
    fewer than 2 people are left to train on), are held out whole (`open_set`)."""
    groups = shot_groups(faces.person_ids, faces.photo_ids, faces.taken_at, burst_seconds)
    rng = np.random.default_rng(seed)
    people, sizes = np.unique(faces.person_ids, return_counts=True)
    unseen = _unseen_people(people[sizes >= min_faces], unseen_fraction, rng)
    train, test, open_set = [], [], []
    for person in people.tolist():
        members = np.flatnonzero(faces.person_ids == person)
        if len(members) < min_faces or person in unseen:
            open_set += members.tolist()
            continue
        held = _held_out_groups(groups[members], test_fraction, rng)
        in_test = np.isin(groups[members], held)
        test += members[in_test].tolist()
        train += members[~in_test].tolist()
    as_array = lambda values: np.array(sorted(values), np.int64)  # noqa: E731
    return Split(as_array(train), as_array(test), as_array(open_set), groups)


def _unseen_people(trainable: np.ndarray, fraction: float, rng: np.random.Generator) -> set[int]:
    """A seeded `fraction` of the trainable people (rounded; at least one when 3 or more can
    be trained on), leaving at least 2 to train on."""
    count = min(int(round(fraction * len(trainable))), len(trainable) - 2)
    if fraction > 0 and len(trainable) >= 3:
        count = max(count, 1)
    if count <= 0:
        return set()
    return set(rng.choice(trainable, count, replace=False).tolist())


def _held_out_groups(
    member_groups: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> list[int]:
    ids, sizes = np.unique(member_groups, return_counts=True)
    if len(ids) < 2:
        return []
    order = rng.permutation(len(ids))
    total, held, taken = int(sizes.sum()), [], 0
    for slot in order.tolist():
        if taken >= test_fraction * total or total - taken - sizes[slot] < 2:
            continue
        held.append(int(ids[slot]))
        taken += int(sizes[slot])
    return held


def load_reference(root: str | Path, size: int = 150) -> Reference:
    """An independent labeled set for the forgetting check: `root/<person>/<aligned chip>`
    (chips aligned like the library's, resized to `size` if they differ)."""
    root = Path(root)
    chips, labels = [], []
    for person in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(person.iterdir()):
            if path.suffix.lower() in CHIP_SUFFIXES:
                chips.append(load_chip(path, size))
                labels.append(person.name)
    if len(set(labels)) < 2:
        raise ValueError(f"{root}: need chips of at least two people in <person>/ folders")
    return Reference(root.name, np.stack(chips), np.array(labels))
