"""A hostile world: files that are not what they claim, names that are not UTF-8, decoders that
fail in odd ways, a kill after the last batch, a second scan, a damaged cache. Nothing stops a
scan, nothing is lost, the photo folder is never written. All files are generated here."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

import album.scan.scanner as scanner_module
from album import Library
from album.album import Album
from album.imaging import MAX_FILE_BYTES, Decoded, ImageError, decode
from album.library.schema import Face, Photo, PhotoStatus
from album.scan.lock import scan_lock
from tests.fakes import draw_photo, fake_pipeline
from tests.test_scan import scan, snapshot

REPO = Path(__file__).resolve().parents[1]


def _png_bytes(size=(96, 72)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, "white")
    image.paste((220, 30, 30), (10, 10, 50, 50))
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def hostile(tmp_path) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir()
    draw_photo(folder / "good.png", [("red", 10, 10, 60)])
    good_jpg = io.BytesIO()
    Image.open(folder / "good.png").save(good_jpg, format="JPEG")
    (folder / "trunc.jpg").write_bytes(good_jpg.getvalue()[:300])
    (folder / "random.jpg").write_bytes(random.Random(1).randbytes(4000))
    (folder / "zero.png").write_bytes(b"")
    (folder / "header.avif").write_bytes(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 64)
    os.mkfifo(folder / "fifo.jpg")
    (folder / "dangling.jpg").symlink_to(folder / "nowhere.jpg")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    with open(folder / "huge.jpg", "wb") as handle:  # sparse: takes no disk
        handle.truncate(MAX_FILE_BYTES + 1)
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.png"), "wb") as handle:
        handle.write((folder / "good.png").read_bytes())
    (folder / "esc\x1b[31m\nforged.png").write_bytes((folder / "good.png").read_bytes())
    return folder


def test_hostile_folder_scans_to_the_end(library, hostile):
    before = snapshot(hostile)
    errors: dict[str, str] = {}
    summary = scan(library, hostile, on_error=lambda p, m: errors.setdefault(Path(p).name, m))
    names = {"trunc.jpg", "random.jpg", "zero.png", "header.avif", "huge.jpg"}
    assert names <= set(errors), errors
    assert "too big" in errors["huge.jpg"]
    assert summary.new == 3 and summary.faces_found == 3  # good, café and the ESC name
    assert snapshot(hostile) == before
    again = scan(library, hostile)
    assert again.errors == 0 and again.new == 0  # failures are not retried until they change
    (hostile / "random.jpg").write_bytes(b"still not a photo")
    assert scan(library, hostile).errors == 1


def test_non_utf8_name_is_stored_losslessly(library, hostile):
    scan(library, hostile)
    with library.session() as s:
        rows = dict(s.execute(select(Photo.relpath, Photo.id)).all())
    name = os.fsdecode(b"caf\xe9.png")
    assert name in rows
    path = library.photo_path(rows[name])
    assert os.fsencode(path).endswith(b"caf\xe9.png") and path.is_file()


def test_any_decoder_exception_is_that_files_error(library, hostile, monkeypatch):
    real = scanner_module.decode

    def flaky(data, name, max_side=None):
        if name == "good.png":
            raise RuntimeError("plugin bug")
        return real(data, name, max_side)

    monkeypatch.setattr(scanner_module, "decode", flaky)
    errors = {}
    scan(library, hostile, on_error=lambda p, m: errors.setdefault(Path(p).name, m))
    assert "plugin bug" in errors["good.png"]


def test_a_photo_the_pipeline_fails_on_is_skipped_alone(library, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for i in range(4):
        draw_photo(folder / f"{i}.png", [("red", 10, 10, 40)], size=(320 + i, 240))
    pipeline = fake_pipeline()
    real = pipeline.process_batch

    def picky(images):
        if any(image.shape[1] == 323 for image in images):
            raise ValueError("detector bug")
        return real(images)

    pipeline.process_batch = picky
    errors = []
    summary = Album(library).scan(
        [folder], pipeline=pipeline, on_error=lambda p, m: errors.append(p)
    )
    assert [Path(p).name for p in errors] == ["3.png"] and summary.new == 3


def _mutations(seed: bytes, rng: random.Random, count: int):
    for _ in range(count):
        data = bytearray(seed)
        kind = rng.randrange(4)
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            data = data[: rng.randrange(1, len(data))]
        elif kind == 2:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 64))
        else:
            at = rng.randrange(len(data))
            data[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff"])
        yield bytes(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP", "AVIF"])
def test_fuzzed_decodes_return_an_image_or_image_error(fmt):
    """Bounded, seeded fuzz of the loader: 60 mutants per format, ~1 s in all."""
    out = io.BytesIO()
    Image.open(io.BytesIO(_png_bytes())).save(out, format=fmt)
    rng = random.Random(fmt)
    for data in _mutations(out.getvalue(), rng, 60):
        try:
            decoded = decode(data, f"x.{fmt.lower()}", 64)
        except ImageError:
            continue
        assert isinstance(decoded, Decoded) and decoded.rgb.dtype == np.uint8
        assert decoded.rgb.ndim == 3 and decoded.rgb.shape[2] == 3


def _people_faces(lib) -> int:
    with lib.session() as s:
        return s.scalar(select(func.count()).select_from(Face).where(Face.person_id.is_not(None)))


KILL_AFTER_LAST_BATCH = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {repo!r})
    from album import Album
    from album.people import People
    from tests.fakes import fake_pipeline
    People.update = lambda self: os._exit(137)  # killed right after the last commit
    Album({db!r}).scan([{folder!r}], pipeline=fake_pipeline())
    """
)


def test_kill_after_the_last_batch_is_grouped_by_the_next_scan(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for i in range(6):
        draw_photo(folder / f"{i}.png", [("red", 10, 10, 50), ("blue", 150, 60, 50)])
    db = tmp_path / "lib.db"
    script = KILL_AFTER_LAST_BATCH.format(repo=str(REPO), db=str(db), folder=str(folder))
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert child.returncode == 137, child.stderr.decode()
    with Library(db) as lib:
        assert _people_faces(lib) == 0  # the faces are stored, the grouping never ran
        summary = scan(lib, folder)
        assert summary.new == 0 and _people_faces(lib) == 12
        assert not lib.settings().get("grouping_pending")


def test_second_scan_of_one_library_is_refused_in_one_line(tmp_path, library):
    folder = tmp_path / "p"
    folder.mkdir()
    draw_photo(folder / "a.png", [("red", 10, 10, 50)])
    with scan_lock(library.data_dir):
        done = subprocess.run(
            [sys.executable, "-m", "album", "--library", str(library.path), "scan", str(folder)],
            cwd=REPO,
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == [
        "face-album: another scan of this library is running; wait for it to finish"
    ]
    assert scan(library, folder).new == 1  # the lock went with its holder


def test_damaged_index_cache_is_rebuilt(library, tmp_path):
    from album.search.store import index_path, load_index

    folder = tmp_path / "p"
    folder.mkdir()
    draw_photo(folder / "a.png", [("red", 10, 10, 50), ("blue", 150, 60, 50)])
    scan(library, folder)
    model_id = library.active_model_id()
    path = index_path(library, model_id)
    for garbage in (b"", b"PK\x03\x04 not a zip", random.Random(2).randbytes(3000)):
        path.write_bytes(garbage)
        assert len(load_index(library, model_id)) == 2
    assert load_index(library, model_id) is not None and path.stat().st_size > 100


def test_stored_bad_min_face_size_is_ignored(library):
    with library.transaction() as s:
        from album.library.schema import Setting

        s.merge(Setting(key="min_face_size", value={"v": 0}))
    assert "min_face_size" not in library.settings()
    with pytest.raises(Exception, match="min_face_size must be"):
        library.set_setting("min_face_size", -5)


def test_photo_status_error_row_for_each_bad_file(library, hostile):
    scan(library, hostile)
    with library.session() as s:
        errors = s.scalar(
            select(func.count()).select_from(Photo).where(Photo.status == PhotoStatus.ERROR)
        )
    assert errors == 5


def test_photos_needing_a_missing_extra_are_reported_not_ignored(library, tmp_path):
    from album.imaging import missing_extras

    if ".heic" not in missing_extras():
        pytest.skip("pillow-heif is installed")
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "a.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (folder / "b.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    lines = []
    summary = scan(library, folder, on_error=lambda p, m: lines.append(f"{p}: {m}"))
    assert summary.unsupported == 2 and summary.errors == 0
    assert lines == [
        "2 .heic file(s): not read: install the `heif` extra (pip install 'face-album[heif]')"
    ]
