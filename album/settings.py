"""A library's settings as one typed, validated object over `Library.settings()`.

Each field is stored under its own key (`Library.set_setting`), so `face-album config`, the
Settings dialog, a scan's `--device` and the face pipeline read and write the same values.
`read` never fails on what is stored (a value this version cannot use falls back to its
default); `write` refuses a bad value with a `SettingsError` saying what is allowed. Keys other
parts own (the people API's `clustering` and `thresholds`, retrain's reference folder) are left
to them. This module imports nothing of the app, so every layer may use it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_MIN_FACE_SIZE = 40
DEVICES = ("auto", "cpu", "cuda")
DETECTOR_PRECISIONS = ("auto", "int8", "fp32")


class SettingsError(ValueError):
    """A setting refused; the message is for the user."""


class SettingsStore(Protocol):
    """What `read` and `write` need of a library (`album.library.Library` is one)."""

    def settings(self) -> dict: ...

    def set_setting(self, key: str, value: Any) -> None: ...


def _help(text: str, choices: tuple[str, ...] = ()) -> dict:
    return {"help": text, "choices": choices}


@dataclass(frozen=True)
class Settings:
    """What a library is set to; defaults where it says nothing."""

    min_face_size: int = field(
        default=DEFAULT_MIN_FACE_SIZE,
        metadata=_help(f"smallest face to find, in pixels (default {DEFAULT_MIN_FACE_SIZE})"),
    )
    device: str = field(
        default="auto",
        metadata=_help("where models run: auto, cpu or cuda (default auto)", DEVICES),
    )
    detector_precision: str = field(
        default="auto",
        metadata=_help(
            "face detector arithmetic: auto (int8 on the CPU), int8 or fp32 (default auto)",
            DETECTOR_PRECISIONS,
        ),
    )
    insightface_pack: str | None = field(
        default=None,
        metadata=_help(
            "use a local insightface pack (e.g. buffalo_l) instead of the default models; "
            "empty to go back"
        ),
    )
    insightface_root: str | None = field(
        default=None,
        metadata=_help("folder holding insightface packs (default ~/.insightface/models)"),
    )

    def __post_init__(self) -> None:
        size = self.min_face_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 100_000:
            raise SettingsError(
                f"min_face_size must be a whole number of pixels from 1 to 100000: {size!r}"
            )
        for spec in dataclasses.fields(self):
            value, choices = getattr(self, spec.name), spec.metadata["choices"]
            if choices and value not in choices:
                raise SettingsError(f"{spec.name} must be one of {', '.join(choices)}: {value!r}")
        for name in ("insightface_pack", "insightface_root"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise SettingsError(f"{name} must be text: {getattr(self, name)!r}")


KEYS = tuple(f.name for f in dataclasses.fields(Settings))
DEFAULTS = Settings()


def describe() -> dict[str, str]:
    """Each key and what it means, for `face-album config`."""
    return {f.name: f.metadata["help"] for f in dataclasses.fields(Settings)}


def parse(key: str, text: str) -> Any:
    """A value typed on a command line: "" means back to the default (None)."""
    _known(key)
    if text == "":
        return None
    if key == "min_face_size":
        try:
            return int(text)
        except ValueError as error:
            raise SettingsError(f"min_face_size must be a whole number: {text!r}") from error
    return text


def read(lib: SettingsStore) -> Settings:
    """The library's settings; a stored value this version cannot use counts as unset."""
    stored = lib.settings()
    values = {}
    for key in KEYS:
        if stored.get(key) is None:
            continue
        try:
            dataclasses.replace(DEFAULTS, **{key: stored[key]})
        except SettingsError as error:
            log.warning("ignoring the stored setting %s: %s", key, error)
        else:
            values[key] = stored[key]
    return Settings(**values)


def write(lib: SettingsStore, **changes: Any) -> Settings:
    """Validate `changes` (None: back to the default), store them, return the new settings.
    Nothing is stored when any change is refused."""
    for key in changes:
        _known(key)
    current = read(lib)
    effective = {k: getattr(DEFAULTS, k) if v is None else v for k, v in changes.items()}
    updated = dataclasses.replace(current, **effective)
    for key, value in changes.items():
        lib.set_setting(key, value)
    return updated


def check(key: str, value: Any) -> str | None:
    """Why `value` cannot be stored as `key` (None: it can; keys not typed here pass)."""
    if key not in KEYS or value is None:
        return None
    try:
        dataclasses.replace(DEFAULTS, **{key: value})
    except SettingsError as error:
        return str(error)
    return None


def _known(key: str) -> None:
    if key not in KEYS:
        raise SettingsError(f"no setting {key!r}; known: {', '.join(KEYS)}")
