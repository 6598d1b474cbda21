"""Identification metrics for an album: does a face find its person among the labeled ones?

Verification asks "are these two faces one person"; an album asks "whose face is this". Given
embeddings and true person labels, the labeled faces are split into a gallery (what the user
has named) and probes (faces to be recognised), and two things are measured:

- assignment, as the app suggests names: each probe goes to the nearest person prototype (the
  normalized mean of that person's gallery embeddings) when the cosine similarity is above the
  threshold, else stays unassigned; per-person precision and recall follow;
- rank-1 identification: the nearest gallery face, no threshold, has the probe's person.

Plain numpy in, frozen dataclasses out, so the app's retraining report can run it on the same
split before and after fine-tuning. Embeddings are given as the app compares them (centred if
the model spec says so); they are L2-normalized here. Labels may be any sortable values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class GallerySplit:
    gallery: np.ndarray  # indices into the embeddings
    probe: np.ndarray


@dataclass(frozen=True)
class PersonScore:
    label: Any
    n_probes: int  # this person's probes
    n_assigned: int  # probes (anyone's) assigned to this person
    n_correct: int
    precision: float  # n_correct / n_assigned; nan when nothing was assigned
    recall: float  # n_correct / n_probes; nan without probes


@dataclass(frozen=True)
class IdentificationReport:
    threshold: float
    n_gallery: int
    n_probes: int
    precision: float  # correct assignments / assignments
    recall: float  # correct assignments / probes of people in the gallery
    coverage: float  # assigned probes / all probes
    unknown_assigned: int  # probes of people absent from the gallery that got someone's name
    rank1_accuracy: float  # nearest gallery face is right, over probes of people in the gallery
    persons: tuple[PersonScore, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"persons": [asdict(person) for person in self.persons]}


def split_gallery_probe(labels: Any, gallery_fraction: float = 0.5, seed: int = 0) -> GallerySplit:
    """Per person, a seeded random `gallery_fraction` of the faces (at least one) is gallery,
    the rest probes; a person with two or more faces always keeps at least one probe."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    gallery, probe = [], []
    for label in np.unique(labels):
        faces = rng.permutation(np.flatnonzero(labels == label))
        keep = max(1, round(gallery_fraction * len(faces)))
        keep = min(keep, len(faces) - 1) if len(faces) > 1 else 1
        gallery += faces[:keep].tolist()
        probe += faces[keep:].tolist()
    return GallerySplit(
        np.array(sorted(gallery), dtype=np.int64), np.array(sorted(probe), dtype=np.int64)
    )


def _normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def person_prototypes(embeddings: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """(person labels, (P, D) prototypes): each the normalized mean of normalized embeddings."""
    embeddings, labels = _normalized(embeddings), np.asarray(labels)
    people = np.unique(labels)
    means = np.stack([embeddings[labels == person].mean(axis=0) for person in people])
    return people, _normalized(means)


def assign_to_prototypes(
    embeddings: np.ndarray, prototypes: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest prototype, -1 when its similarity is not above `threshold`; that
    similarity)."""
    similarity = _normalized(embeddings) @ prototypes.T
    nearest = similarity.argmax(axis=1)
    best = similarity[np.arange(len(nearest)), nearest]
    return np.where(best > threshold, nearest, -1), best


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def _person_scores(
    people: np.ndarray, probe_labels: np.ndarray, assigned: np.ndarray
) -> tuple[PersonScore, ...]:
    scores = []
    for index, person in enumerate(people):
        n_probes = int(np.sum(probe_labels == person))
        n_assigned = int(np.sum(assigned == index))
        n_correct = int(np.sum((assigned == index) & (probe_labels == person)))
        label = person.item() if hasattr(person, "item") else person
        scores.append(
            PersonScore(
                label,
                n_probes,
                n_assigned,
                n_correct,
                _ratio(n_correct, n_assigned),
                _ratio(n_correct, n_probes),
            )
        )
    return tuple(scores)


def identification_report(
    embeddings: np.ndarray, labels: Any, threshold: float, split: GallerySplit | None = None
) -> IdentificationReport:
    """Assignment precision/recall and rank-1 accuracy of the probes against the gallery.

    `split` defaults to `split_gallery_probe(labels)`; pass the same split to compare models.
    """
    embeddings, labels = np.asarray(embeddings), np.asarray(labels)
    split = split or split_gallery_probe(labels)
    gallery, probe_labels = embeddings[split.gallery], labels[split.probe]
    people, prototypes = person_prototypes(gallery, labels[split.gallery])
    assigned, _ = assign_to_prototypes(embeddings[split.probe], prototypes, threshold)
    known = np.isin(probe_labels, people)
    correct = (assigned >= 0) & (people[np.maximum(assigned, 0)] == probe_labels)
    nearest = (_normalized(embeddings[split.probe]) @ _normalized(gallery).T).argmax(axis=1)
    rank1 = labels[split.gallery][nearest] == probe_labels
    return IdentificationReport(
        threshold=float(threshold),
        n_gallery=len(split.gallery),
        n_probes=len(split.probe),
        precision=_ratio(int(correct.sum()), int(np.sum(assigned >= 0))),
        recall=_ratio(int(correct.sum()), int(known.sum())),
        coverage=_ratio(int(np.sum(assigned >= 0)), len(split.probe)),
        unknown_assigned=int(np.sum((assigned >= 0) & ~known)),
        rank1_accuracy=_ratio(int(rank1[known].sum()), int(known.sum())),
        persons=_person_scores(people, probe_labels, assigned),
    )
