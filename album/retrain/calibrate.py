"""A fine-tuned model's thresholds, carried over from its parent's measured false-match curve.

The parent (the shipped model) was calibrated on faces-lfw's 16.7 M different-person pairs; a
retrain has a few dozen named people, far too few to measure a rate of 1e-3, let alone the
1e-5 that grouping a large library needs (the first release calibrated on them and adopted a
model whose same-person threshold was -0.34). So each point of the parent's curve is carried
over by rank on the library's own faces, labeled or not: if the parent puts q of the sampled
pairs above its threshold t for rate f, the candidate's threshold for f is the one that puts
the same q of the same pairs above it. A candidate that keeps at least as many same-person
pairs above the matched threshold (what fine-tuning is for) then has at most as many
different-person pairs there: its false-match rate at each point is at most the parent's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from album.library.library import Library
from album.library.schema import Decision, Face, FaceChip
from album.people.edits import chunked
from album.scan.store import decode_chip
from training.spec import Thresholds

SAMPLE_FACES = 2500  # ~3.1 M pairs: enough to place the curve's points down to ~1e-6


@dataclass(frozen=True)
class Sample:
    """Faces of a seeded sample of the library's photos: every face of each sampled photo, so
    two faces of one photo (two people, always) are in it together."""

    face_ids: np.ndarray
    photo_ids: np.ndarray
    chips: np.ndarray  # (N, S, S, 3) uint8 RGB

    def __len__(self) -> int:
        return len(self.face_ids)

    def same_photo_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(i, j) rows of every pair of sampled faces that share a photo, i < j."""
        same = self.photo_ids[:, None] == self.photo_ids[None, :]
        return np.nonzero(np.triu(same, k=1))


def library_sample(
    lib: Library,
    alignment: str,
    exclude: Iterable[int] = (),
    limit: int = SAMPLE_FACES,
    seed: int = 0,
) -> Sample:
    """Up to `limit` faces (not `exclude`: a candidate's training faces), whole photos at a
    time in a seeded order, labeled or not."""
    excluded = set(exclude)
    with lib.session() as s:
        rows = s.execute(
            select(FaceChip.face_id, Face.photo_id)
            .join(Face, Face.id == FaceChip.face_id)
            .where(FaceChip.alignment == alignment, Face.decision != Decision.NOT_FACE)
        ).all()
        by_photo: dict[int, list[int]] = {}
        for face_id, photo_id in rows:
            if face_id not in excluded:
                by_photo.setdefault(photo_id, []).append(face_id)
        photos = sorted(by_photo)
        chosen: list[tuple[int, int]] = []
        for index in np.random.default_rng(seed).permutation(len(photos)).tolist():
            faces = by_photo[photos[index]]
            if len(chosen) + len(faces) > limit:
                continue
            chosen += [(face_id, photos[index]) for face_id in faces]
        chosen.sort()
        ids = [face_id for face_id, _ in chosen]
        chips = [
            decode_chip(image)
            for chunk in chunked(ids)  # SQLite's bound-parameter limit
            for image in s.scalars(
                select(FaceChip.image)
                .where(FaceChip.face_id.in_(chunk), FaceChip.alignment == alignment)
                .order_by(FaceChip.face_id)
            )
        ]
    return Sample(
        face_ids=np.array(ids, np.int64),
        photo_ids=np.array([photo for _, photo in chosen], np.int64),
        chips=np.stack(chips) if chips else np.zeros((0, 0, 0, 3), np.uint8),
    )


def carried_thresholds(
    parent: Thresholds, parent_vectors: np.ndarray, candidate_vectors: np.ndarray
) -> Thresholds | None:
    """The candidate's thresholds with the parent's rates (None: the parent has no curve or
    the sample has no pairs). Unit vectors of the same faces, one row per face, both models."""
    if not parent.fmr_curve or len(parent_vectors) < 2:
        return None
    upper = np.triu_indices(len(parent_vectors), k=1)
    parent_vectors, candidate_vectors = (
        np.asarray(v, np.float64) for v in (parent_vectors, candidate_vectors)
    )
    before = np.sort((parent_vectors @ parent_vectors.T)[upper])[::-1]
    after = np.sort((candidate_vectors @ candidate_vectors.T)[upper])[::-1]
    points = []
    for threshold, fmr, pairs in parent.fmr_curve:
        above = int(np.searchsorted(-before, -threshold, side="right"))  # parent pairs >= t
        # the candidate's threshold with exactly as many pairs above it: halfway between the
        # last pair kept and the first left out
        kept = float(after[above - 1]) if above else float(after[0]) + 2e-6
        left = float(after[above]) if above < len(after) else float(after[-1]) - 2e-6
        carried = (kept + left) / 2
        points.append((carried, fmr, pairs))
    curve = tuple(sorted(points))
    carried_curve = Thresholds(fmr_curve=curve)
    same = carried_curve.threshold_at(parent.same_person_fmr or 1e-5)
    suggestion = carried_curve.threshold_at(parent.suggestion_fmr or 1e-3)
    return Thresholds(
        same_person=round(same, 4),
        suggestion=round(suggestion, 4),
        same_person_fmr=parent.same_person_fmr,
        suggestion_fmr=parent.suggestion_fmr,
        fmr_curve=curve,
    )
