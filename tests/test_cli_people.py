"""The people commands end to end: `album.cli.main.main([...])` on a synthetic library, JSON checked."""

from __future__ import annotations

import json

import pytest

from album.cli.main import main
from album.faces.model_files import ModelFilesMissing, models_dir
from tests.people_support import cluster_of, person_of


@pytest.fixture
def library(synth):
    return synth.lib


@pytest.fixture
def cli(synth, capsys):
    """Run a command on a clustered test library; returns (exit status, parsed JSON or text)."""
    library = synth.lib

    def run(*argv: str):
        capsys.readouterr()
        status = main(["--library", str(library.path), *argv])
        captured = capsys.readouterr()
        run.err, out = captured.err, captured.out
        return status, (json.loads(out) if "--json" in argv and status == 0 else out)

    run.synth = synth
    return run


def test_people_lists_every_cluster_and_unsorted(cli):
    status, people = cli("people", "--json")
    assert status == 0
    assert [p["id"] for p in people][-1] == 0  # unsorted last
    assert sum(1 for p in people if p["id"]) == 8
    assert {"name", "face_count", "photo_count", "cover_face_id", "hidden"} <= set(people[0])
    status, text = cli("people")
    assert status == 0 and "unsorted" in text


def test_name_then_person_shows_faces_and_photos(cli, library):
    a = cluster_of(None, cli.synth, 0)
    assert cli("name", str(a), "Ann", "--json")[0] == 0
    status, person = cli("person", str(a), "--json")
    assert status == 0 and person["name"] == "Ann"
    assert {f["id"] for f in person["faces"]} == set(cli.synth.faces_of(0))
    assert all(f["decision"] == "confirmed" for f in person["faces"])
    assert len(person["photos"]) == person["photo_count"]
    status, text = cli("person", str(a))
    assert "Ann" in text


def test_search_by_face_returns_ranked_hits_of_that_person(cli):
    face = cli.synth.faces_of(2)[0]
    status, hits = cli("search", "--face", str(face), "--json")
    assert status == 0 and hits
    assert [h["similarity"] for h in hits] == sorted((h["similarity"] for h in hits), reverse=True)
    assert {cli.synth.truth[h["face_id"]] for h in hits} == {2}


def test_merge_move_reject_hide_and_undo(cli, library):
    synth = cli.synth
    a, b = cluster_of(None, synth, 0), cluster_of(None, synth, 1)
    status, change = cli("merge", str(a), str(b), "--json")
    assert status == 0 and change["removed_person_ids"] == [b]
    assert cli("undo")[0] == 0
    assert person_of(library, synth.faces_of(1)[0])[0] == b
    face = synth.faces_of(0)[0]
    assert cli("move", str(face), "--to", str(b))[0] == 0
    assert person_of(library, face) == (b, "confirmed")
    assert cli("reject", str(face), str(b))[0] == 0
    assert person_of(library, face) == (None, "none")
    assert cli("hide", str(a))[0] == 0
    assert a not in {p["id"] for p in cli("people", "--json")[1]}
    assert cli("hide", str(a), "--unhide")[0] == 0
    status, history = cli("undo", "--list", "--json")
    assert [e["action"] for e in history][:4] == ["hide", "hide", "reject", "move"]


def test_suggest_lists_and_accepts(cli, library):
    synth = cli.synth
    a = cluster_of(None, synth, 0)
    cli("name", str(a), "Ann")
    part = synth.faces_of(0)[:5]
    assert cli("move", *map(str, part), "--new")[0] == 0
    status, found = cli("suggest", "--json")
    assert status == 0 and found[0]["person_id"] == a and set(found[0]["face_ids"]) == set(part)
    status, text = cli("suggest")
    assert status == 0 and text.startswith("5 more photos may be Ann\n")
    assert cli("suggest", "--accept", "1")[0] == 0
    assert all(person_of(library, f) == (a, "confirmed") for f in part)


def test_errors_exit_with_status_2(cli):
    assert cli("name", "999", "x")[0] == 2
    assert "face-album: no person 999" in cli.err
    assert cli("suggest", "--accept", "99")[0] == 2
    assert "no suggestion 99" in cli.err


@pytest.mark.slow
def test_search_by_image_uses_the_face_pipeline(cli, faces_dev, library):
    try:
        models_dir()
        from album.faces.default import load_pipeline  # noqa: F401
    except (ModelFilesMissing, ImportError):
        pytest.skip("the default face models are not installed")
    # the synthetic library's vectors are not the pipeline's: only the plumbing is checked
    status, hits = cli(
        "search", "--image", str(faces_dev / "images/s00004.jpg"), "--threshold", "-1", "--json"
    )
    assert status == 0 and len(hits) == 50  # --threshold -1: every face qualifies, --limit 50


def test_split_shows_a_mixed_person_as_groups_and_writes_nothing(cli):
    a, b = (cluster_of(None, cli.synth, who) for who in (0, 1))
    assert cli("merge", str(a), str(b), "--json")[0] == 0
    status, groups = cli("split", str(a), "--json")
    assert status == 0
    big = [set(g["face_ids"]) for g in groups if len(g["face_ids"]) >= 3]
    truths = [{cli.synth.truth[f] for f in g} for g in big]
    assert sorted(map(sorted, truths)) == [[0], [1]]
    status, text = cli("split", str(a))
    assert status == 0 and text.startswith("group 1:") and "move FACE... --new" in text
    assert cli("person", str(a), "--json")[1]["face_count"] == sum(
        len(g["face_ids"]) for g in groups
    )
