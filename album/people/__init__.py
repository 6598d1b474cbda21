"""People: clustering faces into people, the user's decisions about them, search and suggestions.

Front door: `People(lib)`; see `album.people.api`. Pure clustering lives in `album.people.cluster`.
"""

from album.people.api import People
from album.people.types import (
    UNSORTED,
    ChangeSet,
    ClusterSettings,
    FaceInfo,
    FacePhoto,
    Offer,
    PeopleError,
    PersonSummary,
    PhotoHit,
    PhotoInfo,
    SearchHit,
    Suggestion,
)

__all__ = [
    "UNSORTED",
    "ChangeSet",
    "ClusterSettings",
    "FaceInfo",
    "FacePhoto",
    "Offer",
    "People",
    "PeopleError",
    "PersonSummary",
    "PhotoHit",
    "PhotoInfo",
    "SearchHit",
    "Suggestion",
]
