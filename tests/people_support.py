"""The synthetic people library shared by the people, search and CLI tests (`synth` fixtures,
registered in conftest.py, and helpers).

The library is filled through the ORM with noisy unit vectors around one centre per person
(pairwise cosine ≈ 0.7 within a person, ≈ 0 ± 0.15 across), some photos holding two people.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from album.library.clock import now
from album.library.library import Library
from album.library.schema import (
    Decision,
    Embedding,
    Face,
    FaceRejection,
    Model,
    Person,
    Photo,
    Root,
)
from album.people import People

DIM = 128  # the default model's size, so a real photo's embedding can query it


@dataclass
class Synth:
    lib: Library
    model_id: int
    centres: np.ndarray
    truth: dict[int, int]  # face id -> true person index
    root_id: int
    pairs: list[list[int]]  # face ids of the photos holding two people

    def faces_of(self, who: int) -> list[int]:
        return sorted(f for f, p in self.truth.items() if p == who)


def noisy(centre: np.ndarray, rng: np.random.Generator, noise: float = 0.6) -> np.ndarray:
    v = centre + rng.normal(0, noise / np.sqrt(len(centre)), len(centre))
    return (v / np.linalg.norm(v)).astype(np.float32)


def add_photo(synth: Synth, people: list[int], rng: np.random.Generator, vectors=None) -> list[int]:
    """One photo holding one face per entry of `people` (true person indexes); returns face ids."""
    with synth.lib.transaction() as s:
        return insert_photo(s, synth, people, rng, vectors)


def insert_photo(
    s, synth: Synth, people: list[int], rng: np.random.Generator, vectors=None
) -> list[int]:
    photo = Photo(
        root_id=synth.root_id,
        relpath=f"p{len(synth.truth)}_{rng.integers(1 << 30)}.jpg",
        size=1,
        mtime_ns=1,
        status="done",
    )
    s.add(photo)
    s.flush()
    ids = []
    for slot, who in enumerate(people):
        face = Face(
            photo_id=photo.id,
            left=10.0 * slot,
            top=0.0,
            right=10.0 * slot + 8,
            bottom=8.0,
            landmarks=np.zeros((5, 2), np.float32),
            score=1.0,
            quality=50.0 + slot,
            decision=Decision.NONE,
        )
        s.add(face)
        s.flush()
        vector = noisy(synth.centres[who], rng) if vectors is None else vectors[slot]
        s.add(Embedding(face_id=face.id, model_id=synth.model_id, vector=vector))
        synth.truth[face.id] = who
        ids.append(face.id)
    return ids


def build(
    lib: Library, people: int = 8, per_person: int = 20, pairs: int = 8, seed: int = 0
) -> Synth:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people + 4, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    with lib.transaction() as s:
        model = Model(
            name="synthetic",
            backbone="test",
            active=True,
            created_at=now(),
            spec={"thresholds": {"same_person": 0.5, "suggestion": 0.4}},
        )
        root = Root(path="/nonexistent/photos", added_at=now())
        s.add_all([model, root])
        s.flush()
        synth = Synth(lib, model.id, centres, {}, root.id, [])
    with lib.transaction() as s:
        for who in range(people):
            for _ in range(per_person):
                insert_photo(s, synth, [who], rng)
        for i in range(pairs):
            synth.pairs.append(insert_photo(s, synth, [i % people, (i + 1) % people], rng))
    return synth


@pytest.fixture(scope="session")
def synth_template(tmp_path_factory) -> tuple[Path, Synth]:
    """Built and clustered once; each test gets a copy of the database file."""
    path = tmp_path_factory.mktemp("people") / "template.db"
    lib = Library(path)
    synth = build(lib)
    People(lib).recluster()
    lib.close()
    return path, synth


@pytest.fixture
def synth(synth_template, tmp_path) -> Synth:
    template_path, template = synth_template
    shutil.copyfile(template_path, tmp_path / "library.db")
    lib = Library(tmp_path / "library.db")
    yield dataclasses.replace(
        template, lib=lib, truth=dict(template.truth), pairs=[list(p) for p in template.pairs]
    )
    lib.close()


@pytest.fixture
def people(synth) -> People:
    return People(synth.lib)


def person_of(lib: Library, face_id: int) -> tuple[int | None, str]:
    with lib.session() as s:
        face = s.get(Face, face_id)
        return face.person_id, str(face.decision)


def cluster_of(people: People | None, synth: Synth, who: int) -> int:
    """The person id holding most faces of true person `who`."""
    ids = [person_of(synth.lib, f)[0] for f in synth.faces_of(who)]
    return max(set(ids), key=ids.count)


def state(lib: Library) -> tuple:
    """Everything a decision can change, for before/after comparisons."""
    with lib.session() as s:
        faces = sorted(tuple(r) for r in s.execute(select(Face.id, Face.person_id, Face.decision)))
        persons = sorted(
            tuple(r)
            for r in s.execute(select(Person.id, Person.name, Person.hidden, Person.cover_face_id))
        )
        rejections = sorted(
            tuple(r) for r in s.execute(select(FaceRejection.face_id, FaceRejection.person_id))
        )
    return faces, persons, rejections


# -- clustering ----------------------------------------------------------------------------------
