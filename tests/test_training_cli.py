"""`python -m training`: help, train -> resume -> export, evaluate wiring; and `finetune`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from tests.training_support import tiny_spec
from training.cli import main
from training.data import SyntheticFaces
from training.export import load_model
from training.finetune import finetune

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


SPEC = tiny_spec(16, "base")


def _album(noise_seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = SyntheticFaces(5, 12, size=8, noise=60.0, seed=4, noise_seed=noise_seed)
    chips = np.stack([data[i][0].permute(1, 2, 0).numpy() for i in range(len(data))])
    names = np.array(["ann", "bob", "cy", "dee", "eve"])[data.labels]
    return chips, names


def test_finetune_learns_the_labeled_people_and_returns_a_child_spec():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.PReLU(), nn.Linear(32, 16))
    chips, names = _album(0)
    scores: list[float] = []

    def validate(module: nn.Module) -> float:
        from training.data import Preprocess

        held_chips, held_names = _album(1)
        x = Preprocess(SPEC)(torch.from_numpy(held_chips).permute(0, 3, 1, 2))
        emb = torch.nn.functional.normalize(module(x), dim=1)
        same = torch.from_numpy(held_names[:, None] == held_names[None, :])
        cos = emb @ emb.t()
        scores.append(float(cos[same].mean() - cos[~same].mean()))
        return scores[-1]

    tuned, summary = finetune(
        model, SPEC, chips, names, steps=120, validate=validate, validate_every=40
    )
    assert summary.stopped == "done" and summary.steps == 120
    assert summary.classes == ["ann", "bob", "cy", "dee", "eve"]
    assert (
        summary.spec.parent == "base"
        and summary.spec.name == "base-ft"
        and summary.spec.weights_sha256 is None
    )
    assert summary.best_value == max(scores) and scores[-1] > 0.3
    assert not tuned.training


def test_finetune_needs_two_people():
    with pytest.raises(ValueError, match="two"):
        finetune(nn.Linear(1, 1), SPEC, np.zeros((3, 8, 8, 3), np.uint8), np.array(["a", "a", "a"]))


def test_head_centres_start_at_class_means():
    from training.data import ChipDataset
    from training.finetune import init_centres
    from training.heads import create_head

    chips, names = _album(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16))
    head = create_head("arcface", 16, 5)
    dataset = ChipDataset(chips, names)
    init_centres(head, model, dataset, SPEC, torch.device("cpu"))
    from training.data import Preprocess

    with torch.no_grad():
        emb = torch.nn.functional.normalize(model(Preprocess(SPEC)(dataset.chips)), dim=1)
    first = torch.nn.functional.normalize(emb[torch.from_numpy(dataset.labels) == 0].mean(0), dim=0)
    assert torch.allclose(head.weight[0], first, atol=1e-5)
