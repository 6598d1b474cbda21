"""Before/after scores of a retrain on the held-out split, and the rule that adopts a model.

Every score is measured the way the app uses embeddings:
- identification: each held-out face of a trained person is given the person whose prototype
  (unit mean of their *training* faces) it is closest to; rank-1 accuracy over those faces.
- verification: TAR at FAR 1e-3 (and 1e-2) over every pair with at least one held-out face
  (pairs of two training faces say nothing about generalization).
- false merges: the share of open-set faces (people the model was not trained on, standing in
  for the album's unnamed faces) whose best prototype similarity passes the threshold, i.e.
  that would be pulled into a named person.
Thresholds: each model is scored at its own same-person threshold for FAR 1e-3 on this album's
held-out pairs, so two models are compared at equal false-accept rates (a stored threshold
calibrated elsewhere could make either look better just by being looser).
- forgetting: TAR at FAR 1e-3 on an independent labeled reference set, when one is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from album.retrain.dataset import Reference, Split
from album.retrain.open_set import OpenSet, noise, open_set_problems
from training.evaluate import calibrated_thresholds
from training.identification import assign_to_prototypes, person_prototypes
from training.spec import Thresholds
from training.verification import tar_at_far, verify

Embed = Callable[[np.ndarray], np.ndarray]  # chips (N, S, S, 3) uint8 -> unit (N, D)
MAX_PAIR_ROWS = 4000  # held-out faces scored against everything (bounds the pair matrix)
TOLERANCE = 0.02  # how much a secondary score may drop before a model is refused


@dataclass
class Scores:
    identification: float | None  # rank-1 accuracy of held-out faces (None: no test faces)
    recall_at_threshold: float | None  # held-out faces named right above the threshold
    tar_at_far_1e3: float | None
    tar_at_far_1e2: float | None
    far_reliable: bool  # >= 1000 negative pairs behind the 1e-3 figure
    threshold: float  # same-person threshold at FAR 1e-3 on this album's held-out pairs
    false_merge_rate: float | None  # None: no open-set faces
    reference_tar_1e3: float | None = None
    per_person: dict[int, float] = field(default_factory=dict)  # person id -> rank-1 recall
    test_faces: int = 0
    open_set_faces: int = 0
    open_set: OpenSet | None = None  # at the grouping threshold the app would use


@dataclass
class RetrainReport:
    """What `Retrainer.run` found. `improved` says whether the candidate may be adopted."""

    head: str
    counts: dict[str, int]
    before: Scores
    after: Scores | None
    improved: bool
    reason: str
    parent_model_id: int | None = None
    candidate_name: str | None = None
    weights_path: str | None = None
    spec_path: str | None = None
    training: dict = field(default_factory=dict)
    seconds: float = 0.0
    calibration: dict = field(default_factory=dict)  # faces and pairs the thresholds came from

    def to_dict(self) -> dict:
        return asdict(self)


def identification(
    embeddings: np.ndarray, labels: np.ndarray, split: Split, threshold: float
) -> tuple[float | None, float | None, dict[int, float]]:
    """Rank-1 accuracy of test faces against train prototypes (overall and per person), and
    the share that would be named automatically: right person and above `threshold`."""
    if len(split.test) == 0:
        return None, None, {}
    people, protos = person_prototypes(embeddings[split.train], labels[split.train])
    nearest, best = assign_to_prototypes(embeddings[split.test], protos, -2.0)
    truth = labels[split.test]
    hits = people[nearest] == truth
    per_person = {int(p): float(hits[truth == p].mean()) for p in np.unique(truth).tolist()}
    return float(hits.mean()), float(np.mean(hits & (best > threshold))), per_person


def heldout_pairs(
    embeddings: np.ndarray, labels: np.ndarray, split: Split, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, issame) of every distinct pair with at least one held-out face."""
    held = np.concatenate([split.test, split.open_set])
    if len(held) > MAX_PAIR_ROWS:
        held = np.sort(np.random.default_rng(seed).choice(held, MAX_PAIR_ROWS, replace=False))
    sims = embeddings[held] @ embeddings.T
    is_held = np.zeros(len(labels), bool)
    is_held[held] = True
    rank = np.arange(len(labels))
    # a held-held pair appears twice (row i col j and row j col i): keep it once
    keep = (rank[None, :] != held[:, None]) & (~is_held[None, :] | (rank[None, :] > held[:, None]))
    issame = labels[held][:, None] == labels[None, :]
    return sims[keep], issame[keep]


def false_merge_rate(
    embeddings: np.ndarray, labels: np.ndarray, split: Split, threshold: float
) -> float | None:
    """Share of open-set faces whose nearest trained person passes `threshold`."""
    if len(split.open_set) == 0 or len(split.train) == 0:
        return None
    _, protos = person_prototypes(embeddings[split.train], labels[split.train])
    assigned, _ = assign_to_prototypes(embeddings[split.open_set], protos, threshold)
    return float(np.mean(assigned >= 0))


def album_thresholds(embeddings: np.ndarray, labels: np.ndarray, split: Split) -> Thresholds:
    """Thresholds at FAR 1e-3 / 1e-2 on this album's pairs with a held-out face (pairs of two
    training faces would flatter a model trained on them)."""
    sims, issame = heldout_pairs(embeddings, labels, split)
    return calibrated_thresholds(verify(sims, issame))


def score(
    embeddings: np.ndarray,
    labels: np.ndarray,
    split: Split,
    threshold: float,
    reference_tar: float | None = None,
) -> Scores:
    """All scores of one model's embeddings of the labeled faces."""
    accuracy, named, per_person = identification(embeddings, labels, split, threshold)
    sims, issame = heldout_pairs(embeddings, labels, split)
    return Scores(
        identification=accuracy,
        recall_at_threshold=named,
        tar_at_far_1e3=_tar(sims, issame, 1e-3),
        tar_at_far_1e2=_tar(sims, issame, 1e-2),
        far_reliable=int((~issame).sum()) >= 1000,
        threshold=float(threshold),
        false_merge_rate=false_merge_rate(embeddings, labels, split, threshold),
        reference_tar_1e3=reference_tar,
        per_person=per_person,
        test_faces=len(split.test),
        open_set_faces=len(split.open_set),
    )


def reference_tar(embed: Embed, reference: Reference, far: float = 1e-3) -> float:
    """TAR at `far` over all pairs of the reference set."""
    embeddings = embed(reference.chips)
    i, j = np.triu_indices(len(reference.labels), k=1)
    sims = np.sum(embeddings[i] * embeddings[j], axis=1)
    return tar_at_far(sims, reference.labels[i] == reference.labels[j], far).tar


def _tar(sims: np.ndarray, issame: np.ndarray, far: float) -> float | None:
    if not issame.any() or issame.all():
        return None
    return tar_at_far(sims, issame, far).tar


def judge(before: Scores, after: Scores, tolerance: float = TOLERANCE) -> tuple[bool, str]:
    """The adoption rule. The candidate is adopted only if
    1. it is better for the named people: more of their held-out faces found at the grouping
       threshold, held-out identification up, or held-out TAR@FAR 1e-3 up by >= 0.01 (each
       model at its own threshold for FAR 1e-3 on this album, so neither wins by being looser);
    2. it is no worse for everyone else (`album.retrain.open_set`), at each model's grouping
       threshold: no more wrong matches of the people kept aside or of two faces of one photo,
       no fewer pairs of the people kept aside found, beyond a count's chance variation;
    3. held-out identification drops by at most one test face, and TAR@FAR 1e-3 and the
       reference (forgetting) TAR each by at most `tolerance`. (The false-merge rate, measured
       at each model's FAR 1e-3 threshold on a few dozen held-out faces, is judged only when
       the open-set counts are missing: they measure the same harm at the threshold the app
       groups at, on every pair of the people kept aside.)
    Otherwise the old model stays, and the reason names every check that failed, in words."""
    problems = []
    old, new = before.open_set, after.open_set
    if old is not None and new is not None:
        problems += open_set_problems(old, new)
        if old.named_found - new.named_found > noise(old.named_found):
            problems.append(
                "it finds fewer of the named people's photos it was tested on "
                f"({old.named_found} → {new.named_found} of {new.named_probes})"
            )
    one_face = 1.0 / max(after.test_faces, 1) + 1e-9
    if _drop(before.identification, after.identification) > one_face:
        problems.append(
            "it recognises fewer of the named people's photos it was tested on "
            f"({before.identification:.1%} → {after.identification:.1%})"
        )
    for worse_words, old_value, new_value, sign, allowed in _secondary(before, after, tolerance):
        if sign * _drop(old_value, new_value) > allowed:
            problems.append(worse_words.format(old=old_value, new=new_value))
    gains = _gains(before, after)
    if not gains:
        problems.insert(0, "it is no better for the named people than the current model")
    if problems:
        return False, "; ".join(problems)
    return True, "better: " + ", ".join(gains)


PAIRS_AT = "of their photo pairs matched at 1 wrong match in 1,000"


def _gains(before: Scores, after: Scores) -> list[str]:
    gains = []
    old, new = before.open_set, after.open_set
    if old is not None and new is not None and new.named_found > old.named_found:
        gains.append(
            f"it finds {new.named_found - old.named_found} more of the {new.named_probes} "
            "named people's photos it was tested on"
        )
    if _drop(before.identification, after.identification) < 0:
        gains.append(
            "it names more of their test photos right "
            f"({before.identification:.1%} → {after.identification:.1%})"
        )
    if -_drop(before.tar_at_far_1e3, after.tar_at_far_1e3) >= 0.01:
        gains.append(
            "it tells the named people apart better "
            f"({before.tar_at_far_1e3:.1%} → {after.tar_at_far_1e3:.1%} {PAIRS_AT})"
        )
    return gains


def _secondary(
    before: Scores, after: Scores, tolerance: float
) -> list[tuple[str, float, float, int, float]]:
    """(words when it got worse, before, after, +1 if higher is better else -1, allowed drop)
    for the scores both have."""
    rows = [
        (
            "it tells the named people apart less reliably ({old:.1%} → {new:.1%} "
            + PAIRS_AT
            + ")",
            before.tar_at_far_1e3,
            after.tar_at_far_1e3,
            1,
            tolerance,
        ),
        (
            "it forgets faces it knew ({old:.1%} → {new:.1%} of the reference set's pairs matched)",
            before.reference_tar_1e3,
            after.reference_tar_1e3,
            1,
            tolerance,
        ),
    ]
    if before.open_set is None or after.open_set is None:  # the open-set counts replace it
        one_face = 1.0 / max(after.open_set_faces, 1) + 1e-9
        rows.append(
            (
                "it puts more faces of people it was not taught with named people "
                "({old:.1%} → {new:.1%})",
                before.false_merge_rate,
                after.false_merge_rate,
                -1,
                max(tolerance, one_face),
            )
        )
    return [r for r in rows if r[1] is not None and r[2] is not None]


def _drop(old: float | None, new: float | None) -> float:
    """old - new (positive when a higher-is-better score fell); 0 when either is missing."""
    if old is None or new is None:
        return 0.0
    return old - new
