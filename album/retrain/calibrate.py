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

import numpy as np
from sqlalchemy import select

from album.library.library import Library
from album.library.schema import Decision, Face, FaceChip
from album.people.edits import chunked
from album.scan.store import decode_chip
from training.spec import Thresholds

SAMPLE_FACES = 2500  # ~3.1 M pairs: enough to place the curve's points down to ~1e-6


def library_chips(lib: Library, alignment: str, limit: int = SAMPLE_FACES, seed: int = 0):
    """Chips of up to `limit` of the library's faces (a seeded sample), labeled or not."""
    with lib.session() as s:
        ids = s.scalars(
            select(FaceChip.face_id)
            .join(Face, Face.id == FaceChip.face_id)
            .where(FaceChip.alignment == alignment, Face.decision != Decision.NOT_FACE)
        ).all()
        if len(ids) > limit:
            ids = sorted(np.random.default_rng(seed).choice(ids, limit, replace=False).tolist())
        chips = [
            decode_chip(image)
            for chunk in chunked(list(ids))  # SQLite's bound-parameter limit
            for image in s.scalars(
                select(FaceChip.image).where(FaceChip.face_id.in_(chunk)).order_by(FaceChip.face_id)
            )
        ]
    return np.stack(chips) if chips else np.zeros((0, 0, 0, 3), np.uint8)


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
