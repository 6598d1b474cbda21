"""Shared by the GUI tests, the GUI bench and the screenshot script: a small photo folder the fake
pipeline (tests/fakes.py) scans in a second, and a window wired to it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

# Five "people": red, and pink/orange that look like red (cosine ~0.84 under the fake embedder,
# above the suggestion floor, below the grouping threshold), plus green and blue; one lone yellow.
COLOURS = {
    "red": (220, 30, 30),
    "pink": (220, 30, 120),
    "orange": (220, 120, 30),
    "green": (30, 200, 30),
    "blue": (30, 30, 220),
    "yellow": (230, 220, 20),
}
PHOTOS = [
    ("red", "green"),
    ("red", "blue"),
    ("red",),
    ("red", "green"),
    ("pink", "green"),
    ("pink",),
    ("pink", "blue"),
    ("orange", "blue"),
    ("orange",),
    ("orange", "green"),
    ("blue", "yellow"),
]


def draw(path: Path, colours: tuple[str, ...], size: tuple[int, int] = (320, 240)) -> None:
    """White picture with one solid square per colour, side by side."""
    image = np.full((size[1], size[0], 3), 255, np.uint8)
    for i, name in enumerate(colours):
        left = 20 + i * 150
        image[60:160, left : left + 100] = COLOURS[name]
    Image.fromarray(image).save(path)


def make_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, colours in enumerate(PHOTOS):
        draw(folder / f"photo_{i:02d}.png", colours)
    return folder


def colour_count(colour: str) -> int:
    return sum(colour in photo for photo in PHOTOS)
