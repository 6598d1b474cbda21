"""A library set to an insightface pack scans with it (tiny generated ONNX models)."""

from __future__ import annotations

from PIL import Image
from sqlalchemy import select

from album.album import Album
from album.library.schema import Embedding, Face, FaceChip, Model
from tests.insightface_support import face_image, write_pack


def test_scan_with_a_local_insightface_pack(library, tmp_path):
    root = tmp_path / "packs"
    write_pack(root, "buffalo_l", {"det_10g.onnx": "detector", "w600k_r50.onnx": "embedder"})
    library.set_setting("insightface_pack", "buffalo_l")
    library.set_setting("insightface_root", str(root))
    library.set_setting("min_face_size", 1)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(face_image()).save(photos / "one.png")
    summary = Album(library).scan([photos], group=False)
    assert summary.new == 1 and summary.faces_found >= 1
    with library.session() as s:
        model = s.scalar(select(Model))
        assert model.name == "insightface-buffalo_l-w600k_r50" and model.active
        assert s.scalar(select(FaceChip.alignment)) == "arcface_112"
        assert s.scalar(select(FaceChip.size)) == 112
        vectors = s.scalars(select(Embedding.vector)).all()
        assert len(vectors) == len(s.scalars(select(Face.id)).all())
        assert abs(float((vectors[0] ** 2).sum()) - 1) < 1e-4
