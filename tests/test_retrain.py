"""Retraining end to end on a labeled library built from faces-dev.

faces-dev is too easy for the shipped model to show a gain in identification (rank-1 on held-out
photos is 100% before any training), so the album here is a harder one with a known cure: the
same photos as a low-resolution camera takes them (chips shrunk to 14 px and back), where the
shipped model (flip-fused dlib_resnet_v2) misidentifies 2 of 27 held-out faces and accepts only
~7% of held-out same-person pairs at a 1e-3 false-accept rate. 24 steps (what a CI budget
allows) teach it something: shipped in the default model's plain geometry, with 7 people
trained on and two more kept aside as unseen people, held-out identification rises 0.90 ->
0.95 (TAR stays ~0.06) and wrong matches of the people kept aside fall 591 -> 484. Whether
the rule adopts it depends on every check, so the switching tests adopt it with `force`.
Longer runs are measured in bench/bench_retrain.py and bench/bench_retrain_album.py.

The album holds 10 of the 15 people, one of them with only 3 confirmed faces (too few to train
on: an open-set probe for the false-merge rate; their other faces stay unsorted). The other 5,
at full quality, are the independent reference set on which the retrained model must not get
worse (identity-disjoint forgetting check). Training is a fixed, seeded number of steps, so the
test is deterministic.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from album.library.library import Library
from album.library.schema import Embedding, Face, Model
from album.retrain import Reference, Retrainer, adopt, models_table, use_model
from album.retrain.open_set import open_set_problems
from tests.conftest import FACES_DEV
from tests.retrain_support import build_library, faces_dev_chips, low_resolution

pytestmark = [pytest.mark.slow, pytest.mark.dlib]

ALBUM_PEOPLE = 10
STEPS = 24
OPEN_SET_FACES = 3  # one album person has only this many confirmed faces: evaluation only
KEPT_ASIDE = 2  # a fifth of the 9 people with enough faces, never trained on (open set)


@pytest.fixture(scope="module")
def faces():
    if not (FACES_DEV / "labels.csv").is_file():
        pytest.skip("shared/data/faces-dev is not available")
    pytest.importorskip("dlib")
    return faces_dev_chips()


@pytest.fixture(scope="module")
def trained(faces, tmp_path_factory):
    """A library with the album people confirmed, and one finished retrain of it."""
    paths, names, chips, points = faces
    people = sorted(set(names))
    album = [i for i, n in enumerate(names) if n in people[:ALBUM_PEOPLE]]
    others = [i for i, n in enumerate(names) if n not in people[:ALBUM_PEOPLE]]
    folder = tmp_path_factory.mktemp("retrain")
    lib = Library(folder / "library.db")
    pick = lambda seq: [seq[i] for i in album]  # noqa: E731
    unseen = [k for k, i in enumerate(album) if names[i] == people[ALBUM_PEOPLE - 1]]
    confirm = set(range(len(album))) - set(unseen[OPEN_SET_FACES:])
    build_library(
        lib, pick(paths), pick(names), low_resolution(chips[album]), pick(points), confirm=confirm
    )
    reference = Reference("faces-dev others", chips[others], np.array(names)[others])
    retrainer = Retrainer(lib, "arcface", steps=STEPS, seed=0, device="cpu", reference=reference)
    report = retrainer.run()
    lib.close()
    return folder, report


@pytest.fixture
def library(trained, tmp_path):
    """A private copy of the trained library (and its candidate files)."""
    folder, report = trained
    shutil.copytree(folder, tmp_path / "album")
    lib = Library(tmp_path / "album" / "library.db")
    moved = report.to_dict()
    for key in ("weights_path", "spec_path"):
        moved[key] = moved[key].replace(str(folder), str(tmp_path / "album"))
    yield lib, type(report)(**{**moved, "before": report.before, "after": report.after})
    lib.close()


def test_retrain_learns_and_the_rule_refuses_what_it_loses(trained):
    """The fine-tune learns the low-resolution album (identification or TAR up), and the
    adoption rule is held to its word: a model that loses more than one held-out face, forgets
    the reference set, or harms the people kept aside is not adopted, the reason in words."""
    _, report = trained
    before, after = report.before, report.after
    assert report.counts["trained_people"] == ALBUM_PEOPLE - 1 - KEPT_ASIDE
    assert report.counts["open_set_faces"] > OPEN_SET_FACES  # and the kept-aside people's
    assert after.false_merge_rate is not None
    assert after.open_set.unseen_people == KEPT_ASIDE + 1 and after.open_set.impostor_pairs > 0
    assert after.open_set.threshold != before.open_set.threshold  # each at its own scale
    assert report.counts["test_faces"] >= 20
    learned = after.identification > before.identification
    assert learned or after.tar_at_far_1e3 >= before.tar_at_far_1e3 + 0.05, report
    lost = before.identification - after.identification > 1 / after.test_faces + 1e-9
    forgot = after.reference_tar_1e3 < before.reference_tar_1e3 - 0.02
    harms = open_set_problems(before.open_set, after.open_set)
    assert report.improved == (not lost and not forgot and not harms), report
    for harm in harms:
        assert harm in report.reason
    if lost:
        assert "recognises fewer of the named people's photos" in report.reason
    if forgot:
        assert "it forgets faces it knew" in report.reason


def _state(lib: Library) -> dict:
    with lib.session() as s:
        faces = {f.id: (f.person_id, str(f.decision)) for f in s.scalars(select(Face))}
        embedded = dict(
            s.execute(select(Embedding.model_id, func.count()).group_by(Embedding.model_id)).all()
        )
    return {"faces": faces, "embedded": embedded, "active": lib.active_model_id()}


def test_adopt_switches_keeps_every_decision_and_switches_back(library):
    lib, report = library
    old = _state(lib)
    retrainer = Retrainer(lib, "arcface", device="cpu")
    result = retrainer.adopt(report, force=True)  # the switch itself, whatever the verdict
    new = _state(lib)
    assert result.switched and new["active"] == result.model_id != old["active"]
    assert new["embedded"][result.model_id] == len(old["faces"])
    _assert_decisions_kept(old["faces"], new["faces"])
    with lib.session() as s:
        row = s.get(Model, result.model_id)
        assert row.parent_id == old["active"] and row.report["improved"] == report.improved
        assert not Path(row.weights_path).is_absolute()  # the library folder can move
        weights = lib.weights_file(row.weights_path)
        assert weights.parent == lib.data_dir / "models"
        assert row.spec["thresholds"] == report_thresholds(weights)
    back = use_model(lib, old["active"])
    assert back.switched and back.embedded == 0 and lib.active_model_id() == old["active"]
    rows = {r["id"]: r for r in models_table(lib)}
    assert rows[result.model_id]["parent_id"] == old["active"]


def test_switching_back_gives_the_old_model_its_groups_with_decisions_replayed(library):
    """Name a person, switch to the retrained model (which groups anew), decide there, switch
    back: every face is where the old model had it, except the face the user moved."""
    from album.people import People

    lib, report = library
    people, old_id = People(lib), lib.active_model_id()
    people.recluster(logged=False)  # the unsorted faces join groups under the built-in model
    first = people.list_people()[0]
    people.name(first.id, "Anna")
    before = _state(lib)["faces"]
    switched = Retrainer(lib, "arcface", device="cpu").adopt(report, force=True)
    assert switched.switched and not switched.restored
    undecided = sorted(f for f, (_, d) in _state(lib)["faces"].items() if d in ("auto", "none"))
    moved = undecided[0]
    target = next(p.id for p in people.list_people() if p.id != before[moved][0])
    people.move([moved], target)
    back = use_model(lib, old_id)
    assert back.switched and back.restored and back.embedded == 0
    after = _state(lib)["faces"]
    assert after[moved] == (target, "confirmed")
    assert {f: v for f, v in after.items() if f != moved} == {
        f: v for f, v in before.items() if f != moved
    }


def _assert_decisions_kept(old: dict, new: dict) -> None:
    """Every decided face is as it was; unsorted faces may only have been placed (auto)."""
    assert old.keys() == new.keys()
    for face_id, (person, decision) in old.items():
        if decision == "none":
            assert new[face_id] == (person, decision) or new[face_id][1] == "auto"
        else:
            assert new[face_id] == (person, decision)


def report_thresholds(weights_path: str) -> dict:
    import json

    return json.loads(Path(weights_path).with_suffix(".json").read_text())["thresholds"]


def test_a_crash_while_re_embedding_leaves_the_old_model_whole(library, monkeypatch):
    lib, report = library
    old = _state(lib)
    monkeypatch.setattr(adopt, "BATCH", 16)

    def crash(stage, done, total):
        if stage == "reembed" and done >= 32:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        Retrainer(lib, device="cpu").adopt(report, progress=crash, force=True)
    mid = _state(lib)
    assert mid["active"] == old["active"] and mid["faces"] == old["faces"]
    assert mid["embedded"][old["active"]] == len(old["faces"])
    new_id = next(m for m in mid["embedded"] if m != old["active"])
    assert 0 < mid["embedded"][new_id] < len(old["faces"])
    resumed = use_model(lib, new_id)
    assert resumed.switched and resumed.embedded == len(old["faces"]) - mid["embedded"][new_id]
    assert _state(lib)["active"] == new_id


def test_sigkill_while_re_embedding_leaves_the_old_model_whole(library):
    lib, report = library
    old = _state(lib)
    model_id = Retrainer(lib, device="cpu").register(report)
    script = (
        "import os, signal, sys\n"
        "from album.library.library import Library\n"
        "from album.retrain import adopt\n"
        "adopt.BATCH = 16\n"
        "def die(stage, done, total):\n"
        "    if done >= 32: os.kill(os.getpid(), signal.SIGKILL)\n"
        "adopt.use_model(Library(sys.argv[1]), int(sys.argv[2]), die, device='cpu')\n"
    )
    run = subprocess.run([sys.executable, "-c", script, str(lib.path), str(model_id)])
    assert run.returncode == -signal.SIGKILL
    mid = _state(lib)
    assert mid["active"] == old["active"] and mid["faces"] == old["faces"]
    assert mid["embedded"][old["active"]] == len(old["faces"])
    assert use_model(lib, model_id).switched


def test_cli_lists_models(library, capsys):
    from album.cli.main import main

    lib, _ = library
    assert main(["--library", str(lib.path), "models", "--json"]) == 0
    assert '"active": true' in capsys.readouterr().out
