"""What a threshold means for a library of N faces, and the grouping threshold that follows N.

Grouping N faces compares every face with every other: at a pair false-match rate (FMR) f, a
face has about N·f look-alike strangers above the bar, and a group forms through any of them.
So the bar rises with the library: grouping uses the model's calibrated threshold at FMR 1/N
(about one stranger above the bar per face), kept within the calibrated range 1e-6 … 1e-2.
Measured on faces-lfw subsets of 695 … 6,422 faces (bench/bench_cluster_quality.py --scale):
this rule stays within 0.003 of the best fixed threshold's BCubed F at every size, with
precision 0.96–0.98, where one fixed threshold is right for one size only.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.spec import Thresholds

MIN_FMR, MAX_FMR = 1e-6, 1e-2  # the calibrated range of the curve


def grouping_fmr(faces: int) -> float:
    """The pair false-match rate grouping aims at for a library of `faces` faces."""
    return min(max(1.0 / max(faces, 1), MIN_FMR), MAX_FMR)


def grouping_threshold(thresholds: Thresholds, faces: int) -> float:
    """The model's threshold at `grouping_fmr(faces)`; a model calibrated without a curve
    (older retrained versions) groups at its `suggestion` threshold as before."""
    found = thresholds.threshold_at(grouping_fmr(faces))
    return thresholds.suggestion if found is None else found


@dataclass(frozen=True)
class Meaning:
    """A threshold in words: its false-match rate and what it means among `faces` faces."""

    threshold: float
    fmr: float | None
    faces: int

    @property
    def stranger_pairs(self) -> float | None:
        """Expected pairs of different people above the threshold among the library's faces."""
        if self.fmr is None:
            return None
        return self.fmr * self.faces * (self.faces - 1) / 2

    @property
    def per_face(self) -> float | None:
        """Expected look-alike strangers above the threshold for one face of the library."""
        return None if self.fmr is None else self.fmr * max(self.faces - 1, 0)

    def describe(self) -> str:
        if self.fmr is None:
            return f"{self.threshold:.3f} (no calibration to say what it means)"
        one_in = round(1 / self.fmr) if self.fmr > 0 else 0
        strangers = "stranger" if f"{self.per_face:.2g}" == "1" else "strangers"
        return (
            f"{self.threshold:.3f}: about 1 wrong match in {one_in:,} pairs of different people; "
            f"among your {self.faces:,} faces, about {self.per_face:.2g} look-alike {strangers} "
            "per face"
        )


def meaning(thresholds: Thresholds, threshold: float, faces: int) -> Meaning:
    return Meaning(threshold, thresholds.fmr_at(threshold), faces)
