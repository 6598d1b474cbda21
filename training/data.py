"""Training data: aligned face chips with integer identity labels, plus batch preprocessing.

Every dataset yields `(chip, label)` with chip a (3, S, S) uint8 RGB tensor at the model's input
size, and exposes `labels` (int64 array, 0..C-1), `num_classes` and `classes` (the original
names). Pixels stay uint8 until a whole batch is on the device: augmentation and normalization
are batched tensor ops there (`augment_batch`, `Preprocess`), with normalization read from the
ModelSpec, never hard-coded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from training.model import preprocess
from training.spec import ModelSpec

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".bmp", ".tif", ".tiff"}


def _encode_labels(labels: np.ndarray) -> tuple[np.ndarray, list]:
    classes, encoded = np.unique(np.asarray(labels), return_inverse=True)
    return encoded.astype(np.int64), classes.tolist()


class ChipDataset(torch.utils.data.Dataset):
    """Chips the app hands over: (N, S, S, 3) uint8 RGB and one label (any hashable) per chip."""

    def __init__(self, chips: np.ndarray, labels: np.ndarray):
        if chips.ndim != 4 or chips.shape[3] != 3 or chips.dtype != np.uint8:
            raise ValueError("chips must be an (N, S, S, 3) uint8 array")
        if len(chips) != len(labels):
            raise ValueError("one label per chip")
        self.chips = torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2)
        self.labels, self.classes = _encode_labels(labels)
        self.num_classes = len(self.classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.chips[index], int(self.labels[index])


class ImageFolderChips(torch.utils.data.Dataset):
    """root/<identity>/<chip image>: already-aligned chips, resized to `size` if they differ."""

    def __init__(self, root: str | Path, size: int):
        self.root, self.size = Path(root), size
        folders = sorted(p for p in self.root.iterdir() if p.is_dir())
        self.paths, names = [], []
        for folder in folders:
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    self.paths.append(path)
                    names.append(folder.name)
        if not self.paths:
            raise ValueError(f"no images under {self.root}/<identity>/")
        self.labels, self.classes = _encode_labels(np.array(names))
        self.num_classes = len(self.classes)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as image:
            image = image.convert("RGB")
            if image.size != (self.size, self.size):
                image = image.resize((self.size, self.size), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
        return torch.from_numpy(array.copy()).permute(2, 0, 1), int(self.labels[index])


class SyntheticFaces(torch.utils.data.Dataset):
    """Learnable fake identities for smoke runs and tests.

    Each identity is a smooth random prototype image (low-frequency noise upsampled, so a CNN
    sees structure, not just colour); a sample is its prototype plus per-sample pixel noise and
    a small brightness shift, generated deterministically from (noise_seed, index). The same
    `seed` with another `noise_seed` gives new samples of the same identities (a held-out set).
    """

    def __init__(
        self,
        num_classes: int = 16,
        per_class: int = 32,
        size: int = 112,
        noise: float = 40.0,
        seed: int = 0,
        noise_seed: int | None = None,
    ):
        self.size, self.noise = size, noise
        self.noise_seed = seed if noise_seed is None else noise_seed
        rng = np.random.default_rng(seed)
        coarse = torch.from_numpy(rng.uniform(0, 255, (num_classes, 3, 8, 8)).astype(np.float32))
        self.prototypes = F.interpolate(
            coarse, size=(size, size), mode="bilinear", align_corners=False
        )
        self.labels = np.repeat(np.arange(num_classes, dtype=np.int64), per_class)
        self.classes = list(range(num_classes))
        self.num_classes = num_classes

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = int(self.labels[index])
        generator = torch.Generator().manual_seed(self.noise_seed * 1_000_003 + index)
        noise = torch.randn(3, self.size, self.size, generator=generator) * self.noise
        shift = (torch.rand(1, generator=generator) - 0.5) * 40.0
        chip = (self.prototypes[label] + noise + shift).clamp(0, 255).round().to(torch.uint8)
        return chip, label


class Preprocess:
    """uint8 RGB (B, 3, S, S) -> normalized float (B, 3, input_size, input_size) per the spec."""

    def __init__(self, spec: ModelSpec):
        self.spec, self.size = spec, spec.input_size

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        """`pixels` is uint8 or float in 0..255 (float after augmentation)."""
        x = pixels.float()
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return preprocess(x, self.spec)


def augment_batch(
    pixels: torch.Tensor, generator: torch.Generator, jitter: float = 0.1
) -> torch.Tensor:
    """Random horizontal flip and brightness/contrast jitter (+-`jitter`), in 0..255 float.

    Random numbers come from `generator` (a CPU generator whose state is checkpointed), so the
    augmentation of a resumed run matches an uninterrupted one on any device.
    """
    n = pixels.shape[0]
    flip = (torch.rand(n, generator=generator) < 0.5).to(pixels.device).view(n, 1, 1, 1)
    gains = 1.0 + (torch.rand(n, 2, generator=generator) * 2 - 1) * jitter
    brightness, contrast = gains[:, 0].to(pixels.device), gains[:, 1].to(pixels.device)
    x = torch.where(flip, pixels.flip(3), pixels).float()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast.view(n, 1, 1, 1) + mean * brightness.view(n, 1, 1, 1)
    return x.clamp(0, 255)


def open_dataset(source: str, spec: ModelSpec, seed: int = 0) -> torch.utils.data.Dataset:
    """'synthetic' (16 identities x 32 chips), 'synthetic:C:N' (C identities x N chips), an
    insightface '.rec' file, or a folder of chips per identity."""
    if source.endswith(".rec"):
        from training.insightface_rec import RecDataset

        return RecDataset(source)
    if source == "synthetic" or source.startswith("synthetic:"):
        parts = source.split(":")[1:]
        classes, per_class = (int(parts[0]), int(parts[1])) if parts else (16, 32)
        return SyntheticFaces(classes, per_class, spec.input_size, seed=seed)
    return ImageFolderChips(source, spec.input_size)
