"""Album identification metrics on a case laid out on the unit circle, worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.identification import (
    GallerySplit,
    identification_report,
    person_prototypes,
    split_gallery_probe,
)


def at(*degrees: float) -> np.ndarray:
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


# gallery: A at 0 and 50 degrees (prototype at 25), B at 90, C at 180; threshold 0.9 (~25.8 deg)
# probes: A 10 -> proto A (15 deg) right          nearest face A@0   right
#         A 80 -> proto B (10 deg) wrong          nearest face B     wrong
#         A 60 -> proto B (30 deg), below 0.9     nearest face A@50  right
#         B 95 -> B right; C 170 -> C right;      nearest faces right
#         D 185 (no gallery) -> proto C (5 deg): a stranger named C
EMBEDDINGS = at(0, 50, 90, 180, 10, 80, 60, 95, 170, 185) * 3.0  # scale: normalized inside
LABELS = np.array(["A", "A", "B", "C", "A", "A", "A", "B", "C", "D"])
SPLIT = GallerySplit(gallery=np.arange(4), probe=np.arange(4, 10))


def test_identification_by_hand():
    report = identification_report(EMBEDDINGS, LABELS, 0.9, SPLIT)
    assert (report.n_gallery, report.n_probes) == (4, 6)
    # assigned: A10->A, A80->B, B95->B, C170->C, D185->C; correct: 3 of 5 assigned
    assert report.precision == pytest.approx(3 / 5)
    assert report.recall == pytest.approx(3 / 5)  # 5 probes of known people
    assert report.coverage == pytest.approx(5 / 6)
    assert report.unknown_assigned == 1
    assert report.rank1_accuracy == pytest.approx(4 / 5)
    by_label = {person.label: person for person in report.persons}
    assert set(by_label) == {"A", "B", "C"}
    a, b, c = by_label["A"], by_label["B"], by_label["C"]
    assert (a.n_probes, a.n_assigned, a.n_correct) == (3, 1, 1)
    assert a.precision == 1.0 and a.recall == pytest.approx(1 / 3)
    assert (b.precision, b.recall) == (0.5, 1.0) and (c.precision, c.recall) == (0.5, 1.0)
    assert report.to_dict()["persons"][0]["label"] == "A"


def test_a_strict_threshold_assigns_nobody():
    report = identification_report(EMBEDDINGS, LABELS, 0.9999, SPLIT)
    assert report.coverage == 0.0 and math.isnan(report.precision) and report.recall == 0.0
    assert report.rank1_accuracy == pytest.approx(4 / 5)  # rank-1 ignores the threshold
    assert all(math.isnan(person.precision) for person in report.persons)


def test_prototype_is_the_mean_direction():
    people, prototypes = person_prototypes(at(0, 50, 90) * [[1], [5], [2]], ["A", "A", "B"])
    assert people.tolist() == ["A", "B"]
    np.testing.assert_allclose(prototypes, at(25, 90), atol=1e-12)


def test_split_keeps_a_probe_per_person_and_is_seeded():
    labels = np.array([0] * 5 + [1] * 2 + [2] + [3] * 4)
    split = split_gallery_probe(labels, gallery_fraction=0.5, seed=4)
    assert np.array_equal(split.gallery, split_gallery_probe(labels, 0.5, seed=4).gallery)
    assert not set(split.gallery) & set(split.probe)
    assert sorted([*split.gallery, *split.probe]) == list(range(len(labels)))
    counts = {p: int(np.sum(labels[split.gallery] == p)) for p in range(4)}
    assert counts == {0: 2, 1: 1, 2: 1, 3: 2}  # round(2.5) = 2; the single face is gallery only
    assert 2 not in labels[split.probe]
    assert split_gallery_probe(labels, 0.99).probe.size == 3  # one probe each for 0, 1, 3
