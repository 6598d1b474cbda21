"""Verification metrics against cases small enough to work out by hand (worked in comments)."""

from __future__ import annotations

import numpy as np
import pytest

from training.verification import (
    best_threshold,
    contiguous_folds,
    kfold_accuracy,
    roc_curve,
    save_roc_png,
    stratified_folds,
    tar_at_far,
    verify,
)

T, F = True, False


def test_best_threshold_by_hand():
    # ascending: .2F .3T .4F .5F .6T .7F .8T .9T; rejecting the i lowest is right for
    # i=0..8: 4 5 4 5 6 5 6 5 4 of 8. Best 6/8 at i=4 (t=.55) and i=6 (t=.75): the middle
    # of two equally good cuts is the first.
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    issame = [T, T, F, T, F, F, T, F]
    threshold, accuracy = best_threshold(scores, issame)
    assert threshold == pytest.approx(0.55) and accuracy == 0.75


def test_kfold_accuracy_by_hand():
    # fold 0: .9T .6T .5F .1F        -> alone, separated best at t=(.5+.6)/2=.55
    # fold 1: .8T .7T .58F .4F .2F   -> alone, separated best at t=(.58+.7)/2=.64
    # fold 0 tested at .64: .6T falls below -> 3/4; fold 1 tested at .55: .58F passes -> 4/5
    scores = [0.9, 0.6, 0.5, 0.1, 0.8, 0.7, 0.58, 0.4, 0.2]
    issame = [T, T, F, F, T, T, F, F, F]
    folds = [0, 0, 0, 0, 1, 1, 1, 1, 1]
    result = kfold_accuracy(scores, issame, folds)
    assert result.fold_thresholds == pytest.approx((0.64, 0.55))
    assert result.fold_accuracies == pytest.approx((0.75, 0.8))
    assert result.mean == pytest.approx(0.775) and result.std == pytest.approx(0.025)


def test_ten_fold_accuracy_on_lfw_layout():
    # 10 folds of 600 in file order; every fold holds the same 6 errors: 594/600 = 0.99
    rng = np.random.default_rng(0)
    block_scores = np.concatenate([rng.uniform(0.6, 1, 300), rng.uniform(-1, 0.4, 300)])
    block_same = np.arange(600) < 300
    block_scores[:3] = 0.1  # three positives far below
    block_scores[300:303] = 0.9  # three negatives far above
    scores, issame = np.tile(block_scores, 10), np.tile(block_same, 10)
    result = kfold_accuracy(scores, issame, contiguous_folds(6000))
    assert result.fold_accuracies == pytest.approx((0.99,) * 10)
    assert result.mean == pytest.approx(0.99) and result.std == pytest.approx(0.0)
    assert all(0.4 < t < 0.6 for t in result.fold_thresholds)


def test_tar_at_far_by_hand():
    negatives = np.arange(1000) / 1000  # 0.000 .. 0.999
    positives = np.array([0.9995, 0.9985, 0.995, 0.985, 0.5])
    scores = np.concatenate([positives, negatives])
    issame = np.arange(len(scores)) < len(positives)
    # FAR 1e-2: 10 false accepts allowed -> t = 11th highest negative .989, passes .990-.999
    loose = tar_at_far(scores, issame, 1e-2)
    assert loose.threshold == pytest.approx(0.989) and loose.far == pytest.approx(0.01)
    assert loose.tar == pytest.approx(3 / 5) and loose.reliable
    # FAR 1e-3: one false accept -> t = .998; positives .9995 and .9985 pass
    strict = tar_at_far(scores, issame, 1e-3)
    assert strict.threshold == pytest.approx(0.998) and strict.far == pytest.approx(0.001)
    assert strict.tar == pytest.approx(2 / 5) and strict.reliable and strict.n_negatives == 1000


def test_tar_at_far_with_too_few_negatives_is_flagged():
    scores = [0.9, 0.8, 0.7, 0.3, 0.2]
    issame = [T, T, T, F, F]
    result = tar_at_far(scores, issame, 1e-3)  # 2 negatives: no false accept allowed
    assert not result.reliable and result.threshold == 0.3
    assert result.far == 0.0 and result.tar == 1.0


def test_tied_negatives_at_the_threshold_are_rejected():
    scores = [0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 0.6]
    issame = [F, F, F, F, F, F, T]
    result = tar_at_far(scores, issame, 0.2)  # 1 of 6 allowed, but 5 tie at .5
    assert result.threshold == 0.5 and result.far == 0.0 and result.tar == 1.0


def test_roc_matches_its_definition_and_sklearn_auc():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    issame = rng.random(500) < 0.4
    scores = np.round(rng.normal(issame * 0.5, 0.3), 2)  # rounding makes ties
    curve = roc_curve(scores, issame)
    assert curve.far[0] == 0 and curve.tar[0] == 0 and curve.far[-1] == 1 and curve.tar[-1] == 1
    assert np.all(np.diff(curve.far) >= 0) and np.all(np.diff(curve.tar) >= 0)
    for far, tar, threshold in zip(curve.far, curve.tar, curve.thresholds, strict=True):
        assert far == np.mean(scores[~issame] > threshold)
        assert tar == np.mean(scores[issame] > threshold)
    assert curve.auc == pytest.approx(roc_auc_score(issame, scores))


def test_stratified_folds_hold_both_kinds():
    issame = np.array([T] * 25 + [F] * 35)
    folds = stratified_folds(issame, 10)
    for fold in range(10):
        assert issame[folds == fold].any() and (~issame[folds == fold]).any()
    assert np.bincount(contiguous_folds(6000, 10)).tolist() == [600] * 10


def test_verify_report_and_roc_png(tmp_path):
    rng = np.random.default_rng(2)
    issame = rng.random(2000) < 0.5
    scores = rng.normal(np.where(issame, 0.6, 0.1), 0.15)
    report = verify(scores, issame)
    summary = report.to_dict()
    assert summary["n_same"] + summary["n_different"] == 2000
    assert summary["tar_at_far"][1]["far_target"] == 1e-3
    assert report.threshold_at(1e-2).threshold > report.best_threshold
    assert 0.9 < report.accuracy.mean < 1.0
    path = tmp_path / "roc.png"
    save_roc_png({"model": report.roc}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="as many labels"):
        verify([0.1, 0.2], [T])
    with pytest.raises(ValueError, match="NaN"):
        best_threshold([0.1, np.nan], [T, F])
