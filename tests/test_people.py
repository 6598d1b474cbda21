"""People API on a synthetic library (tests/people_support.py): clustering, constraints,
decisions, undo, suggestions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sqlalchemy import select

from album.library.schema import (
    Face,
    FaceRejection,
    Person,
)
from album.people import UNSORTED, People, PeopleError
from album.people.split import propose_split
from album.people.types import ClusterSettings, FaceInfo
from album.search.index import VectorIndex
from tests.people_support import add_photo, build, cluster_of, noisy, person_of, state


def test_recluster_finds_each_person_once(people, synth):
    listed = people.list_people()
    assert len(listed) == 8
    for who in range(8):
        ids = {person_of(synth.lib, f)[0] for f in synth.faces_of(who)}
        assert len(ids) == 1 and None not in ids  # whole person in one cluster
    assert len({cluster_of(people, synth, w) for w in range(8)}) == 8  # and clusters are distinct


def test_two_faces_of_one_photo_never_share_a_person(library):
    synth = build(library)
    rng = np.random.default_rng(5)
    twin = noisy(synth.centres[0], rng)
    a, b = add_photo(synth, [0, 0], rng, vectors=[twin, twin])  # identical embeddings, one photo
    People(library).recluster()
    pa, pb = person_of(library, a)[0], person_of(library, b)[0]
    assert pa is None or pa != pb


def test_small_groups_stay_unsorted(library):
    synth = build(library)
    rng = np.random.default_rng(9)
    stray = add_photo(synth, [9], rng)[0]  # one face of a 9th person: a passer-by
    pair = [add_photo(synth, [10], rng)[0] for _ in range(2)]  # two photos of a 10th person
    p = People(library)
    p.recluster()
    assert person_of(library, stray) == (None, "none")
    assert stray in {f.id for f in p.unsorted_faces()}
    assert p.list_people(include_unsorted=True)[-1].id == UNSORTED
    first, second = (person_of(library, f)[0] for f in pair)  # min size 2: a pair is a person
    assert first is not None and first == second
    People(library, settings=ClusterSettings(min_size=3)).recluster()
    assert all(person_of(library, f) == (None, "none") for f in pair)


def test_recluster_keeps_every_user_decision(people, synth):
    lib = synth.lib
    a, b = cluster_of(people, synth, 0), cluster_of(people, synth, 1)
    people.name(a, "Ann")
    wrong = synth.faces_of(2)[0]
    people.move([wrong], a)  # the user insists: confirmed, against the embedding
    rejected = synth.faces_of(1)[0]
    people.reject(rejected, b)
    junk = synth.faces_of(3)[0]
    people.not_a_face([junk])
    people.hide(b)
    people.recluster()
    assert person_of(lib, wrong) == (a, "confirmed")
    assert person_of(lib, rejected)[0] != b
    assert person_of(lib, junk) == (None, "not_face")
    summary = people.person(a)
    assert summary.name == "Ann" and people.person(b).hidden
    assert all(person_of(lib, f) == (a, "confirmed") for f in synth.faces_of(0))


def test_recluster_twice_changes_nothing(people, synth):
    before = state(synth.lib)
    change = people.recluster()
    assert state(synth.lib) == before
    assert not change.face_ids and not change.person_ids


# -- decisions and undo ---------------------------------------------------------------------------
ACTIONS = {
    "name": lambda p, a, b, f: p.name(a, "Bea"),
    "merge": lambda p, a, b, f: p.merge(a, b),
    "move": lambda p, a, b, f: p.move(f[:3], b),
    "split": lambda p, a, b, f: p.split(f[:4], "Cy"),
    "remove": lambda p, a, b, f: p.remove(f[:2]),
    "not_a_face": lambda p, a, b, f: p.not_a_face(f[:2]),
    "hide": lambda p, a, b, f: p.hide(a),
    "cover": lambda p, a, b, f: p.set_cover(a, f[5]),
    "reject": lambda p, a, b, f: p.reject(f[0], a),
    "recluster": lambda p, a, b, f: p.recluster(),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_undo_restores_each_action(people, synth, action):
    a, b = cluster_of(people, synth, 0), cluster_of(people, synth, 1)
    people.name(b, "Bob")
    people.reject(synth.faces_of(4)[0], a)  # a rejection in scope of the edit
    if action == "recluster":
        people.move(synth.faces_of(2)[:2], a)  # so the re-cluster has something to revise
        with synth.lib.transaction() as s:  # and auto faces it will move
            s.get(Face, synth.faces_of(5)[0]).person_id = a
    before = state(synth.lib)
    change = ACTIONS[action](people, a, b, synth.faces_of(0))
    assert change.edit_id is not None
    assert state(synth.lib) != before
    undone = people.undo()
    assert undone is not None and undone.edit_id == change.edit_id
    assert state(synth.lib) == before


def test_undo_steps_back_in_order_and_stops(people, synth):
    a, b = cluster_of(people, synth, 0), cluster_of(people, synth, 1)
    first = state(synth.lib)
    people.name(a, "Ann")
    second = state(synth.lib)
    people.merge(a, b)
    people.undo()
    assert state(synth.lib) == second
    people.undo()
    assert state(synth.lib) == first
    while people.undo() is not None:  # earlier edits (the initial re-cluster) too, then nothing
        pass
    assert people.undo() is None


def test_merge_moves_faces_and_rejections(people, synth):
    a, b = cluster_of(people, synth, 0), cluster_of(people, synth, 1)
    outsider = synth.faces_of(3)[0]
    people.reject(outsider, b)
    change = people.merge(a, b)
    assert change.removed_person_ids == {b}
    assert all(person_of(synth.lib, f) == (a, "confirmed") for f in synth.faces_of(1))
    with synth.lib.session() as s:
        assert s.get(FaceRejection, (outsider, a)) is not None
        assert s.get(Person, b) is None


def test_merging_several_people_is_one_edit(people, synth):
    a, b, c = (cluster_of(people, synth, i) for i in range(3))
    people.name(c, "Cleo")
    outsider = synth.faces_of(3)[0]
    people.reject(outsider, b)
    people.reject(outsider, c)  # the same rejection carried over twice stays one row
    before = state(synth.lib)
    change = people.merge(a, b, c)
    assert change.removed_person_ids == {b, c}
    for i in range(3):
        assert all(person_of(synth.lib, f) == (a, "confirmed") for f in synth.faces_of(i))
    with synth.lib.session() as s:
        assert s.get(Person, a).name == "Cleo"
        assert s.get(FaceRejection, (outsider, a)) is not None
    people.undo()  # one undo brings both people back
    assert state(synth.lib) == before
    with pytest.raises(PeopleError):
        people.merge(a, a, b)
    with pytest.raises(PeopleError):
        people.merge(a)


def test_move_refuses_a_second_confirmed_face_in_one_photo(people, synth):
    x, y = synth.pairs[0]  # one photo with true people 0 and 1
    a = cluster_of(people, synth, 0)
    people.move([x], a)
    with pytest.raises(PeopleError):
        people.move([y], a)


def test_removing_the_last_face_deletes_an_unnamed_person(people, synth):
    a = cluster_of(people, synth, 0)
    change = people.remove([f.id for f in people.person_faces(a)])
    assert a in change.removed_person_ids
    assert all(s.id != a for s in people.list_people(include_hidden=True))


def test_summaries_of_the_people_a_change_names(people, synth):
    a, b = cluster_of(people, synth, 0), cluster_of(people, synth, 1)
    people.hide(b)
    change = people.merge(a, b)
    found = people.summaries(change.person_ids | change.removed_person_ids | {UNSORTED})
    assert set(found) == {a, UNSORTED}  # b is gone
    assert found[a] == next(p for p in people.list_people() if p.id == a)
    assert found[a].face_count == len(synth.faces_of(0)) + len(synth.faces_of(1))
    people.hide(a)
    assert people.summaries([a])[a].hidden  # hidden people too
    assert people.suggestion_count() == len(people.suggestions(limit=None))


def test_hidden_people_are_listed_only_on_request(people, synth):
    a = cluster_of(people, synth, 0)
    people.hide(a)
    assert a not in {s.id for s in people.list_people()}
    assert a in {s.id for s in people.list_people(include_hidden=True)}
    people.hide(a, False)
    assert a in {s.id for s in people.list_people()}


def test_cover_must_be_a_face_of_the_person(people, synth):
    a = cluster_of(people, synth, 0)
    with pytest.raises(PeopleError):
        people.set_cover(a, synth.faces_of(1)[0])
    people.set_cover(a, synth.faces_of(0)[3])
    assert people.person(a).cover_face_id == synth.faces_of(0)[3]


# -- incremental assignment ---------------------------------------------------------------------
def test_new_faces_join_the_right_person_without_reclustering(people, synth):
    rng = np.random.default_rng(11)
    new = {who: add_photo(synth, [who], rng)[0] for who in range(8)}
    stranger = add_photo(synth, [10], rng)[0]
    change = people.assign_new([*new.values(), stranger])
    for who, face in new.items():
        assert person_of(synth.lib, face) == (cluster_of(people, synth, who), "auto")
    assert person_of(synth.lib, stranger) == (None, "none")
    assert change.face_ids == set(new.values())
    assert change.edit_id is None  # not a user decision


def test_assignment_respects_rejections(people, synth):
    rng = np.random.default_rng(12)
    face = add_photo(synth, [0], rng)[0]
    a = cluster_of(people, synth, 0)
    people.reject(face, a)
    people.assign_new([face])
    assert person_of(synth.lib, face)[0] != a


# -- suggestions ---------------------------------------------------------------------------------
def test_suggestion_proposes_the_named_person_and_accept_merges(people, synth):
    a = cluster_of(people, synth, 0)
    people.name(a, "Ann")
    part = synth.faces_of(0)[:6]
    split = people.split(part)  # an unnamed piece of Ann
    (new_id,) = split.person_ids - {a}
    top = people.suggestions()[0]
    assert (top.person_id, top.source_person_id, set(top.face_ids)) == (a, new_id, set(part))
    assert top.similarity > 0.5 and top.person_name == "Ann"
    change = people.accept_suggestion(top)
    assert new_id in change.removed_person_ids
    assert all(person_of(synth.lib, f) == (a, "confirmed") for f in part)


def test_accepting_a_suggestion_keeps_the_persons_cover(people, synth):
    a = cluster_of(people, synth, 0)
    people.name(a, "Ann")
    shown = people.person(a).cover_face_id
    part = synth.faces_of(0)[:6]
    people.split(part)
    with synth.lib.transaction() as s:  # the arriving faces are the largest ones
        for face in s.scalars(select(Face).where(Face.id.in_(part))):
            face.quality = 999.0
    top = people.suggestions()[0]
    assert set(top.face_ids) == set(part)
    people.accept_suggestion(top)
    assert people.person(a).cover_face_id == shown
    people.undo()
    with synth.lib.session() as s:
        assert s.get(Person, a).cover_face_id is None  # still the default one, as before


def test_declined_suggestion_is_never_proposed_again(people, synth):
    a = cluster_of(people, synth, 0)
    people.name(a, "Ann")
    people.split(synth.faces_of(0)[:6])
    top = people.suggestions()[0]
    people.reject_suggestion(top)
    again = [s for s in people.suggestions(limit=None) if s.person_id == a]
    assert not any(set(s.face_ids) & set(top.face_ids) for s in again)
    people.recluster()
    assert all(person_of(synth.lib, f)[0] != a for f in top.face_ids)


def test_offers_count_a_named_persons_suggestions(people, synth):
    """ "6 more photos may be Ann": the waiting suggestions per named person, and only hers
    when asked for one person; a stranger's person gets none."""
    a = cluster_of(people, synth, 0)
    b = cluster_of(people, synth, 1)
    people.name(a, "Ann")
    people.name(b, "Bob")
    people.split(synth.faces_of(0)[:6])
    people.split(synth.faces_of(1)[:3])
    found = people.offers()
    assert [(o.person_name, o.faces, o.suggestions) for o in found] == [
        ("Ann", 6, 1),
        ("Bob", 3, 1),
    ]
    assert found[0].describe() == "6 more photos may be Ann"
    assert [o.person_id for o in people.offers(b)] == [b]
    assert {s.person_id for s in people.suggestions(person_id=a)} == {a}
    people.reject_suggestion(people.suggestions(person_id=b)[0])
    assert people.offers(b) == []


# -- search --------------------------------------------------------------------------------------
def test_search_face_ranks_the_same_person_first(people, synth):
    query = synth.faces_of(3)[0]
    hits = people.search_face(query, k=50)
    sims = [h.similarity for h in hits]
    assert sims == sorted(sims, reverse=True) and min(sims) >= 0.5
    assert query not in {h.face_id for h in hits}
    assert {synth.truth[h.face_id] for h in hits} == {3}
    assert len(hits) >= 15  # nearly all of the other 19+ faces clear the threshold


def test_search_embedding_with_lower_threshold_reaches_further(people, synth):
    vector = synth.centres[2]
    strict = people.search_embedding(vector)
    loose = people.search_embedding(vector, threshold=-1.0, k=1000)
    assert len(loose) == len(synth.truth) > len(strict)
    assert {synth.truth[h.face_id] for h in strict} == {2}


def test_person_photos_include_matches_above_threshold(people, synth):
    a = cluster_of(people, synth, 0)
    loner = synth.faces_of(0)[0]
    people.remove([loner])  # now unsorted and rejected for a
    photos = {h.photo_id: h for h in people.person_photos(a)}
    with synth.lib.session() as s:
        loner_photo = s.get(Face, loner).photo_id
    assert loner_photo not in photos  # rejected faces do not come back through search
    people.undo()
    people.remove([loner])
    with synth.lib.transaction() as s:
        s.execute(FaceRejection.__table__.delete())
    hit = {h.photo_id: h for h in people.person_photos(a)}[loner_photo]
    assert not hit.assigned and hit.similarity >= 0.5 and hit.face_ids == (loner,)


def test_unknown_ids_raise_people_error(people):
    with pytest.raises(PeopleError):
        people.name(999, "x")
    with pytest.raises(PeopleError):
        people.move([999999], 1)


def test_photo_faces_and_face_lookup(people, synth):
    x, y = synth.pairs[0]
    listed = people.photo_faces(people.faces([x])[x].photo_id)
    assert [f.id for f in listed] == [x, y]  # left to right
    assert set(people.faces([x, y, 10**9])) == {x, y}


def test_a_photo_and_the_photos_of_faces_for_the_viewers(people, synth):
    x, y = synth.pairs[0]
    first = synth.faces_of(0)[0]
    photo_id = people.faces([x])[x].photo_id
    people.name(people.faces([x])[x].person_id, "Ann")
    photo = people.photo(photo_id)
    assert [f.id for f in photo.faces] == [x, y] and photo.path.startswith("/nonexistent/photos/")
    assert photo.names[people.faces([x])[x].person_id] == "Ann"
    people.not_a_face([y])
    assert [f.id for f in people.photo(photo_id).faces] == [x]  # false detections left out
    rows = people.face_photos([y, x, first], newest_first=False)
    assert [(r.photo_id, r.face_id) for r in rows] == [
        (photo_id, y),  # one row per photo, through its first listed face
        (people.faces([first])[first].photo_id, first),
    ]
    assert {r.photo_id for r in people.face_photos([first, x])} == {r.photo_id for r in rows}
    with pytest.raises(PeopleError):
        people.photo(10**9)


def test_update_after_a_scan_moves_nobody_already_placed(people, synth):
    before = {f: person_of(synth.lib, f) for f in synth.truth}
    rng = np.random.default_rng(21)
    known = [add_photo(synth, [who], rng)[0] for who in (0, 1)]
    newcomer = [add_photo(synth, [11], rng)[0] for _ in range(4)]
    change = people.update()
    assert all(person_of(synth.lib, f) == state for f, state in before.items())
    assert person_of(synth.lib, known[0])[0] == cluster_of(people, synth, 0)
    assert person_of(synth.lib, known[1])[0] == cluster_of(people, synth, 1)
    (group,) = {person_of(synth.lib, f)[0] for f in newcomer}
    assert group is not None and group not in {s[0] for s in before.values()}
    assert change.face_ids == set(known + newcomer) and change.edit_id is None


def test_assignment_never_puts_two_faces_of_a_photo_in_one_person(people, synth):
    rng = np.random.default_rng(13)
    first, second = add_photo(synth, [0, 0], rng)  # both look like person 0
    people.assign_new([first, second])
    placed = [person_of(synth.lib, f)[0] for f in (first, second)]
    assert placed.count(cluster_of(people, synth, 0)) == 1


# -- split proposal ------------------------------------------------------------------------------
def test_three_people_merged_into_one_come_back_as_three_groups(people, synth):
    a, b, c = (cluster_of(people, synth, who) for who in (0, 1, 2))
    people.merge(a, b, c)
    before = state(synth.lib)
    groups = people.split_proposal(a)
    assert state(synth.lib) == before  # a proposal writes nothing
    faces = [f.id for f in people.person_faces(a)]
    assert sorted(f for g in groups for f in g.face_ids) == sorted(faces)
    big = [g for g in groups if len(g.face_ids) >= 3]
    assert len(big) == 3
    for group in big:  # each group is one true person, and holds most of them
        (who, count), *others = Counter(synth.truth[f] for f in group.face_ids).most_common()
        assert not others and count >= len(synth.faces_of(who)) - 2
        assert group.cohesion > 0.5


def test_one_person_is_one_group(people, synth):
    groups = people.split_proposal(cluster_of(people, synth, 3))
    assert len(groups) == 1


def test_a_stray_face_rejoins_its_group_but_never_across_a_shared_photo():
    rng = np.random.default_rng(0)
    centre = rng.normal(size=16)
    centre /= np.linalg.norm(centre)
    vectors = [centre + rng.normal(0, 0.08, 16) for _ in range(5)]
    stray = centre + rng.normal(0, 0.35, 16)  # like the others on average, below the strict bar
    vectors = np.stack([*vectors, stray])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(np.arange(1, 7), vectors)
    sims = vectors[:5] @ vectors[5]
    strict, loose = float(sims.mean() + 0.05), float(sims.mean() - 0.05)

    def faces(photo_of_stray: int) -> list[FaceInfo]:
        photos = [1, 2, 3, 4, 5, photo_of_stray]
        return [FaceInfo(i + 1, p, 1, "auto", (0, 0, 1, 1), 1.0) for i, p in enumerate(photos)]

    joined = propose_split(faces(6), index, strict, attach=loose)
    assert [len(g.face_ids) for g in joined] == [6]
    apart = propose_split(faces(6), index, strict, attach=strict)
    assert [len(g.face_ids) for g in apart] == [5, 1]
    same_photo = propose_split(faces(1), index, strict, attach=loose)
    assert [len(g.face_ids) for g in same_photo] == [5, 1]
