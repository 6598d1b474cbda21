"""The grouping threshold follows the library's size along the model's calibrated curve, and a
threshold is said in words (album/people/threshold.py)."""

from __future__ import annotations

import pytest

from album.faces.embedder import load_default_spec
from album.people.threshold import MAX_FMR, MIN_FMR, grouping_fmr, grouping_threshold, meaning
from training.spec import Thresholds

CURVE = ((0.91, 1e-2, 10**7), (0.93, 1e-3, 10**7), (0.95, 1e-5, 10**7), (0.965, 1e-6, 10**7))
THRESHOLDS = Thresholds(0.95, 0.93, 1e-5, 1e-3, CURVE)


def test_the_rate_is_one_over_the_faces_within_the_calibrated_range():
    assert grouping_fmr(10) == MAX_FMR and grouping_fmr(10**9) == MIN_FMR
    assert grouping_fmr(20_000) == pytest.approx(5e-5)


def test_the_threshold_rises_with_the_library():
    sizes = [10, 100, 1_000, 10_000, 100_000, 1_000_000, 10**8]
    found = [grouping_threshold(THRESHOLDS, n) for n in sizes]
    assert found == sorted(found) and found[0] == 0.91 and found[-1] == 0.965
    assert grouping_threshold(THRESHOLDS, 1_000) == pytest.approx(0.93)
    assert grouping_threshold(THRESHOLDS, 100_000) == pytest.approx(0.95)
    assert THRESHOLDS.fmr_at(grouping_threshold(THRESHOLDS, 30_000)) == pytest.approx(1 / 30_000)


def test_a_model_without_a_curve_groups_at_its_suggestion_threshold():
    assert grouping_threshold(Thresholds(0.6, 0.45), 5_000) == 0.45
    assert "no calibration" in meaning(Thresholds(0.6, 0.45), 0.45, 10).describe()


def test_meaning_in_words():
    said = meaning(THRESHOLDS, 0.95, 1_001)
    assert said.fmr == pytest.approx(1e-5) and said.per_face == pytest.approx(0.01)
    assert said.stranger_pairs == pytest.approx(1e-5 * 1001 * 1000 / 2)
    assert "1 wrong match in 100,000 pairs" in said.describe()


def test_the_shipped_model_groups_faces_lfw_near_its_measured_best():
    """faces-lfw (6,422 faces): the best fixed threshold measured 0.940 (F 0.944)."""
    spec = load_default_spec()
    assert grouping_threshold(spec.thresholds, 6_422) == pytest.approx(0.9407, abs=0.002)
