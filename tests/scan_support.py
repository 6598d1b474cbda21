"""Shared by the scan tests (and the GUI's): a scan with the fake pipeline (tests/fakes.py), the
faces it stored, and a photo with a face the fake detector misses."""

from __future__ import annotations

import numpy as np
from PIL import Image
from sqlalchemy import select

from album.album import Album
from album.library.schema import Face, Photo
from tests.fakes import fake_pipeline


def scan(lib, folder, **kwargs):
    return Album(lib).scan([folder], pipeline=fake_pipeline(), **kwargs)


def faces_by_photo(lib) -> dict[str, list[tuple]]:
    with lib.session() as s:
        rows = s.execute(
            select(Photo.relpath, Face.left, Face.top, Face.right, Face.bottom).join(Face)
        )
        out: dict[str, list[tuple]] = {}
        for relpath, *box in rows:
            out.setdefault(relpath, []).append(tuple(round(v, 1) for v in box))
        return {k: sorted(v) for k, v in out.items()}


PALE = (250, 190, 160)  # every channel above the fake detector's cut-off: never detected


def photo_with_pale_face(path, left: int) -> None:
    image = np.full((240, 320, 3), 255, np.uint8)
    image[60:160, 20:120] = (220, 30, 30)  # a face the detector finds
    image[60:160, left : left + 90] = PALE
    Image.fromarray(image).save(path)
