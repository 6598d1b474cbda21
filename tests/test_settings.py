"""The typed library settings: defaults, validation on write, tolerance on read, one source."""

from __future__ import annotations

import pytest

from album import settings
from album.library.db import LibraryError
from album.settings import Settings, SettingsError


def test_an_empty_library_has_the_defaults(library):
    assert settings.read(library) == Settings()
    assert Settings().min_face_size == settings.DEFAULT_MIN_FACE_SIZE
    assert (Settings().device, Settings().detector_precision) == ("auto", "auto")


def test_write_stores_what_read_returns(library):
    written = settings.write(library, min_face_size=80, device="cpu", detector_precision="fp32")
    assert written == settings.read(library)
    assert (written.min_face_size, written.device, written.detector_precision) == (
        80,
        "cpu",
        "fp32",
    )
    assert library.settings()["min_face_size"] == 80  # one key each, as `face-album config` shows
    assert settings.write(library, device=None).device == "auto"  # None: back to the default
    assert settings.read(library).min_face_size == 80


@pytest.mark.parametrize(
    "change",
    [
        {"min_face_size": 0},
        {"min_face_size": "40"},
        {"min_face_size": True},
        {"device": "gpu"},
        {"detector_precision": "int4"},
        {"insightface_pack": 3},
        {"colour": "blue"},
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_stored(library, change):
    settings.write(library, device="cpu")
    with pytest.raises(SettingsError):
        settings.write(library, **{"detector_precision": "fp32", **change})
    assert settings.read(library) == Settings(device="cpu")


def test_a_stored_value_this_version_cannot_use_counts_as_unset(library):
    from album.library.schema import Setting

    with library.transaction() as s:  # e.g. written by a newer version: set_setting refuses it
        s.merge(Setting(key="device", value={"v": "tpu"}))
    library.set_setting("min_face_size", 30)
    with pytest.raises(LibraryError, match="device must be one of auto, cpu, cuda"):
        library.set_setting("device", "tpu")
    library.set_setting("clustering", {"threshold": 0.9})  # another part's key: left alone
    assert settings.read(library) == Settings(min_face_size=30)


def test_parse_reads_a_command_line_value():
    assert settings.parse("min_face_size", "24") == 24
    assert settings.parse("device", "cuda") == "cuda"
    assert settings.parse("insightface_pack", "") is None
    with pytest.raises(SettingsError):
        settings.parse("min_face_size", "big")
    with pytest.raises(SettingsError):
        settings.parse("colour", "blue")
    assert set(settings.describe()) == set(settings.KEYS)


def test_the_face_pipeline_follows_the_settings(library):
    from album.faces.default import load_pipeline

    settings.write(library, min_face_size=90, device="cpu")
    detector = load_pipeline(library, embed=False).detector
    assert detector.min_face_size == 90 and str(detector.device) == "cpu"
    assert load_pipeline(library, min_face_size=50, embed=False).detector.min_face_size == 50
