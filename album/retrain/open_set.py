"""What a model would do to the faces nobody taught it: open-set scores at its grouping threshold.

A fine-tune sees the named people only; the album is mostly everyone else. So a candidate is
judged where it will be used, at the threshold this library would group at (its calibrated
curve at FMR 1/N, `album.people.threshold`), on impostor pairs it was never trained on:
- unseen people: named people held out whole (`Split.open_set`, identity-disjoint from the
  training set). Pairs of two of their faces count as found when above the threshold; pairs of
  one of their faces with a face of anybody else who is labeled count as wrong matches;
- two faces of one photo, from a sample of the library's photos, labeled or not: always two
  people, so a pair above the threshold is a wrong match that needs no label;
- held-out faces of the trained people, found when their nearest person is the right one and
  above the threshold: what the user sees as "the new model finds more of Anna's photos".
Counts, not rates: a family album has dozens of such pairs, and a count says how much to trust.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from album.retrain.dataset import Split
from training.identification import assign_to_prototypes, person_prototypes

BLOCK = 1024  # unseen faces compared at a time (bounds the pair matrix)


@dataclass
class OpenSet:
    threshold: float  # the grouping threshold this model would use in this library
    named_found: int  # held-out faces of trained people placed with the right person
    named_probes: int
    unseen_people: int
    unseen_found: int  # same-person pairs of unseen people above the threshold
    unseen_pairs: int
    false_matches: int  # different-person pairs with an unseen face, above the threshold
    impostor_pairs: int
    same_photo: int  # two faces of one photo above the threshold
    same_photo_pairs: int


def open_set_scores(
    embeddings: np.ndarray,
    labels: np.ndarray,
    split: Split,
    sample_vectors: np.ndarray,
    same_photo: tuple[np.ndarray, np.ndarray],
    threshold: float,
) -> OpenSet:
    """Scores of one model: unit `embeddings` of the labeled faces (rows of `split`), unit
    `sample_vectors` of a library sample and its `same_photo` pairs (rows i, j)."""
    named_found = 0
    if len(split.test) and len(split.train):
        people, protos = person_prototypes(embeddings[split.train], labels[split.train])
        nearest, best = assign_to_prototypes(embeddings[split.test], protos, -2.0)
        named_found = int(np.sum((people[nearest] == labels[split.test]) & (best >= threshold)))
    unseen = split.open_set
    found = pairs = false = impostors = 0
    other = np.ones(len(labels), bool)
    other[unseen] = False
    rank = np.arange(len(labels))
    for start in range(0, len(unseen), BLOCK):
        rows = unseen[start : start + BLOCK]
        above = embeddings[rows] @ embeddings.T >= threshold
        same = labels[rows][:, None] == labels[None, :]
        once = other[None, :] | (rank[None, :] > rows[:, None])  # each pair counted once
        pairs += int(np.sum(same & once))
        found += int(np.sum(same & once & above))
        impostors += int(np.sum(~same & once))
        false += int(np.sum(~same & once & above))
    i, j = same_photo
    photo_sims = np.sum(sample_vectors[i] * sample_vectors[j], axis=1) if len(i) else np.zeros(0)
    return OpenSet(
        threshold=float(threshold),
        named_found=named_found,
        named_probes=int(len(split.test)),
        unseen_people=int(len(np.unique(labels[unseen]))) if len(unseen) else 0,
        unseen_found=found,
        unseen_pairs=pairs,
        false_matches=false,
        impostor_pairs=impostors,
        same_photo=int(np.sum(photo_sims >= threshold)),
        same_photo_pairs=int(len(i)),
    )


def noise(count: int) -> float:
    """How far a count may move by chance: two standard deviations of a Poisson count, and at
    least one pair (a count of 0 or 1 says little)."""
    return max(1.0, 2.0 * math.sqrt(count))


def open_set_problems(before: OpenSet, after: OpenSet) -> list[str]:
    """Why `after` would make the album worse for the faces nobody taught it, in plain words;
    empty when it would not."""
    problems = []
    if after.false_matches > before.false_matches + noise(before.false_matches):
        problems.append(
            f"it mixes up people it was not taught more often ({before.false_matches} → "
            f"{after.false_matches} wrong matches among {after.unseen_people} people kept aside)"
        )
    if after.same_photo > before.same_photo + noise(before.same_photo):
        problems.append(
            f"it matches two faces of the same photo more often ({before.same_photo} → "
            f"{after.same_photo} of {after.same_photo_pairs} pairs; those are always two people)"
        )
    if after.unseen_found < before.unseen_found - noise(before.unseen_found):
        problems.append(
            f"it finds fewer photos of people it was not taught ({before.unseen_found} → "
            f"{after.unseen_found} of {after.unseen_pairs} pairs)"
        )
    return problems
