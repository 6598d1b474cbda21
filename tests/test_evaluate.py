"""Pair sets, flip-fused features and the evaluation run, with stub embedders and tiny chips."""

from __future__ import annotations

import io
import pickle
from math import comb

import numpy as np
import pytest
import torch
from PIL import Image

from training.evaluate import (
    bin_pairs,
    calibrated_thresholds,
    chip_folder_pairs,
    embed_images,
    evaluate_pairs,
    lfw_pairs,
    load_chip,
    model_embedder,
    parse_lfw_pairs,
    sample_different_pairs,
)
from training.spec import ModelSpec

LFW_10x300_STYLE = """2\t2
Abel_Pacheco\t1\t4
Akhmed_Zakayev\t1\t3
Abdel_Madi_Shabneh\t1\tDean_Barker\t1
Abdel_Madi_Shabneh\t1\tGiancarlo_Fisichella\t1
Abel_Pacheco\t2\t3
Akhmed_Zakayev\t2\t3
Abdel_Madi_Shabneh\t1\tAbel_Pacheco\t2
Dean_Barker\t1\tAkhmed_Zakayev\t2
"""


def parse_text(tmp_path, text: str):
    (tmp_path / "pairs.txt").write_text(text)
    return parse_lfw_pairs(tmp_path / "pairs.txt")


def test_parse_lfw_pairs_with_fold_header(tmp_path):
    pairs, folds = parse_text(tmp_path, LFW_10x300_STYLE)
    assert pairs[0] == ("Abel_Pacheco", 1, "Abel_Pacheco", 4)
    assert pairs[2] == ("Abdel_Madi_Shabneh", 1, "Dean_Barker", 1)
    assert folds.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("header", ["2\n", ""])
def test_parse_lfw_pairs_with_count_or_no_header(tmp_path, header):
    body = "A 1 2\nB 3 4\nA 1 B 2\nC 1 D 5\n"
    pairs, folds = parse_text(tmp_path, header + body)
    assert folds is None
    assert [p[0] == p[2] for p in pairs] == [True, True, False, False]
    assert pairs[3] == ("C", 1, "D", 5)


def test_parse_lfw_pairs_checks_the_header_count(tmp_path):
    with pytest.raises(ValueError, match="promises 8 pairs"):
        parse_text(tmp_path, "2 2\nA 1 2\n")
    with pytest.raises(ValueError, match="3 or 4 fields"):
        parse_text(tmp_path, "A 1\n")


def solid(rgb: tuple[int, int, int], size: int = 8) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (size, size, 3)).copy()


def save(path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


def colour_embed(chips: np.ndarray) -> np.ndarray:
    """A stub model: a chip's mean colour, centred, is its feature."""
    return chips.reshape(len(chips), -1, 3).mean(axis=1) - 127.5


def test_lfw_pairs_resolve_images_once_and_score(tmp_path):
    colours = {"Ann": (250, 10, 10), "Bob": (10, 250, 10), "Cy": (10, 10, 250)}
    for name, rgb in colours.items():
        for i, suffix in ((1, ".png"), (2, ".jpg")):
            save(tmp_path / "img" / name / f"{name}_{i:04d}{suffix}", solid(rgb))
    (tmp_path / "pairs.txt").write_text("Ann 1 2\nBob 1 2\nAnn 1 Bob 2\nCy 2 Bob 1\n")
    pairs = lfw_pairs(tmp_path / "pairs.txt", tmp_path / "img", n_folds=2)
    assert len(pairs) == 4 and len(pairs.images) == 5  # shared images listed once
    assert pairs.images[pairs.left[0]].name == "Ann_0001.png"
    report = evaluate_pairs(colour_embed, pairs, size=8)
    assert report.accuracy.mean == 1.0 and report.n_same == 2


def test_lfw_pairs_name_the_missing_image(tmp_path):
    (tmp_path / "pairs.txt").write_text("Ann 1 2\n")
    with pytest.raises(FileNotFoundError, match="Ann_0001"):
        lfw_pairs(tmp_path / "pairs.txt", tmp_path)


def chip_folder(root, sizes: dict[str, int]) -> None:
    rng = np.random.default_rng(0)
    for person, count in sizes.items():
        base = rng.integers(40, 215, 3)
        for i in range(count):
            jitter = rng.integers(-8, 9, 3)
            save(root / person / f"{i}.png", solid(tuple(int(c) for c in base + jitter)))


def test_chip_folder_pairs_all_same_and_sampled_different(tmp_path):
    chip_folder(tmp_path, {"a": 4, "b": 3, "c": 1, "d": 5})
    pairs = chip_folder_pairs(tmp_path, n_different=20, seed=3)
    labels = np.array([path.parent.name for path in pairs.images])
    assert pairs.issame.sum() == comb(4, 2) + comb(3, 2) + comb(5, 2)
    assert (~pairs.issame).sum() == 20
    assert np.all((labels[pairs.left] == labels[pairs.right]) == pairs.issame)
    keys = set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))
    assert len(keys) == len(pairs)  # no pair twice
    again = chip_folder_pairs(tmp_path, n_different=20, seed=3)
    assert np.array_equal(again.left, pairs.left) and np.array_equal(again.right, pairs.right)
    everything = chip_folder_pairs(tmp_path)  # default: as many as exist (< 1000)
    assert (~everything.issame).sum() == (13 * 13 - 16 - 9 - 1 - 25) // 2


def test_sample_different_pairs_by_rejection_on_a_large_set():
    labels = np.repeat(np.arange(500), 4)
    pairs = sample_different_pairs(labels, 300, seed=1)
    assert pairs.shape == (300, 2) and np.all(pairs[:, 0] < pairs[:, 1])
    assert np.all(labels[pairs[:, 0]] != labels[pairs[:, 1]])
    assert len({tuple(p) for p in pairs.tolist()}) == 300


def test_flip_fusion_sums_image_and_mirror_before_normalizing():
    chips = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    chips[0, :, :2] = 200  # bright left half

    def halves(batch: np.ndarray) -> np.ndarray:  # (left-half mean, right-half mean)
        grey = batch.mean(axis=3)
        return np.stack([grey[:, :, :2].mean(axis=(1, 2)), grey[:, :, 2:].mean(axis=(1, 2))], 1)

    plain = embed_images(halves, [png_bytes(chips[0])], flip=False)
    fused = embed_images(halves, [png_bytes(chips[0])], flip=True)
    np.testing.assert_allclose(plain, [[1.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(fused, [[2**-0.5, 2**-0.5]], atol=1e-6)


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_bin_pack_evaluates_and_calibrates(tmp_path):
    rng = np.random.default_rng(5)
    images, issame = [], []
    for k in range(40):
        a = rng.integers(30, 225, 3)
        b = a if k % 2 == 0 else rng.integers(30, 225, 3)
        images += [png_bytes(solid(tuple(int(c) for c in a), 12)), png_bytes(solid(tuple(b), 12))]
        issame.append(k % 2 == 0)
    (tmp_path / "tiny.bin").write_bytes(pickle.dumps((images, issame)))
    pairs = bin_pairs(tmp_path / "tiny.bin")
    assert pairs.folds.tolist() == np.repeat(np.arange(10), 4).tolist()
    report = evaluate_pairs(colour_embed, pairs, size=8)
    assert report.n_same == 20 and report.accuracy.mean > 0.9
    thresholds = calibrated_thresholds(report)
    assert thresholds.same_person == report.threshold_at(1e-3).threshold
    assert thresholds.suggestion <= thresholds.same_person
    assert load_chip(pairs.images[0], size=8).shape == (8, 8, 3)


def test_model_embedder_applies_spec_preprocessing_and_centre():
    class MeanPixel(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(2, 3))

    spec = ModelSpec(
        name="stub",
        backbone="stub",
        input_size=4,
        alignment="dlib_chip",
        embedding_dim=3,
        mean=(100.0, 100.0, 100.0),
        std=(50.0, 50.0, 50.0),
        center=(1.0, 0.0, 0.0),
    )
    embed = model_embedder(MeanPixel(), spec)
    out = embed(np.stack([solid((200, 150, 100), 4)]))
    np.testing.assert_allclose(out, [[1.0, 1.0, 0.0]], atol=1e-6)  # (2, 1, 0) - centre
