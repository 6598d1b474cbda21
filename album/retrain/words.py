"""A retrain report in words a family understands, and the numbers behind it as table rows.

The words answer the two questions a user has: does it find more of the people I named, and
does it make more mistakes with everybody else? The numbers (`detail_rows`) are for the
Details toggle of the app and the table of `face-album retrain`.
"""

from __future__ import annotations

from collections.abc import Callable

from album.retrain.open_set import OpenSet
from album.retrain.report import RetrainReport, Scores


def verdict(report: RetrainReport) -> str:
    """One sentence: what happened and why."""
    if report.after is None:
        return f"Stopped: {report.reason}."
    if report.improved:
        return f"The new model is better: {_gain_words(report)}."
    reason = report.reason.removeprefix("better: ")
    return f"The new model is not better, so your current model stays: {reason}."


def _gain_words(report: RetrainReport) -> str:
    old, new = report.before.open_set, report.after.open_set
    if old is None or new is None:
        return report.reason.removeprefix("better: ")
    if new.named_found > old.named_found:
        found = _more(old.named_found, new.named_found, "of your named people's photos")
    else:  # as many found: the gain is in how surely (the rule's own words)
        found = report.reason.removeprefix("better: ")
    return f"{found}, and {_wrong_words(old, new)}"


def _more(old: int, new: int, what: str) -> str:
    if old == 0:
        return f"it finds {new} more {what}"
    return f"it finds {(new - old) / old:.0%} more {what}"


def _wrong_words(old: OpenSet, new: OpenSet) -> str:
    before, after = old.false_matches + old.same_photo, new.false_matches + new.same_photo
    if after == before:
        return "wrong matches with other people are unchanged"
    direction = "fewer" if after < before else "more (within chance)"
    return f"{direction} wrong matches with other people ({before} → {after})"


def explanation(report: RetrainReport) -> list[str]:
    """A few plain lines under the verdict: what it was trained and tested on."""
    counts = report.counts
    lines = [
        f"Trained on {counts.get('train_faces', 0):,} faces of "
        f"{counts.get('trained_people', 0)} named people; tested on "
        f"{counts.get('test_faces', 0):,} of their photos it did not learn from."
    ]
    open_set = report.after.open_set if report.after is not None else None
    if open_set is not None and open_set.unseen_people:
        people = (
            "1 named person was"
            if open_set.unseen_people == 1
            else f"{open_set.unseen_people} named people were"
        )
        lines.append(
            f"{people} kept aside, never shown to it, to check it does not confuse people it "
            "was not taught (as most faces in an album are)."
        )
    calibration = report.calibration
    if calibration.get("pairs"):
        lines.append(
            "Its thresholds were carried over from the current model's on "
            f"{calibration['pairs']:,} pairs of {calibration['faces']:,} of your faces it "
            "was not trained on, so a match means as much as it did before."
        )
    return lines


Row = tuple[str, Callable[[Scores], str]]


def _open(field: str, total: str | None = None) -> Callable[[Scores], str]:
    def show(scores: Scores) -> str:
        values = scores.open_set
        if values is None:
            return "—"
        value = getattr(values, field)
        if isinstance(value, float):
            return f"{value:.3f}"
        if total and not getattr(values, total):
            return "—"  # nothing to count (e.g. no photo with two faces in the sample)
        return f"{value:,}" + (f" of {getattr(values, total):,}" if total else "")

    return show


def _score(field: str, fmt: str) -> Callable[[Scores], str]:
    def show(scores: Scores) -> str:
        value = getattr(scores, field)
        return "—" if value is None else fmt.format(value)

    return show


DETAIL_ROWS: tuple[Row, ...] = (
    ("Named people's test photos found", _open("named_found", "named_probes")),
    ("Pairs of kept-aside people found", _open("unseen_found", "unseen_pairs")),
    ("Wrong matches of kept-aside people", _open("false_matches", "impostor_pairs")),
    ("Two faces of one photo matched", _open("same_photo", "same_photo_pairs")),
    ("Grouping threshold", _open("threshold")),
    ("Identification (rank-1, held out)", _score("identification", "{:.1%}")),
    ("TAR @ FAR 1e-3 (held out)", _score("tar_at_far_1e3", "{:.1%}")),
    ("False merges of unseen people", _score("false_merge_rate", "{:.1%}")),
    ("Reference TAR @ FAR 1e-3", _score("reference_tar_1e3", "{:.1%}")),
)


def detail_rows(report: RetrainReport) -> list[tuple[str, str, str]]:
    """(label, current model, new model) for every score either model has."""
    rows = []
    for label, show in DETAIL_ROWS:
        old = show(report.before)
        new = show(report.after) if report.after is not None else "—"
        if old != "—" or new != "—":
            rows.append((label, old, new))
    return rows
