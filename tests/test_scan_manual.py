"""A face the detector missed, drawn by the user: stored with a chip and an embedding from the
same pipeline, so search finds it like any other face."""

from __future__ import annotations

import pytest

from album.album import Album
from album.library.schema import Embedding, Face, FaceChip
from album.people import People
from tests.fakes import fake_pipeline
from tests.scan_support import photo_with_pale_face


def test_a_drawn_face_is_embedded_and_found_by_search(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo_with_pale_face(folder / "a.png", 180)
    photo_with_pale_face(folder / "b.png", 200)
    pipeline = fake_pipeline()
    Album(library).scan([folder], pipeline=pipeline)
    people = People(library)
    with library.session() as s:
        photos = {f.photo.relpath: f.photo_id for f in s.query(Face)}
        assert s.query(Face).count() == 2  # only the red faces were detected
    first = people.add_face(photos["a.png"], (178, 58, 272, 162), pipeline)
    second = people.add_face(photos["b.png"], (198, 58, 292, 162), pipeline)
    with library.session() as s:
        face = s.get(Face, first)
        assert face.photo_id == photos["a.png"] and face.box == (178, 58, 272, 162)
        assert s.get(FaceChip, first) is not None
        assert s.query(Embedding).filter_by(face_id=first).count() == 1
    hits = people.search_face(first, threshold=0.99)
    assert [h.face_id for h in hits] == [second]  # the same pale face, not a red one
    assert first in {f.id for f in people.unsorted_faces()}


def test_a_slip_of_the_mouse_is_refused(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo_with_pale_face(folder / "a.png", 180)
    Album(library).scan([folder], pipeline=fake_pipeline())
    with library.session() as s:
        photo_id = s.query(Face).first().photo_id
    with pytest.raises(ValueError, match="at least"):
        People(library).add_face(photo_id, (200, 100, 205, 104), fake_pipeline())
