"""A fine-tuned model's thresholds carried over from its parent's curve by rank on the same
faces (album/retrain/calibrate.py): the meaning of each point (its false-match rate) is kept
whatever scale the new model's cosines live on."""

from __future__ import annotations

import numpy as np

from album.retrain.calibrate import carried_thresholds
from album.search import normalize_rows
from training.spec import Thresholds

CURVE = ((0.90, 1e-2, 1000), (0.93, 1e-3, 1000), (0.95, 1e-4, 1000))
PARENT = Thresholds(0.95, 0.93, 1e-4, 1e-3, CURVE)


def cone(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in a narrow cone (any two ~0.87), like dlib's raw descriptors."""
    rng = np.random.default_rng(seed)
    axis = np.zeros(32)
    axis[0] = 1
    return normalize_rows(axis * 3 + rng.normal(0, 0.2, (n, 32)))


def pairs_above(vectors: np.ndarray, threshold: float) -> int:
    vectors = vectors.astype(np.float64)
    sims = (vectors @ vectors.T)[np.triu_indices(len(vectors), k=1)]
    return int((sims >= threshold).sum())


def test_the_same_model_keeps_its_thresholds():
    vectors = cone(300)
    carried = carried_thresholds(PARENT, vectors, vectors)
    for (old, _, _), (new, _, _) in zip(PARENT.fmr_curve, carried.fmr_curve, strict=True):
        assert abs(new - old) < 1e-3 and pairs_above(vectors, new) == pairs_above(vectors, old)


def test_a_model_on_another_scale_gets_thresholds_that_keep_the_counts():
    parent = cone(300)
    spread = normalize_rows(parent - parent.mean(axis=0))  # centred: cosines near 0, not 0.9
    carried = carried_thresholds(PARENT, parent, spread)
    assert carried.same_person < 0.9 and carried.suggestion < carried.same_person
    for (old, fmr, _), (new, fmr_new, _) in zip(PARENT.fmr_curve, carried.fmr_curve, strict=True):
        assert fmr == fmr_new
        assert pairs_above(spread, new) == pairs_above(parent, old)
    assert carried.fmr_at(carried.same_person) == PARENT.same_person_fmr


def test_no_curve_no_carrying():
    vectors = cone(10)
    assert carried_thresholds(Thresholds(0.5, 0.4), vectors, vectors) is None
