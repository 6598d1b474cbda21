"""Scanning: resume, skip unchanged, moves, missing files, bad input, read-only photo folders."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

import album.scan.scanner as scanner_module
from album.library.schema import Decision, Face, Person, Photo
from tests.fakes import draw_photo
from tests.scan_support import faces_by_photo, scan


def snapshot(folder) -> dict[str, tuple]:
    return {
        str(p.relative_to(folder)): (
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    (folder / "2023" / "trip").mkdir(parents=True)
    draw_photo(folder / "a.jpg", [("red", 10, 10, 60), ("blue", 150, 50, 50)])
    draw_photo(folder / "2023" / "b.png", [("red", 100, 100, 70)])
    draw_photo(folder / "2023" / "trip" / "c.webp", [("green", 30, 40, 80)], fmt="WEBP")
    draw_photo(folder / "2023" / "d.bmp", [("yellow", 5, 5, 40)])
    draw_photo(folder / "e.tif", [("purple", 200, 100, 30)])
    frames = [Image.new("RGB", (120, 90), "white") for _ in range(2)]
    frames[0].paste((30, 200, 30), (20, 20, 70, 70))
    frames[0].save(folder / "f.gif", save_all=True, append_images=frames[1:])
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_first_scan_finds_every_face_in_every_format(library, photos):
    summary = scan(library, photos)
    assert (summary.new, summary.errors, summary.faces_found) == (6, 0, 7)
    found = faces_by_photo(library)
    assert found["a.jpg"] == [(10.0, 10.0, 70.0, 70.0), (150.0, 50.0, 200.0, 100.0)]
    assert found["f.gif"] == [(20.0, 20.0, 70.0, 70.0)]
    assert library.stats()["faces"] == 7


def test_rescan_skips_unchanged_and_never_writes_the_photo_folder(library, photos):
    before = snapshot(photos)
    scan(library, photos)
    summary = scan(library, photos)
    assert (summary.unchanged, summary.new, summary.faces_found) == (6, 0, 0)
    assert snapshot(photos) == before


def test_touched_file_with_same_bytes_keeps_its_faces(library, photos):
    scan(library, photos)
    with library.session() as s:
        ids = sorted(s.scalars(select(Face.id)))
    os.utime(photos / "a.jpg", ns=(1, 1))
    summary = scan(library, photos)
    assert (summary.changed, summary.faces_found) == (0, 0)
    with library.session() as s:
        assert sorted(s.scalars(select(Face.id))) == ids


def test_edited_photo_keeps_decisions_on_faces_still_there(library, photos):
    scan(library, photos)
    face_id = _confirm_first_face(library, "a.jpg", "Anna")
    draw_photo(photos / "a.jpg", [("red", 12, 10, 60)])  # blue face cropped out, red moved 2 px
    summary = scan(library, photos)
    assert (summary.changed, summary.faces_found) == (1, 1)
    with library.session() as s:
        faces = list(s.scalars(select(Face).join(Photo).where(Photo.relpath == "a.jpg")))
        assert [f.id for f in faces] == [face_id]
        assert faces[0].decision == Decision.CONFIRMED and faces[0].left == 12


def test_photo_replaced_by_another_persons_drops_the_decision(library, photos, caplog):
    scan(library, photos)
    face_id = _confirm_first_face(library, "a.jpg", "Anna")
    draw_photo(photos / "a.jpg", [("green", 10, 10, 60)])  # same place, another "person"
    with caplog.at_level("WARNING", logger="album.scan.store"):
        scan(library, photos)
    with library.session() as s:
        faces = list(s.scalars(select(Face).join(Photo).where(Photo.relpath == "a.jpg")))
        assert [f.id for f in faces] != [face_id] and s.get(Face, face_id) is None
        assert faces[0].decision != Decision.CONFIRMED
        assert s.scalar(select(Person).where(Person.name == "Anna")) is not None  # kept
    assert f"face {face_id}" in caplog.text and "dropped" in caplog.text


def _confirm_first_face(lib, relpath, name) -> int:
    with lib.transaction() as s:
        face = s.scalar(
            select(Face).join(Photo).where(Photo.relpath == relpath).order_by(Face.left)
        )
        person = Person(name=name, created_at=scanner_module.now())
        s.add(person)
        s.flush()
        face.person_id, face.decision = person.id, Decision.CONFIRMED
        return face.id


def test_moved_file_keeps_faces_and_names(library, photos):
    scan(library, photos)
    face_id = _confirm_first_face(library, "a.jpg", "Anna")
    (photos / "moved").mkdir()
    (photos / "a.jpg").rename(photos / "moved" / "renamed.jpg")
    summary = scan(library, photos)
    assert (summary.moved, summary.new, summary.missing) == (1, 0, 1)
    with library.session() as s:
        face = s.get(Face, face_id)
        assert face.photo.relpath == "moved/renamed.jpg" and face.photo.status == "done"
        assert s.get(Person, face.person_id).name == "Anna"


def test_deleted_file_is_missing_with_decisions_kept_then_returns(library, photos, tmp_path):
    scan(library, photos)
    face_id = _confirm_first_face(library, "a.jpg", "Anna")
    (photos / "a.jpg").rename(tmp_path / "away.jpg")
    assert scan(library, photos).missing == 1
    with library.session() as s:
        assert s.get(Face, face_id).photo.status == "missing"
        assert s.get(Face, face_id).decision == Decision.CONFIRMED
    (tmp_path / "away.jpg").rename(photos / "a.jpg")
    scan(library, photos)
    with library.session() as s:
        assert s.get(Face, face_id).photo.status == "done"


def test_bad_files_are_skipped_with_one_message_each(library, photos, monkeypatch):
    (photos / "zero.jpg").write_bytes(b"")
    (photos / "text.jpg").write_text("hello, not a jpeg")
    good = (photos / "a.jpg").read_bytes()
    (photos / "truncated.jpg").write_bytes(good[: len(good) // 3])
    Image.new("RGB", (1200, 1000)).save(photos / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500_000)  # 1.2 MP is now "too large"
    errors = []
    summary = scan(library, photos, on_error=lambda p, m: errors.append((os.path.basename(p), m)))
    assert summary.errors == 4 and summary.new == 6
    messages = dict(errors)
    assert "empty" in messages["zero.jpg"]
    assert "not an image" in messages["text.jpg"]
    assert "damaged or truncated" in messages["truncated.jpg"]
    assert "too large" in messages["bomb.png"]
    assert scan(library, photos).errors == 0  # not retried until the file changes


def test_unreadable_file_is_skipped(library, photos, monkeypatch):
    real_open = os.open

    def os_open(path, flags, *args):  # root reads anything, so permission loss is simulated
        if Path(path).name == "a.jpg":
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", os_open)
    errors = []
    summary = scan(library, photos, on_error=lambda p, m: errors.append(m))
    assert errors == ["cannot read file (Permission denied)"] and summary.new == 5


def test_symlink_loop_does_not_hang(library, photos):
    (photos / "2023" / "loop").symlink_to(photos, target_is_directory=True)
    assert scan(library, photos).new == 6


def test_exif_orientation_is_applied_before_detection(library, tmp_path):
    folder = tmp_path / "rotated"
    folder.mkdir()
    image = np.full((100, 200, 3), 255, np.uint8)
    image[10:50, 20:60] = (220, 30, 30)  # stored top-left; orientation 6 = rotate 90° clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(image).save(folder / "r.jpg", exif=exif, quality=95)
    scan(library, folder)
    (box,) = faces_by_photo(library)["r.jpg"]
    assert box == pytest.approx((50, 20, 90, 60), abs=2)  # in the upright 100x200 image
    with library.session() as s:
        assert (s.scalar(select(Photo.width)), s.scalar(select(Photo.height))) == (100, 200)


def test_big_photos_are_downscaled_and_boxes_map_back(library, photos, monkeypatch):
    monkeypatch.setattr(scanner_module, "PROCESS_MAX_SIDE", 160)  # 320x240 photos get halved
    scan(library, photos)
    assert faces_by_photo(library)["a.jpg"] == [
        (10.0, 10.0, 70.0, 70.0),
        (150.0, 50.0, 200.0, 100.0),
    ]


def test_cancel_stops_after_a_batch_and_the_next_scan_resumes(tmp_path, photos):
    from album import Library

    for i in range(40):
        draw_photo(photos / f"extra{i:02}.png", [("red", i, 10, 30)])
    reference = Library(tmp_path / "ref.db")
    scan(reference, photos)
    lib = Library(tmp_path / "lib.db")
    cancel = threading.Event()
    first = scan(lib, photos, cancel=cancel, progress=lambda p: cancel.set())
    assert first.interrupted and 0 < first.new < 46
    second = scan(lib, photos)
    assert not second.interrupted and first.new + second.new == 46
    assert faces_by_photo(lib) == faces_by_photo(reference)


def test_scan_groups_faces_and_a_rescan_joins_named_people(library, tmp_path):
    from album.people import People

    folder = tmp_path / "family"
    folder.mkdir()
    for i in range(4):
        draw_photo(folder / f"p{i}.png", [("red", 10 + 5 * i, 10, 50), ("blue", 200, 100, 40)])
    scan(library, folder)
    people = People(library)
    groups = sorted(p.face_count for p in people.list_people())
    assert groups == [4, 4]
    red = next(p for p in people.list_people() if people.person_faces(p.id)[0].box[1] == 10)
    people.name(red.id, "Anna")
    draw_photo(folder / "new.png", [("red", 60, 60, 50)])
    summary = scan(library, folder)
    (new_face,) = summary.face_ids
    assert people.faces([new_face])[new_face].person_id == red.id
