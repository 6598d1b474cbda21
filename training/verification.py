"""Face-verification metrics on scored pairs: k-fold accuracy, TAR@FAR, ROC and thresholds.

Plain numpy in, frozen dataclasses out, no model code: the same functions score LFW, an
insightface `.bin` pack, a folder of chips or the app's own labeled faces.

One convention everywhere, the one `training.spec.Thresholds` is read with: a pair is called
"same person" when its cosine similarity is strictly greater than the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_FARS = (1e-2, 1e-3)


@dataclass(frozen=True)
class KFoldAccuracy:
    """Accuracy with the threshold chosen on all folds but one and tested on the one left out."""

    mean: float
    std: float  # population std over folds, as LFW results are usually quoted
    fold_accuracies: tuple[float, ...]
    fold_thresholds: tuple[float, ...]


@dataclass(frozen=True)
class TarAtFar:
    """True-accept rate at the threshold that lets at most `far_target` of the negatives through.

    `reliable` is False when there are fewer than 1/far_target negative pairs: then not even one
    false accept is allowed and the threshold is just the highest negative score, so the figure
    says little (FAR 1e-3 needs at least ~1000 negative pairs, better 10x that).
    """

    far_target: float
    tar: float
    far: float  # achieved on the negatives, <= far_target
    threshold: float
    n_negatives: int
    reliable: bool


@dataclass(frozen=True)
class RocCurve:
    """Operating points from strictest to loosest threshold (far and tar rise together)."""

    far: np.ndarray
    tar: np.ndarray
    thresholds: np.ndarray

    @property
    def auc(self) -> float:
        return float(np.sum(np.diff(self.far) * (self.tar[1:] + self.tar[:-1]) / 2))


@dataclass(frozen=True)
class VerificationReport:
    n_same: int
    n_different: int
    accuracy: KFoldAccuracy
    best_threshold: float  # best accuracy on all pairs together (the app's balanced choice)
    best_accuracy: float
    tar_at_far: tuple[TarAtFar, ...]
    roc: RocCurve

    def threshold_at(self, far_target: float) -> TarAtFar:
        for entry in self.tar_at_far:
            if math.isclose(entry.far_target, far_target):
                return entry
        raise KeyError(f"no TAR@FAR entry for FAR {far_target:g}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the ROC curve itself is left out; its AUC is kept)."""
        acc = self.accuracy
        return {
            "n_same": self.n_same,
            "n_different": self.n_different,
            "accuracy_mean": acc.mean,
            "accuracy_std": acc.std,
            "fold_accuracies": list(acc.fold_accuracies),
            "fold_thresholds": list(acc.fold_thresholds),
            "best_threshold": self.best_threshold,
            "best_accuracy": self.best_accuracy,
            "roc_auc": self.roc.auc,
            "tar_at_far": [vars(entry) for entry in self.tar_at_far],
        }


@dataclass(frozen=True)
class _Cuts:
    """Every distinct way a threshold can split the scores, with the counts on each side."""

    thresholds: np.ndarray  # ascending
    true_accepts: np.ndarray  # positives above the threshold
    true_rejects: np.ndarray  # negatives at or below it
    n_pos: int
    n_neg: int


def _cuts(scores: np.ndarray, issame: np.ndarray) -> _Cuts:
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    positive = issame[order]
    n = len(ordered)
    pos_below = np.concatenate([[0], np.cumsum(positive)])  # positives among the i lowest
    # a cut at i rejects the i lowest scores; only cuts between distinct scores are possible
    valid = np.ones(n + 1, dtype=bool)
    valid[1:n] = ordered[:-1] < ordered[1:]
    index = np.flatnonzero(valid)
    thresholds = np.empty(len(index))
    inner = (index > 0) & (index < n)
    thresholds[inner] = (ordered[index[inner] - 1] + ordered[index[inner]]) / 2
    thresholds[index == 0] = np.nextafter(ordered[0], -np.inf)
    thresholds[index == n] = ordered[-1]
    n_pos = int(positive.sum())
    return _Cuts(
        thresholds=thresholds,
        true_accepts=n_pos - pos_below[index],
        true_rejects=index - pos_below[index],
        n_pos=n_pos,
        n_neg=n - n_pos,
    )


def _as_arrays(scores: Any, issame: Any) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    issame = np.asarray(issame, dtype=bool).ravel()
    if scores.shape != issame.shape or len(scores) == 0:
        raise ValueError(f"need as many labels as scores (got {len(scores)} and {len(issame)})")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or infinity")
    return scores, issame


def best_threshold(scores: Any, issame: Any) -> tuple[float, float]:
    """(threshold, accuracy) maximizing accuracy; among equally good cuts, the middle one."""
    scores, issame = _as_arrays(scores, issame)
    cuts = _cuts(scores, issame)
    accuracy = (cuts.true_accepts + cuts.true_rejects) / len(scores)
    best = np.flatnonzero(accuracy == accuracy.max())
    pick = best[(len(best) - 1) // 2]
    return float(cuts.thresholds[pick]), float(accuracy[pick])


def kfold_accuracy(scores: Any, issame: Any, folds: Any) -> KFoldAccuracy:
    """For each fold: pick the best threshold on the other folds, measure accuracy on this one.

    `folds` gives each pair's fold id (see `contiguous_folds` and `stratified_folds`).
    """
    scores, issame = _as_arrays(scores, issame)
    folds = np.asarray(folds).ravel()
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        test = folds == fold
        if test.all():
            raise ValueError("k-fold accuracy needs at least two folds")
        threshold, _ = best_threshold(scores[~test], issame[~test])
        accuracies.append(float(np.mean((scores[test] > threshold) == issame[test])))
        thresholds.append(threshold)
    return KFoldAccuracy(
        mean=float(np.mean(accuracies)),
        std=float(np.std(accuracies)),
        fold_accuracies=tuple(accuracies),
        fold_thresholds=tuple(thresholds),
    )


def tar_at_far(scores: Any, issame: Any, far_target: float) -> TarAtFar:
    """The loosest threshold whose false-accept rate on the negatives is at most `far_target`."""
    scores, issame = _as_arrays(scores, issame)
    negatives = np.sort(scores[~issame])[::-1]
    if len(negatives) == 0:
        raise ValueError("TAR@FAR needs negative pairs")
    allowed = math.floor(far_target * len(negatives) + 1e-9)  # false accepts we may keep
    if allowed >= len(negatives):
        threshold = float(np.nextafter(negatives[-1], -np.inf))
    else:
        threshold = float(negatives[allowed])  # ties with it are rejected too
    positives = scores[issame]
    return TarAtFar(
        far_target=far_target,
        tar=float(np.mean(positives > threshold)) if len(positives) else float("nan"),
        far=float(np.mean(negatives > threshold)),
        threshold=threshold,
        n_negatives=len(negatives),
        reliable=allowed >= 1,
    )


def roc_curve(scores: Any, issame: Any) -> RocCurve:
    scores, issame = _as_arrays(scores, issame)
    cuts = _cuts(scores, issame)
    false_accepts = cuts.n_neg - cuts.true_rejects
    far = false_accepts / max(cuts.n_neg, 1)
    tar = cuts.true_accepts / max(cuts.n_pos, 1)
    return RocCurve(far=far[::-1], tar=tar[::-1], thresholds=cuts.thresholds[::-1])


def contiguous_folds(n_pairs: int, n_folds: int = 10) -> np.ndarray:
    """Fold ids for pairs already laid out fold by fold (LFW's pairs.txt, insightface packs)."""
    return np.arange(n_pairs) * n_folds // n_pairs


def stratified_folds(issame: Any, n_folds: int = 10) -> np.ndarray:
    """Fold ids dealing positives and negatives round-robin, so every fold holds both."""
    issame = np.asarray(issame, dtype=bool).ravel()
    folds = np.empty(len(issame), dtype=np.int64)
    for label in (True, False):
        where = np.flatnonzero(issame == label)
        folds[where] = np.arange(len(where)) % n_folds
    return folds


def verify(
    scores: Any,
    issame: Any,
    folds: Any = None,
    fars: Sequence[float] = DEFAULT_FARS,
) -> VerificationReport:
    """All the verification metrics at once; `folds` defaults to 10 stratified folds."""
    scores, issame = _as_arrays(scores, issame)
    if folds is None:
        folds = stratified_folds(issame)
    threshold, accuracy = best_threshold(scores, issame)
    return VerificationReport(
        n_same=int(issame.sum()),
        n_different=int((~issame).sum()),
        accuracy=kfold_accuracy(scores, issame, folds),
        best_threshold=threshold,
        best_accuracy=accuracy,
        tar_at_far=tuple(tar_at_far(scores, issame, far) for far in fars),
        roc=roc_curve(scores, issame),
    )


def save_roc_png(
    curves: Mapping[str, RocCurve], path: str | Path, fars: Sequence[float] = DEFAULT_FARS
) -> None:
    """Plot ROC curves (TAR against log FAR) to a PNG.

    matplotlib is imported here, not at module import, and drawn through its Agg canvas
    directly: no pyplot, so a running Qt application's backend is left alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    floor = 1e-4
    for name, curve in curves.items():
        keep = curve.far > 0
        axes.plot(curve.far[keep], curve.tar[keep], label=f"{name} (AUC {curve.auc:.4f})")
        floor = min(floor, float(curve.far[keep].min()) if keep.any() else floor)
    for far in fars:
        axes.axvline(far, color="grey", linestyle=":", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlim(floor, 1.0)
    axes.set_ylim(0.0, 1.01)
    axes.set_xlabel("false accept rate")
    axes.set_ylabel("true accept rate")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(str(path), format="png")
