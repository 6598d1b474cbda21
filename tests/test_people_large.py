"""Decisions over more faces than one SQLite statement may bind, each undone exactly.

SQLite builds before 3.32 (and builds that keep the old default) cap bound parameters at 999;
the connection here is held to that cap so an unbatched `IN (...)` fails loudly.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from sqlalchemy import event, func, select

from album.library.clock import now
from album.library.library import Library
from album.library.schema import Decision, Face, FaceRejection, Model, Person, Photo, Root
from album.people import People

MANY = 1200  # faces per person: more than the 999 parameters one statement may bind


def _cap_parameters(dbapi_conn, _record) -> None:
    dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)


def _fill_person(lib: Library, name: str | None) -> int:
    """A person with MANY confirmed faces, one photo each, inserted with Core executemany."""
    with lib.transaction() as s:
        person = Person(name=name, hidden=False, created_at=now())
        s.add(person)
        s.flush()
        first = (s.scalar(select(func.max(Face.id))) or 0) + 1
        ids = range(first, first + MANY)
        photo = {"root_id": 1, "size": 1, "mtime_ns": 1, "status": "done"}
        s.execute(
            Photo.__table__.insert(), [{"id": i, "relpath": f"{i}.jpg", **photo} for i in ids]
        )
        face = {
            **{"left": 0, "top": 0, "right": 9, "bottom": 9, "score": 1.0, "quality": 9.0},
            "landmarks": np.zeros((5, 2), np.float32),
            "person_id": person.id,
            "decision": Decision.CONFIRMED,
        }
        s.execute(Face.__table__.insert(), [{"id": i, "photo_id": i, **face} for i in ids])
        return person.id


@pytest.fixture
def lib(tmp_path):
    lib = Library(tmp_path / "library.db")
    event.listen(lib.engine, "connect", _cap_parameters)
    lib.engine.dispose()  # every connection from now on has the cap
    with lib.transaction() as s:
        s.add_all(
            [
                Root(id=1, path="/nonexistent", added_at=now()),
                Model(name="m", backbone="test", active=True, created_at=now(), spec={}),
            ]
        )
    yield lib
    lib.close()


def _state(lib: Library) -> tuple:
    with lib.session() as s:
        faces = sorted(tuple(r) for r in s.execute(select(Face.id, Face.person_id, Face.decision)))
        persons = sorted(tuple(r) for r in s.execute(select(Person.id, Person.name)))
        rejections = sorted(
            tuple(r) for r in s.execute(select(FaceRejection.face_id, FaceRejection.person_id))
        )
    return faces, persons, rejections


def _faces(people: People, person_id: int) -> list[int]:
    return [f.id for f in people.person_faces(person_id)]


def test_the_cap_is_in_force(lib):
    with lib.session() as s, pytest.raises(Exception, match="too many SQL variables"):
        s.scalars(select(Face.id).where(Face.id.in_(range(1000)))).all()


def test_edits_over_many_faces_apply_and_undo(lib):
    people = People(lib)
    ann, bob = _fill_person(lib, "Ann"), _fill_person(lib, None)
    ann_faces, bob_faces = _faces(people, ann), _faces(people, bob)
    before = _state(lib)
    edits = [
        (lambda: people.merge(ann, bob), lambda: _faces(people, ann) == ann_faces + bob_faces),
        (lambda: people.move(bob_faces, ann), lambda: len(_faces(people, ann)) == 2 * MANY),
        (lambda: people.split(ann_faces, "Cleo"), lambda: _faces(people, ann) == []),
        (lambda: people.remove(bob_faces), lambda: len(people.unsorted_faces()) == MANY),
        (lambda: people.not_a_face(ann_faces), lambda: _faces(people, ann) == []),
        (lambda: people.name(bob, "Bob"), lambda: people.person(bob).name == "Bob"),
    ]
    for edit, done in edits:
        edit()
        assert done()
        people.undo()
        assert _state(lib) == before
