"""Datasets, the resumable batch plan, preprocessing from the spec, and augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from training.data import (
    ChipDataset,
    ImageFolderChips,
    Preprocess,
    SyntheticFaces,
    augment_batch,
    open_dataset,
)
from training.sampling import BatchPlan
from training.spec import ModelSpec

LABELS = np.repeat(np.arange(10), [3, 5, 8, 2, 6, 6, 7, 4, 5, 4])  # 50 chips, uneven classes


def test_batch_plan_is_a_function_of_seed_and_epoch():
    plan = BatchPlan(LABELS, batch_size=8, seed=3)
    assert len(plan) == 6
    assert plan.epoch_batches(0) == BatchPlan(LABELS, 8, seed=3).epoch_batches(0)
    assert plan.epoch_batches(0) != plan.epoch_batches(1)
    assert plan.epoch_batches(0) != BatchPlan(LABELS, 8, seed=4).epoch_batches(0)
    flat = sum(plan.epoch_batches(0), [])
    assert len(flat) == len(set(flat)) == 48  # a permutation, the partial batch dropped


def test_class_balanced_batches_hold_m_chips_of_distinct_classes():
    plan = BatchPlan(LABELS, batch_size=12, seed=0, m_per_class=4)
    for batch in plan.epoch_batches(2):
        classes, counts = np.unique(LABELS[batch], return_counts=True)
        assert len(classes) == 3 and (counts == 4).all()
    rare = [b for e in range(10) for b in plan.epoch_batches(e) if 3 in LABELS[b]]
    assert rare  # class 3 has only 2 chips: its 4 draws repeat them
    assert all(set(np.array(b)[LABELS[b] == 3]) <= set(np.flatnonzero(LABELS == 3)) for b in rare)


def test_ranks_split_the_same_global_batches():
    whole = BatchPlan(LABELS, batch_size=8, seed=1).epoch_batches(0)
    halves = [
        BatchPlan(LABELS, batch_size=4, seed=1, rank=r, world_size=2).epoch_batches(0)
        for r in (0, 1)
    ]
    assert [a + b for a, b in zip(*halves, strict=True)] == whole


def test_chip_dataset_encodes_any_labels():
    chips = np.zeros((4, 6, 6, 3), np.uint8)
    chips[2] = 200
    dataset = ChipDataset(chips, np.array(["bob", "ann", "bob", "cy"]))
    assert dataset.classes == ["ann", "bob", "cy"] and dataset.num_classes == 3
    chip, label = dataset[2]
    assert (
        chip.shape == (3, 6, 6)
        and chip.dtype == torch.uint8
        and int(chip.max()) == 200
        and label == 1
    )
    with pytest.raises(ValueError):
        ChipDataset(chips.astype(np.float32), np.zeros(4))


def test_image_folder_reads_chips_per_identity_and_resizes(tmp_path):
    for person, colour in (("ann", (255, 0, 0)), ("bob", (0, 0, 255))):
        (tmp_path / person).mkdir()
        for i in range(2):
            Image.new("RGB", (20, 20), colour).save(tmp_path / person / f"{i}.png")
    (tmp_path / "ann" / "notes.txt").write_text("not an image")
    dataset = ImageFolderChips(tmp_path, size=8)
    assert len(dataset) == 4 and dataset.classes == ["ann", "bob"]
    chip, label = dataset[3]
    assert chip.shape == (3, 8, 8) and label == 1 and chip[2].float().mean() == 255


def test_synthetic_faces_are_deterministic_and_held_out_differs():
    a, b = SyntheticFaces(3, 4, size=8, seed=2), SyntheticFaces(3, 4, size=8, seed=2)
    assert torch.equal(a[5][0], b[5][0]) and a[5][1] == 1
    held_out = SyntheticFaces(3, 4, size=8, seed=2, noise_seed=7)
    assert torch.equal(a.prototypes, held_out.prototypes) and not torch.equal(
        a[5][0], held_out[5][0]
    )
    spec = ModelSpec(name="x", backbone="x", input_size=16, alignment="none", embedding_dim=4)
    assert len(open_dataset("synthetic:5:3", spec)) == 15 and open_dataset("synthetic", spec)[0][
        0
    ].shape == (3, 16, 16)


def test_preprocess_reads_the_spec():
    spec = ModelSpec(
        name="x",
        backbone="x",
        input_size=4,
        alignment="none",
        embedding_dim=4,
        channel_order="BGR",
        mean=(10.0, 20.0, 30.0),
        std=(2.0, 4.0, 8.0),
    )
    pixels = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    pixels[:, 0] = 50  # red
    out = Preprocess(spec)(pixels)
    assert out.shape == (1, 3, 4, 4)
    assert torch.allclose(
        out[0, :, 0, 0], torch.tensor([(0 - 10) / 2, (0 - 20) / 4, (50 - 30) / 8])
    )


def test_augmentation_is_reproducible_and_flips():
    pixels = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    first = augment_batch(pixels, torch.Generator().manual_seed(0), jitter=0.0)
    again = augment_batch(pixels, torch.Generator().manual_seed(0), jitter=0.0)
    assert torch.equal(first, again)
    many = augment_batch(pixels.repeat(16, 1, 1, 1), torch.Generator().manual_seed(1), jitter=0.0)
    flipped = [torch.equal(m, pixels[i % 2].flip(2)) for i, m in enumerate(many)]
    assert any(flipped) and not all(flipped)
    jittered = augment_batch(pixels, torch.Generator().manual_seed(0), jitter=0.1)
    assert not torch.equal(jittered, first) and jittered.min() >= 0 and jittered.max() <= 255
