"""`face-album verify` on a small LFW-layout folder made from faces-dev photos."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from album.cli.main import main


@pytest.mark.slow
def test_verify_on_lfw_layout(faces_dev, tmp_path, capsys):
    by_person: dict[str, list[str]] = {}
    with open(faces_dev / "labels.csv") as f:
        for row in csv.DictReader(f):
            by_person.setdefault(row["person"], []).append(row["path"])
    people = sorted(by_person)[:3]
    root = tmp_path / "lfw"
    for name in people:
        (root / name).mkdir(parents=True)
        for i, rel in enumerate(sorted(by_person[name])[:2], start=1):
            shutil.copy(faces_dev / rel, root / name / f"{name}_{i:04}.jpg")
    same = [f"{n} 1 2" for n in people]
    different = [
        f"{people[0]} 1 {people[1]} 1",
        f"{people[1]} 2 {people[2]} 1",
        f"{people[2]} 2 {people[0]} 2",
    ]
    lines = ["3 1"] + [line for fold in zip(same, different) for line in fold]  # 3 folds
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    code = main(
        [
            "verify",
            "--pairs",
            str(tmp_path / "pairs.txt"),
            "--images",
            str(root),
            "--json",
            "--folds",
            "3",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["photos"] == 6 and report["no_face_found"] == 0
    assert report["accuracy_mean"] >= 5 / 6 and report["n_same"] == 3
