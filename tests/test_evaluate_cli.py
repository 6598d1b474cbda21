"""`python -m training evaluate` through `evaluate_cli`, with a small saved model."""

from __future__ import annotations

import argparse
import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from training import evaluate_cli
from training.export import save_model
from training.spec import ModelSpec


class MeanColour(torch.nn.Module):
    """A registry-free stand-in whose embedding is the mean colour (learnable scale)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)) * self.scale


@pytest.fixture
def saved_model(tmp_path, monkeypatch):
    """A model file + spec, loaded by `training.export.load_model` through the registry."""
    from training import backbones

    monkeypatch.setitem(backbones._MODULES, "mean_colour", __name__)
    monkeypatch.setitem(backbones._FACTORIES, "mean_colour", lambda **_: MeanColour())
    spec = ModelSpec(
        name="colour",
        backbone="mean_colour",
        input_size=8,
        alignment="dlib_chip",
        embedding_dim=3,
        mean=(127.5,) * 3,
        std=(64.0,) * 3,
    )
    weights, spec_path = save_model(MeanColour(), spec, tmp_path / "model")
    return weights, spec_path


def chips(root, people: int = 6, per_person: int = 4, size: int = 8) -> None:
    rng = np.random.default_rng(0)
    for person in range(people):
        base = rng.integers(30, 225, 3)
        folder = root / f"p{person}"
        folder.mkdir(parents=True)
        for i in range(per_person):
            colour = np.clip(base + rng.integers(-10, 11, 3), 0, 255).astype(np.uint8)
            Image.fromarray(np.broadcast_to(colour, (size, size, 3)).copy()).save(
                folder / f"{i}.png"
            )


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    evaluate_cli.add_arguments(parser)
    return evaluate_cli.run(parser.parse_args(list(argv)))


def test_chips_table_with_roc(tmp_path, saved_model, capsys):
    weights, spec = saved_model
    chips(tmp_path / "chips")
    roc = tmp_path / "roc.png"
    code = run("--model", str(weights), "--spec", str(spec), "--chips", str(tmp_path / "chips"))
    assert code == 0
    out = capsys.readouterr().out
    assert "36 same / 240 different pairs" in out and "accuracy" in out
    assert "unreliable: 240 negatives" in out and "needs at least 1000 different pairs" in out
    assert run("--model", str(weights), "--chips", str(tmp_path / "chips"), "--roc", str(roc)) == 0
    assert roc.read_bytes()[:4] == b"\x89PNG"


def test_bin_json_output(tmp_path, saved_model, capsys):
    weights, _ = saved_model
    rng = np.random.default_rng(1)
    images, issame = [], []
    for k in range(20):
        a = rng.integers(30, 225, 3)
        b = a if k % 2 else rng.integers(30, 225, 3)
        for colour in (a, b):
            image = Image.fromarray(np.broadcast_to(colour.astype(np.uint8), (12, 12, 3)).copy())
            path = tmp_path / "img.png"
            image.save(path)
            images.append(path.read_bytes())
        issame.append(bool(k % 2))
    (tmp_path / "pack.bin").write_bytes(pickle.dumps((images, issame)))
    assert run("--model", str(weights), "--bin", str(tmp_path / "pack.bin"), "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_same"] == 10 and summary["n_different"] == 10
    assert summary["accuracy_mean"] > 0.8 and summary["flip"] is True
    assert summary["thresholds"]["same_person"] >= summary["thresholds"]["suggestion"]
    assert any("12 px" in note for note in summary["notes"])  # resized to the model's 8


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--chips", "x"], "exactly one of --model or --backbone"),
        (["--backbone", "dlib_resnet"], "exactly one of --chips, --pairs or --bin"),
        (["--backbone", "dlib_resnet", "--pairs", "p.txt"], "--pairs and --images go together"),
        (["--backbone", "mbf", "--chips", "x"], "no pretrained default for 'mbf'"),
    ],
)
def test_inconsistent_arguments_are_refused(argv, message, capsys):
    assert run(*argv) == 2
    assert message in capsys.readouterr().err


def test_missing_pack_is_an_error_message(tmp_path, saved_model, capsys):
    weights, _ = saved_model
    assert run("--model", str(weights), "--bin", str(tmp_path / "absent.bin")) == 1
    assert "absent.bin" in capsys.readouterr().err
