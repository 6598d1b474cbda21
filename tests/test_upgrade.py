"""A library made under an older built-in geometry (dlib_resnet_v1: centred vectors) moves to the
shipped model by re-embedding every face from its stored chip; names and decisions are kept, and
until it moves, scans keep embedding under the old model so two geometries never mix."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from album.faces.default import load_library_embedder
from album.faces.embedder import TorchEmbedder, load_default_spec
from album.library.clock import now
from album.library.library import Library
from album.library.models import ensure_model
from album.library.schema import (
    Decision,
    Embedding,
    Face,
    FaceChip,
    FaceRejection,
    Person,
    Photo,
)
from album.retrain.adopt import upgrade_default_model
from album.scan.store import encode_chip
from training.backbones import create_backbone
from training.spec import Thresholds

FACES = 8


def old_spec():
    rng = np.random.default_rng(0)
    center = tuple(float(c) for c in rng.normal(0, 0.05, 128))
    return load_default_spec().replace(
        name="dlib_resnet_v1", flip=False, center=center, thresholds=Thresholds(0.51, 0.38)
    )


@pytest.fixture
def old_library(tmp_path):
    """FACES faces under dlib_resnet_v1: face 0 confirmed as Anna, face 1 rejected for her."""
    lib = Library(tmp_path / "library.db")
    spec = old_spec()
    embedder = TorchEmbedder(spec, create_backbone(spec.backbone, pretrained=True), "cpu")
    rng = np.random.default_rng(1)
    chips = rng.integers(0, 255, (FACES, 150, 150, 3), dtype=np.uint8)
    vectors = embedder.embed(chips)
    root = lib.add_root(tmp_path)
    with lib.transaction() as s:
        model_id = ensure_model(s, spec)
        anna = Person(name="Anna", created_at=now())
        s.add(anna)
        s.flush()
        for i in range(FACES):
            photo = Photo(root_id=root, relpath=f"{i}.jpg", size=1, mtime_ns=0, status="done")
            s.add(photo)
            s.flush()
            face = Face(
                photo_id=photo.id, left=0.0, top=0.0, right=100.0, bottom=100.0,
                landmarks=np.zeros((5, 2), np.float32), score=1.0, quality=100.0,
            )  # fmt: skip
            if i == 0:
                face.person_id, face.decision = anna.id, Decision.CONFIRMED
            s.add(face)
            s.flush()
            s.add(
                FaceChip(
                    face_id=face.id, alignment="dlib_chip", size=150, image=encode_chip(chips[i])
                )
            )
            s.add(Embedding(face_id=face.id, model_id=model_id, vector=vectors[i]))
            if i == 1:
                s.add(FaceRejection(face_id=face.id, person_id=anna.id, created_at=now()))
    yield lib
    lib.close()


def test_until_upgraded_scans_embed_under_the_old_geometry(old_library):
    assert load_library_embedder(old_library, device="cpu").spec.name == "dlib_resnet_v1"


def test_upgrade_reembeds_from_chips_and_keeps_decisions(old_library):
    lib = old_library
    switched = upgrade_default_model(lib)
    assert switched is not None and switched.switched and switched.embedded == FACES
    active = lib.active_model()
    shipped = load_default_spec()
    assert active["name"] == shipped.name and active["id"] == switched.model_id
    with lib.session() as s:
        embedded = s.scalar(
            select(func.count()).select_from(Embedding).where(Embedding.model_id == active["id"])
        )
        first = s.scalar(select(Face).order_by(Face.id).limit(1))
        rejected = s.scalar(select(func.count()).select_from(FaceRejection))
        anna = s.scalar(select(Person).where(Person.name == "Anna"))
        assert first.person_id == anna.id and first.decision == Decision.CONFIRMED
        vector = s.scalar(
            select(Embedding.vector).where(
                Embedding.face_id == first.id, Embedding.model_id == active["id"]
            )
        )
    assert embedded == FACES and rejected == 1
    chip = lib_chip(lib, first.id)
    expected = TorchEmbedder(shipped, create_backbone("dlib_resnet", pretrained=True), "cpu")
    assert np.allclose(vector, expected.embed(chip[None])[0], atol=1e-5)
    assert upgrade_default_model(lib) is None  # nothing left to do
    assert load_library_embedder(lib, device="cpu").spec.name == shipped.name


def lib_chip(lib, face_id):
    from album.scan.store import decode_chip

    with lib.session() as s:
        return decode_chip(s.get(FaceChip, face_id).image)
