"""The retrain training set: burst-grouped held-out split, open-set people, the adoption rule."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import numpy as np

from album.retrain.dataset import LabeledFaces, shot_groups, split_faces
from album.retrain.open_set import OpenSet, open_set_scores
from album.retrain.report import Scores, false_merge_rate, heldout_pairs, identification, judge

T0 = datetime(2024, 5, 1, 12, 0, 0)


def _faces(per_person: dict[int, list[float | None]]) -> LabeledFaces:
    """Faces given as capture offsets in seconds (None: unknown time, own photo)."""
    people, times, photos = [], [], []
    for person, offsets in per_person.items():
        for offset in offsets:
            people.append(person)
            times.append(None if offset is None else T0 + timedelta(seconds=offset))
            photos.append(len(photos) + 1)
    n = len(people)
    return LabeledFaces(
        face_ids=np.arange(1, n + 1),
        person_ids=np.array(people),
        photo_ids=np.array(photos),
        taken_at=times,
        chips=np.zeros((n, 4, 4, 3), np.uint8),
    )


def test_bursts_chain_by_gap_and_unknown_times_stand_alone():
    faces = _faces({1: [0, 30, 80, 1000, None, None], 2: [5, 10]})
    groups = shot_groups(faces.person_ids, faces.photo_ids, faces.taken_at, 60)
    assert groups[0] == groups[1] == groups[2]  # 0 -> 30 -> 80: each gap under 60 s
    assert len({groups[2], groups[3], groups[4], groups[5]}) == 4
    assert groups[6] == groups[7] and groups[6] != groups[0]  # same moment, another person


def test_same_photo_faces_share_a_group():
    faces = _faces({1: [None, None]})
    faces.photo_ids[:] = 7
    groups = shot_groups(faces.person_ids, faces.photo_ids, faces.taken_at)
    assert groups[0] == groups[1]


def test_split_never_straddles_a_burst_and_keeps_few_face_people_for_evaluation():
    bursts = [0, 10, 20, 500, 510, 1500, 3000, 3010, 9000, 9999]
    faces = _faces({1: bursts, 2: [b + 20_000 for b in bursts], 3: [0, 400, 800]})
    split = split_faces(faces, test_fraction=0.3, min_faces=5, seed=1)
    assert set(split.open_set.tolist()) == {20, 21, 22}  # person 3: too few to train on
    for group in np.unique(split.groups):
        members = set(np.flatnonzero(split.groups == group).tolist())
        assert (
            members <= set(split.train.tolist())
            or members <= set(split.test.tolist())
            or (members <= set(split.open_set.tolist()))
        )
    for person in (1, 2):
        mine = faces.person_ids == person
        assert mine[split.test].sum() >= 1 and mine[split.train].sum() >= 2
    assert sorted(np.concatenate([split.train, split.test, split.open_set])) == list(range(23))
    again = split_faces(faces, test_fraction=0.3, min_faces=5, seed=1)
    assert np.array_equal(again.test, split.test)


def test_a_person_shot_in_one_burst_is_trained_but_not_tested():
    faces = _faces({1: [0, 5, 10, 15, 20, 25], 2: [0, 100, 200, 300, 400, 500]})
    split = split_faces(faces, min_faces=5)
    assert not (faces.person_ids[split.test] == 1).any()
    assert (faces.person_ids[split.train] == 1).sum() == 6


def _toy_embeddings():
    """Two trained people on orthogonal axes, a held-out face each, an unseen person."""
    faces = _faces({1: [0, 1000, 2000], 2: [0, 1000, 2000], 3: [0]})
    vectors = np.array(
        [[1, 0, 0], [0.9, 0.1, 0], [0.8, 0.6, 0], [0, 1, 0], [0.1, 0.9, 0], [0.6, 0.8, 0]],
        np.float32,
    )
    vectors = np.vstack([vectors, [[0.5, 0.5, 0.7]]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    split = split_faces(faces, min_faces=3, seed=0)
    return vectors, faces.person_ids, split


def test_scores_on_a_worked_example():
    vectors, labels, split = _toy_embeddings()
    assert len(split.test) == 2 and split.open_set.tolist() == [6]
    accuracy, named, per_person = identification(vectors, labels, split, threshold=0.99)
    assert accuracy == 1.0 and named == 0.0 and per_person == {1: 1.0, 2: 1.0}
    assert false_merge_rate(vectors, labels, split, threshold=0.5) == 1.0
    assert false_merge_rate(vectors, labels, split, threshold=0.9) == 0.0
    sims, issame = heldout_pairs(vectors, labels, split)
    held = len(split.test) + len(split.open_set)
    assert len(sims) == held * (len(labels) - 1) - held * (held - 1) // 2  # each pair once


def _scores(ident, tar, merges=None, reference=None) -> Scores:
    return Scores(ident, ident, tar, tar, True, 0.5, merges, reference, {}, 50, 20)


def test_adoption_rule():
    base = _scores(0.90, 0.80, 0.05, 0.90)
    assert judge(base, _scores(0.95, 0.80, 0.05, 0.90))[0]
    assert judge(base, _scores(0.90, 0.85, 0.06, 0.89))[0]  # TAR gain, small secondary drops
    ok, reason = judge(base, _scores(0.90, 0.80, 0.05, 0.90))
    assert not ok and "no better for the named people" in reason
    assert judge(base, _scores(0.88, 0.95))[0]  # one face of 50 is noise
    ok, reason = judge(base, _scores(0.86, 0.95))
    assert not ok and "recognises fewer of the named people's photos" in reason
    assert judge(base, _scores(0.95, 0.90, 0.10, 0.90))[0]  # one unseen face of 20 more
    ok, reason = judge(base, _scores(0.95, 0.90, 0.15, 0.80))
    assert not ok and "people it was not taught with named people" in reason
    assert "it forgets faces it knew (90.0% → 80.0%" in reason


def test_retrain_refuses_a_library_without_named_faces(library, capsys):
    from album.cli.main import main
    from album.retrain import Retrainer

    ok, reason, counts = Retrainer(library).readiness()
    assert not ok and "scan photos first" in reason and counts == {}
    assert main(["--library", str(library.path), "retrain"]) == 2
    assert "not enough to retrain on" in capsys.readouterr().err


def _open(named_found=30, found=40, false=10, same_photo=2) -> OpenSet:
    return OpenSet(0.9, named_found, 50, 8, found, 60, false, 5000, same_photo, 300)


def test_adoption_rule_refuses_a_model_worse_for_people_it_was_not_taught():
    """A candidate better for the named people is still refused when it matches the people
    kept aside, or two faces of one photo, more often than chance allows, or finds fewer of
    the kept-aside people's pairs; each reason is said in words."""
    base = _scores(0.90, 0.80)
    base.open_set = _open()
    better = _scores(0.95, 0.90)
    better.open_set = _open(named_found=36, false=16)  # +6 wrong matches: within 2*sqrt(10)
    ok, reason = judge(base, better)
    assert ok and "it finds 6 more of the 50 named people's photos" in reason
    better.open_set = _open(named_found=36, false=17)
    ok, reason = judge(base, better)
    assert not ok and "mixes up people it was not taught more often (10 → 17" in reason
    better.open_set = _open(named_found=36, same_photo=6)  # 2 + 2*sqrt(2) = 4.8
    ok, reason = judge(base, better)
    assert not ok and "two faces of the same photo" in reason
    better.open_set = _open(named_found=36, found=27)  # 40 - 2*sqrt(40) = 27.4
    ok, reason = judge(base, better)
    assert not ok and "finds fewer photos of people it was not taught" in reason


def test_more_named_people_found_is_a_gain_on_its_own():
    base, after = _scores(0.90, 0.80), _scores(0.90, 0.80)
    base.open_set, after.open_set = _open(named_found=30), _open(named_found=31)
    assert judge(base, after) == (
        True,
        "better: it finds 1 more of the 50 named people's photos it was tested on",
    )
    after.open_set = _open(named_found=20)  # 30 - 2*sqrt(30) = 19.0: within chance
    ok, reason = judge(base, after)
    assert not ok and "finds fewer" not in reason  # refused for no gain, not for the loss
    after.open_set = _open(named_found=18)
    ok, reason = judge(base, after)
    assert "it finds fewer of the named people's photos it was tested on (30 → 18" in reason


def test_a_fifth_of_the_trainable_people_are_kept_aside_whole():
    faces = _faces({p: [0, 100, 200, 300, 400, 500] for p in range(1, 11)})
    split = split_faces(faces, min_faces=5, seed=3)
    unseen = set(faces.person_ids[split.open_set].tolist())
    assert len(unseen) == 2
    assert not unseen & set(faces.person_ids[split.train].tolist())
    assert not unseen & set(faces.person_ids[split.test].tolist())
    two = _faces({1: [0, 100, 200, 300, 400], 2: [0, 100, 200, 300, 400]})
    assert len(split_faces(two, min_faces=5).open_set) == 0  # both needed to train on
    three = _faces({p: [0, 100, 200, 300, 400] for p in (1, 2, 3)})
    assert len(set(three.person_ids[split_faces(three, min_faces=5).open_set].tolist())) == 1


def test_open_set_scores_count_each_pair_once():
    """Person 3 is unseen (too few faces): its pair is found or not, its pairs with the others
    are impostors; two sampled faces of one photo are a wrong match when above the bar."""
    vectors, labels, split = _toy_embeddings()
    labels = labels.copy()
    vectors = np.vstack([vectors, vectors[6:7]])  # a second face of person 3, identical
    labels = np.append(labels, 3)
    split = dataclasses.replace(split, open_set=np.array([6, 7]), groups=np.append(split.groups, 9))
    sample = np.array([[1, 0, 0], [0.99, 0.141, 0], [0, 1, 0]], np.float32)
    same_photo = (np.array([0, 0]), np.array([1, 2]))
    scores = open_set_scores(vectors, labels, split, sample, same_photo, threshold=0.95)
    assert (scores.unseen_pairs, scores.unseen_found) == (1, 1)
    assert scores.impostor_pairs == 2 * 6 and scores.false_matches == 0
    assert (scores.same_photo_pairs, scores.same_photo) == (2, 1)
    assert scores.named_probes == 2 and scores.unseen_people == 1
    low = open_set_scores(vectors, labels, split, sample, same_photo, threshold=0.5)
    assert low.false_matches > 0
