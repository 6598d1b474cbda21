"""What a scan reports while it runs and when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScanProgress:
    photos_total: int  # photos that need work in this run (new or changed)
    photos_done: int
    faces_found: int
    errors: int
    rate: float  # photos per second so far
    eta_s: float | None
    current: str  # path of the photo just finished


@dataclass
class ScanSummary:
    run_id: int = 0
    photos_seen: int = 0
    unchanged: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    missing: int = 0
    errors: int = 0
    unsupported: int = 0  # photos in a format that needs an extra not installed (HEIC, RAW)
    faces_found: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    error_files: list[tuple[str, str]] = field(default_factory=list)
    face_ids: list[int] = field(default_factory=list)  # faces added or re-detected by this run
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int | float | bool]:
        return {
            k: v
            for k, v in self.__dict__.items()
            if k not in ("error_files", "stage_seconds", "run_id", "face_ids")
        }
