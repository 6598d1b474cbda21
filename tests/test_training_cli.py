"""`python -m training`: help, train -> resume -> export, evaluate wiring."""

from __future__ import annotations

import json

import pytest

from training.cli import main
from training.export import load_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("command", [[], ["train"], ["export"], ["evaluate"]])
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: python -m training" in capsys.readouterr().out


def test_evaluate_subcommand_is_wired(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    assert "--chips" in capsys.readouterr().out


@pytest.mark.slow
def test_train_resume_export(tmp_path, capsys):
    common = ["--no-progress", "--out", str(tmp_path / "run")]
    args = [
        "train",
        "--data",
        "synthetic:3:4",
        "--backbone",
        "mbf",
        "--embedding-dim",
        "16",
        "--batch-size",
        "6",
        "--steps",
        "2",
        "--head",
        "combined",
        "--m",
        "1.0",
        "0.2",
        "0.1",
    ]
    assert main([*args, *common]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stopped"] == "done" and report["step"] == 2
    model, spec = load_model(report["model"])
    assert (
        spec.backbone == "mbf"
        and spec.embedding_dim == 16
        and spec.training["m"] == [1.0, 0.2, 0.1]
    )

    assert main(["train", "--resume", report["checkpoint"], "--steps", "3", "--no-progress"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["step"] == 3

    out = tmp_path / "exported"
    assert main(["export", resumed["checkpoint"], "--out", str(out), "--name", "final"]) == 0
    assert load_model(out / "final.safetensors")[1].training["steps"] == 3
