"""Plain values the people API returns (never ORM objects): safe to pass to threads and Qt models."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

UNSORTED = 0  # pseudo person id for faces in no person (ids of real people start at 1)


class PeopleError(ValueError):
    """A request the people API refuses (unknown id, contradictory decision)."""


@dataclass(frozen=True)
class PersonSummary:
    id: int  # UNSORTED for the unsorted pseudo person
    name: str | None
    face_count: int
    photo_count: int
    cover_face_id: int | None
    hidden: bool
    confirmed_count: int = 0


@dataclass(frozen=True)
class FaceInfo:
    id: int
    photo_id: int
    person_id: int | None
    decision: str  # none / auto / confirmed / not_face
    box: tuple[float, float, float, float]
    quality: float


@dataclass(frozen=True)
class FacePhoto:
    """A photo shown through one of its faces (a person's photos, search results)."""

    photo_id: int
    face_id: int
    path: str
    box: tuple[float, float, float, float]
    taken_at: datetime | None


@dataclass(frozen=True)
class PhotoInfo:
    """One photo for a viewer: its file, EXIF-rotated size, date, and its faces left to right
    (false detections left out) with the names of the people they are in (None: unnamed)."""

    id: int
    path: str
    size: tuple[int, int] | None
    taken_at: datetime | None
    faces: tuple[FaceInfo, ...]
    names: dict[int, str | None]


@dataclass(frozen=True)
class SearchHit:
    face_id: int
    photo_id: int
    similarity: float
    person_id: int | None


@dataclass(frozen=True)
class PhotoHit:
    """A photo of a person: `assigned` faces belong to them; `similarity` is the best match above
    the model threshold among the photo's other faces (None when only assigned faces put it here)."""

    photo_id: int
    face_ids: tuple[int, ...]
    assigned: bool
    similarity: float | None


@dataclass(frozen=True)
class Suggestion:
    """These faces (an unnamed cluster, or one unsorted face) are probably `person_id`."""

    face_ids: tuple[int, ...]
    person_id: int
    person_name: str
    similarity: float
    source_person_id: int | None  # the unnamed cluster the faces are in, if any


@dataclass(frozen=True)
class Offer:
    """ "12 more photos may be Anna": a named person's waiting suggestions, counted."""

    person_id: int
    person_name: str
    faces: int
    suggestions: int

    def describe(self) -> str:
        photos = "1 more photo" if self.faces == 1 else f"{self.faces:,} more photos"
        return f"{photos} may be {self.person_name}"


@dataclass(frozen=True)
class ChangeSet:
    """What a mutation changed, so a view refreshes only these. `edit_id` undoes it."""

    edit_id: int | None = None
    person_ids: frozenset[int] = field(default_factory=frozenset)  # changed or created
    removed_person_ids: frozenset[int] = field(default_factory=frozenset)
    face_ids: frozenset[int] = field(default_factory=frozenset)

    def to_dict(self) -> dict:
        return {
            "edit_id": self.edit_id,
            "person_ids": sorted(self.person_ids),
            "removed_person_ids": sorted(self.removed_person_ids),
            "face_ids": sorted(self.face_ids),
        }


@dataclass(frozen=True)
class ClusterSettings:
    """Clustering knobs, stored in the library's `clustering` setting.

    threshold: average pairwise cosine for two groups to merge. None (the default): the model's
    calibrated threshold at a false-match rate of 1/N for a library of N faces
    (album/people/threshold.py), so precision holds as the library grows.
    min_size: free groups smaller than this stay unsorted. 2, measured on faces-lfw (774 of its
    1,507 people have exactly two photos, as many people in a family album do): BCubed F 0.944
    at min size 2 vs 0.887 at 3 (bench/bench_cluster_quality.py).
    k: neighbours per face in the candidate graph. 10: faces-lfw groups identically at k = 5,
    10, 15 and 30, and 100k faces group in 26.7 s at 10 vs 32.5 s at 30 (bench_search.py).
    """

    threshold: float | None = None
    min_size: int = 2
    k: int = 10

    @classmethod
    def from_setting(cls, value: dict | None) -> ClusterSettings:
        """From the stored setting; keys of older versions (e.g. `suggest_margin`) are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (value or {}).items() if k in known})
