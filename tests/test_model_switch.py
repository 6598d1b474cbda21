"""Switching models is exact: a model's groups are saved when the library leaves it and given
back on return, with only the user's decisions made since replayed; a model used for the first
time groups every face not confirmed under its own geometry. On the synthetic library
(tests/people_support.py) with a second model whose geometry joins true persons 0 and 1."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import func, select

from album.library.clock import now
from album.library.schema import Embedding, Model, SavedGrouping, SavedPlacement
from album.people import People
from album.retrain import adopt
from album.retrain.adopt import forget_model, switch_to
from tests.people_support import add_photo, cluster_of, noisy, person_of, state

STUB = SimpleNamespace(spec=SimpleNamespace(alignment="dlib_chip"))  # nothing to embed: no chips


def add_model(synth, seed: int = 7) -> int:
    """A second model of the synthetic library: fresh noise, and persons 0 and 1 look alike."""
    rng = np.random.default_rng(seed)
    with synth.lib.transaction() as s:
        model = Model(
            name=f"other-{seed}",
            backbone="test",
            active=False,
            created_at=now(),
            spec={"thresholds": {"same_person": 0.5, "suggestion": 0.4}},
            parent_id=synth.model_id,
        )
        s.add(model)
        s.flush()
        for face_id, who in synth.truth.items():
            vector = noisy(synth.centres[0 if who == 1 else who], rng)
            s.add(Embedding(face_id=face_id, model_id=model.id, vector=vector))
        return model.id


def switch(synth, model_id: int) -> tuple[int, bool]:
    return switch_to(synth.lib, model_id, STUB)


def groups(lib) -> dict[int, tuple]:
    return {face: (person, decision) for face, person, decision in state(lib)[0]}


def saved_rows(lib) -> int:
    with lib.session() as s:
        return s.scalar(select(func.count()).select_from(SavedPlacement)) + s.scalar(
            select(func.count()).select_from(SavedGrouping)
        )


def test_switching_back_restores_the_groups_exactly(synth):
    lib = synth.lib
    before = state(lib)
    other = add_model(synth)
    placed, restored = switch(synth, other)
    assert lib.active_model_id() == other and not restored and placed > 0
    assert state(lib) != before  # persons 0 and 1 are one group under the other model
    placed, restored = switch(synth, synth.model_id)
    assert restored and lib.active_model_id() == synth.model_id
    assert state(lib) == before
    placed, restored = switch(synth, other)  # and its groups came back too
    assert restored
    assert cluster_of(None, synth, 0) == cluster_of(None, synth, 1)


def test_a_first_switch_groups_under_the_new_geometry(synth):
    """The new model's groups are its own: grouping again under it changes nothing, and the
    groups formed under the old model (persons 0 and 1 apart) are not kept."""
    lib = synth.lib
    edits = People(lib).history()
    other = add_model(synth)
    switch(synth, other)
    after = state(lib)
    People(lib, other).recluster(logged=False)
    assert state(lib) == after
    zero, one = synth.faces_of(0), synth.faces_of(1)
    assert person_of(lib, zero[0])[0] == person_of(lib, one[0])[0]
    assert People(lib).history() == edits  # not an edit: nothing for undo to take back


def test_decisions_made_under_another_model_are_replayed(synth):
    """Name a person, switch, decide (move a face in, reject one, name another group), switch
    back: every face the decisions did not touch is where the model left it."""
    lib, people = synth.lib, People(synth.lib)
    anna = cluster_of(people, synth, 2)
    people.name(anna, "Anna")
    before = groups(lib)
    other = add_model(synth)
    switch(synth, other)
    joined = cluster_of(people, synth, 0)  # persons 0 and 1 together, under the other model
    stray = synth.faces_of(3)[0]
    people.move([stray], anna)  # the user puts a face of person 3 in Anna
    wrong = synth.faces_of(1)[0]
    people.reject(wrong, joined)  # "not this person"
    bert = cluster_of(people, synth, 4)
    people.name(bert, "Bert")
    bert_faces = {f for f, (p, d) in groups(lib).items() if p == bert}
    _, restored = switch(synth, synth.model_id)
    assert restored
    after = groups(lib)
    assert after[stray] == (anna, "confirmed")
    expected_wrong = (None, "none") if before[wrong][0] == joined else before[wrong]
    assert after[wrong] == expected_wrong
    for face in bert_faces:
        assert after[face] == (bert, "confirmed")
    untouched = set(before) - {stray, wrong} - bert_faces
    assert {f: after[f] for f in untouched} == {f: before[f] for f in untouched}
    assert person_of(lib, synth.faces_of(2)[0]) == (anna, "confirmed")


def test_a_merge_made_under_another_model_takes_the_old_faces_along(synth):
    lib, people = synth.lib, People(synth.lib)
    before = groups(lib)
    other = add_model(synth)
    switch(synth, other)
    keep, gone = cluster_of(people, synth, 5), cluster_of(people, synth, 6)
    people.merge(keep, gone)
    switch(synth, synth.model_id)
    after = groups(lib)
    for face, (person, decision) in before.items():
        if person == gone:
            assert after[face][0] == keep
        elif decision != "none" and person != keep:
            assert after[face] == (person, decision)
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Model)) == 2
    assert all(p.id != gone for p in people.list_people(include_hidden=True))


def test_faces_scanned_under_another_model_are_placed_on_return(synth):
    lib = synth.lib
    other = add_model(synth)
    switch(synth, other)
    rng = np.random.default_rng(3)
    vector = noisy(synth.centres[4], rng)
    (face,) = add_photo(synth, [4], rng, vectors=[vector])  # scanned meanwhile: both models
    with lib.transaction() as s:
        s.add(Embedding(face_id=face, model_id=other, vector=vector))
    switch(synth, synth.model_id)
    assert person_of(lib, face) == (cluster_of(None, synth, 4), "auto")


def test_a_crash_inside_the_switch_leaves_the_old_groups(synth, monkeypatch):
    lib = synth.lib
    before = state(lib)
    other = add_model(synth)

    def power_cut(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(adopt.assign, "recluster", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        switch(synth, other)
    assert lib.active_model_id() == synth.model_id and state(lib) == before
    assert saved_rows(lib) == 0


def test_switching_to_the_active_model_changes_nothing(synth):
    before = state(synth.lib)
    assert switch(synth, synth.model_id) == (0, False)
    assert state(synth.lib) == before and saved_rows(synth.lib) == 0


def test_forgetting_a_model_forgets_its_groups(synth):
    lib = synth.lib
    other = add_model(synth)
    switch(synth, other)
    assert saved_rows(lib) > 0
    switch(synth, synth.model_id)
    assert saved_rows(lib) > 0  # the other model's groups, kept for its return
    forget_model(lib, other)
    assert saved_rows(lib) == 0
