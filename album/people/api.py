"""`People`: the one object the CLI and the GUI use for people, search and corrections.

Every method opens its own transaction and returns plain values (ids, dataclasses); every
mutation returns a `ChangeSet` so a view refreshes only what changed. The vector index of the
active model is loaded lazily and kept up to date with the database on each search.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from album.library.library import GROUPING_PENDING, Library
from album.library.schema import Decision, Edit, FaceRejection, Model, Person
from album.people import assign, decisions, queries
from album.people.edits import latest_edit, undo_edit
from album.people.split import SubGroup, propose_split
from album.people.suggest import offers, suggestions
from album.people.threshold import Meaning, grouping_threshold, meaning
from album.people.types import (
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
from album.search import VectorIndex, load_index
from training.spec import Thresholds

T = TypeVar("T")
ANCHORS_PER_PERSON = 64  # faces of a person matched against the library for `person_photos`
SETTING_KEY = "clustering"
FALSE_SHOWN = 0.05  # how often a click or a unit may show a stranger (maybe photos, suggestions)
GROUPED_AT_KEY = "grouped_faces"  # faces in the library at its last full grouping
REGROUP_GROWTH = 1.1  # `update` groups everything again once the library grew by a tenth


class People:
    """People of one library under its active model (or `model_id`)."""

    def __init__(
        self, lib: Library, model_id: int | None = None, settings: ClusterSettings | None = None
    ) -> None:
        self.lib = lib
        self._model_id = model_id
        self._settings = settings
        self._index: VectorIndex | None = None

    # -- configuration ----------------------------------------------------------------------
    @property
    def model_id(self) -> int:
        model_id = self._model_id or self.lib.active_model_id()
        if model_id is None:
            raise PeopleError("no active model: scan the library first")
        return model_id

    def thresholds(self) -> Thresholds:
        """The model's calibrated thresholds, overridden by the library's `thresholds` setting."""
        with self.lib.session() as s:
            spec = Thresholds.from_dict(
                (s.get(Model, self.model_id).spec or {}).get("thresholds", {})
            )
        overrides = self.lib.settings().get("thresholds") or {}
        known = {f.name for f in dataclasses.fields(Thresholds)} - {"fmr_curve"}
        return dataclasses.replace(spec, **{k: v for k, v in overrides.items() if k in known})

    def settings(self) -> ClusterSettings:
        """Constructor settings, else the library's `clustering` setting, else defaults."""
        if self._settings is not None:
            return self._settings
        return ClusterSettings.from_setting(self.lib.settings().get(SETTING_KEY))

    def cluster_threshold(self) -> float:
        """The chosen threshold, else the model's threshold for a library of this many faces."""
        chosen = self.settings().threshold
        if chosen is not None:
            return chosen
        return grouping_threshold(self.thresholds(), len(self.index()))

    def threshold_meaning(self, threshold: float | None = None) -> Meaning:
        """What `threshold` (default: the grouping threshold) means for this library."""
        threshold = self.cluster_threshold() if threshold is None else threshold
        return meaning(self.thresholds(), threshold, len(self.index()))

    def index(self) -> VectorIndex:
        """The active model's index, refreshed from the database when embeddings changed."""
        self._index = load_index(self.lib, self.model_id, self._index)
        return self._index

    def _write(self, action: Callable[[Session], T]) -> T:
        with self.lib.transaction() as s:
            return action(s)

    # -- reading ----------------------------------------------------------------------------
    def list_people(
        self, include_hidden: bool = False, include_unsorted: bool = False
    ) -> list[PersonSummary]:
        with self.lib.session() as s:
            return queries.list_people(s, include_hidden, include_unsorted)

    def person(self, person_id: int) -> PersonSummary:
        with self.lib.session() as s:
            return queries.person_summary(s, person_id)

    def summaries(self, person_ids: Iterable[int]) -> dict[int, PersonSummary]:
        """Summaries of these people by id, hidden ones included; gone ones are left out (for
        a view applying a `ChangeSet`)."""
        with self.lib.session() as s:
            return queries.summaries(s, person_ids)

    def person_faces(self, person_id: int) -> list[FaceInfo]:
        with self.lib.session() as s:
            return queries.person_faces(s, person_id)

    def faces(self, face_ids: Iterable[int]) -> dict[int, FaceInfo]:
        """Face records by id (unknown ids are left out)."""
        with self.lib.session() as s:
            return queries.faces_info(s, face_ids)

    def photo_faces(self, photo_id: int) -> list[FaceInfo]:
        """The faces of one photo, left to right (for drawing boxes with names)."""
        with self.lib.session() as s:
            return queries.photo_faces(s, photo_id)

    def photo(self, photo_id: int) -> PhotoInfo:
        """One photo's file, size, date and faces with their people's names (for a viewer)."""
        with self.lib.session() as s:
            return queries.photo_info(s, photo_id)

    def face_photos(self, face_ids: Sequence[int], newest_first: bool = True) -> list[FacePhoto]:
        """The photos of these faces, one per photo: newest first, or else in the faces' order."""
        with self.lib.session() as s:
            return queries.face_photos(s, face_ids, newest_first)

    def unsorted_faces(self) -> list[FaceInfo]:
        with self.lib.session() as s:
            return queries.person_faces(s, queries.UNSORTED)

    def history(self, limit: int = 20) -> list[dict]:
        """The latest edits, newest first: id, action, when, undone, what."""
        with self.lib.session() as s:
            edits = s.scalars(select(Edit).order_by(Edit.id.desc()).limit(limit))
            return [
                {
                    "id": e.id,
                    "action": e.action,
                    "created_at": e.created_at,
                    "undone": e.undone,
                    **e.payload.get("detail", {}),
                }
                for e in edits
            ]

    # -- search -----------------------------------------------------------------------------
    def search_face(
        self, face_id: int, threshold: float | None = None, k: int = 200
    ) -> list[SearchHit]:
        """Faces most like this one (itself excluded), best first, cosine >= threshold
        (default: the model's same-person threshold)."""
        vector = self.index().vector(face_id)
        if vector is None:
            raise PeopleError(f"face {face_id} has no embedding for model {self.model_id}")
        return [h for h in self.search_embedding(vector, threshold, k + 1) if h.face_id != face_id][
            :k
        ]

    def search_embedding(
        self, vector: np.ndarray, threshold: float | None = None, k: int = 200
    ) -> list[SearchHit]:
        """Faces most like an embedding of the active model (e.g. from a new photo)."""
        threshold = self.thresholds().same_person if threshold is None else threshold
        index = self.index()
        vector = np.asarray(vector, np.float32).reshape(-1)
        if len(index) and len(vector) != index.dim:
            raise PeopleError(f"a {len(vector)}-d embedding cannot search this {index.dim}-d model")
        ids, sims = index.search(vector[None], k)
        keep = sims[0] >= threshold
        with self.lib.session() as s:
            info = queries.faces_info(s, ids[0][keep].tolist())
        return [
            SearchHit(fid, info[fid].photo_id, float(sim), info[fid].person_id)
            for fid, sim in zip(ids[0][keep].tolist(), sims[0][keep].tolist(), strict=True)
            if fid in info and info[fid].decision != Decision.NOT_FACE
        ]

    def person_photos(self, person_id: int, threshold: float | None = None) -> list[PhotoHit]:
        """Photos with a face assigned to the person, then "maybe" photos: a face matching one
        of theirs above `threshold` (default `maybe_threshold`; faces confirmed for someone else
        or rejected for them excluded)."""
        faces = self.person_faces(person_id)
        index = self.index()
        anchors = [
            v for v in (index.vector(f.id) for f in faces[:ANCHORS_PER_PERSON]) if v is not None
        ]
        threshold = self.maybe_threshold(len(anchors)) if threshold is None else threshold
        best = _best_similarity(index, np.stack(anchors)) if anchors else np.zeros(len(index))
        rows = np.flatnonzero(best >= threshold)
        with self.lib.session() as s:
            candidates = queries.faces_info(s, index.ids[rows].tolist())
            rejected = set(
                s.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id == person_id))
            )
        return _photo_hits(
            faces, candidates, dict(zip(index.ids[rows].tolist(), best[rows].tolist())), rejected
        )

    def maybe_threshold(self, anchors: int) -> float:
        """The bar for a "maybe" photo of a person with `anchors` faces: every face of the
        library is compared with each of them, so the pair rate must be about FALSE_SHOWN /
        (faces x anchors) for a click to show a stranger at most that often (never looser
        than `same_person`). Measured on faces-lfw (bench/bench_click_precision.py, a click on
        every labeled face): at the pair rate 1e-5 alone, 1,266 maybe photos, 6% of them the
        person, 241 clicks showing a stranger; at this bar 66, 17%, 38 clicks."""
        thresholds, comparisons = self.thresholds(), max(len(self.index()) * anchors, 1)
        found = thresholds.threshold_at(FALSE_SHOWN / comparisons)
        return thresholds.same_person if found is None else max(found, thresholds.same_person)

    def suggestion_threshold(self) -> float:
        """The bar for "Is this <name>?": each unnamed group or face is compared with every named
        person, so the pair rate must be about FALSE_SHOWN / named people (never looser than
        the spec's `suggestion`). faces-lfw, 200 groups named: 118 suggestions at 17% precision
        with the spec's bar alone, 9 at 44% with this one."""
        thresholds = self.thresholds()
        with self.lib.session() as s:
            named = s.scalar(
                select(func.count()).select_from(Person).where(Person.name.is_not(None))
            )
        found = thresholds.threshold_at(FALSE_SHOWN / max(named or 0, 1))
        return thresholds.suggestion if found is None else max(found, thresholds.suggestion)

    def split_proposal(self, person_id: int, threshold: float | None = None) -> list[SubGroup]:
        """The person's faces sub-grouped by similarity (default: at the same-person threshold;
        stray faces rejoin a group at the grouping threshold), largest group first; more than
        one group suggests the person mixes people. Writes nothing."""
        threshold = self.thresholds().same_person if threshold is None else threshold
        attach = min(threshold, self.cluster_threshold())
        return propose_split(self.person_faces(person_id), self.index(), threshold, attach)

    # -- decisions (each one undoable edit) ---------------------------------------------------
    def name(self, person_id: int, name: str | None) -> ChangeSet:
        return self._write(lambda s: decisions.name(s, person_id, name))

    def merge(self, keep_id: int, *other_ids: int) -> ChangeSet:
        """Every person in `other_ids` joins `keep_id`, as one edit (one undo)."""
        return self._write(lambda s: decisions.merge(s, keep_id, other_ids))

    def move(self, face_ids: Iterable[int], person_id: int) -> ChangeSet:
        return self._write(lambda s: decisions.move(s, list(face_ids), person_id))

    def split(self, face_ids: Iterable[int], name: str | None = None) -> ChangeSet:
        return self._write(lambda s: decisions.split(s, list(face_ids), name))

    def remove(self, face_ids: Iterable[int]) -> ChangeSet:
        return self._write(lambda s: decisions.remove(s, list(face_ids)))

    def not_a_face(self, face_ids: Iterable[int]) -> ChangeSet:
        return self._write(lambda s: decisions.not_a_face(s, list(face_ids)))

    def hide(self, person_id: int, hidden: bool = True) -> ChangeSet:
        return self._write(lambda s: decisions.hide(s, person_id, hidden))

    def set_cover(self, person_id: int, face_id: int) -> ChangeSet:
        return self._write(lambda s: decisions.set_cover(s, person_id, face_id))

    def reject(self, face_ids: int | Iterable[int], person_id: int) -> ChangeSet:
        ids = [face_ids] if isinstance(face_ids, int) else list(face_ids)
        return self._write(lambda s: decisions.reject(s, ids, person_id))

    def suggestions(self, limit: int | None = 50, person_id: int | None = None) -> list[Suggestion]:
        """ "Is this <name>?" questions, best first (only those for `person_id` if given)."""
        floor = self.suggestion_threshold()
        index = self.index()
        with self.lib.session() as s:
            found = suggestions(s, index, floor, None if person_id else limit)
        if person_id is not None:
            found = [f for f in found if f.person_id == person_id][:limit]
        return found

    def offers(self, person_id: int | None = None) -> list[Offer]:
        """The suggestions counted per named person ("12 more photos may be Anna")."""
        return offers(self.suggestions(limit=None, person_id=person_id))

    def suggestion_count(self) -> int:
        """How many suggestions wait for review (none before the first scan chose a model)."""
        if self._model_id is None and self.lib.active_model_id() is None:
            return 0
        return len(self.suggestions(limit=None))

    def accept_suggestion(self, suggestion: Suggestion) -> ChangeSet:
        """Yes: the faces become the suggested person (confirmed); an emptied cluster goes."""
        return self._write(
            lambda s: decisions.move(s, suggestion.face_ids, suggestion.person_id, "accept")
        )

    def reject_suggestion(self, suggestion: Suggestion) -> ChangeSet:
        """No: remembered per face, so this person is never suggested for them again."""
        return self._write(
            lambda s: decisions.reject(s, suggestion.face_ids, suggestion.person_id, "decline")
        )

    def add_face(self, photo_id: int, box: tuple[float, float, float, float], pipeline=None) -> int:
        """A face the scan missed, from a box drawn on the photo: embedded like a detected face
        (album.scan.manual), unsorted until named; its id. "Not a face" removes it again."""
        from album.scan.manual import add_face

        return add_face(self.lib, photo_id, box, pipeline)

    def undo(self) -> ChangeSet | None:
        """Revert the latest edit not yet undone; None when there is nothing to undo."""
        with self.lib.transaction() as s:
            edit = latest_edit(s)
            return None if edit is None else undo_edit(s, edit)

    # -- automatic placement ----------------------------------------------------------------
    def recluster(self, logged: bool = True) -> ChangeSet:
        """Full re-cluster (one undoable edit unless not `logged`); user decisions are
        constraints, never changed."""
        settings, threshold, index = self.settings(), self.cluster_threshold(), self.index()
        change = self._write(
            lambda s: assign.recluster(s, index, threshold, settings.min_size, settings.k, logged)
        )
        self.lib.set_setting(GROUPED_AT_KEY, len(index))
        return change

    def update(self) -> ChangeSet:
        """After (or during) a scan. While the library has grown by at most a tenth since its
        last full grouping, unsorted faces join existing people (`assign_new`) and the rest
        group into new unnamed people, nothing already placed moving. Past that, every face
        not confirmed is grouped again (`recluster`, not an undoable edit): groups formed when
        the library was small were formed at its lower threshold and in another order.
        Measured on faces-lfw arriving in 10 parts (bench/bench_cluster_quality.py --batches
        10): purely incremental, precision 0.936 (F 0.927); regrouping past a quarter's growth
        0.965 (F 0.941); past a tenth, as one grouping of all faces, 0.971 (F 0.943)."""
        grouped_at = self.lib.settings().get(GROUPED_AT_KEY) or 0
        if len(self.index()) > REGROUP_GROWTH * grouped_at:
            return self.recluster(logged=False)
        joined = self.assign_new()
        settings, threshold, index = self.settings(), self.cluster_threshold(), self.index()
        grouped = self._write(
            lambda s: assign.cluster_unsorted(s, index, threshold, settings.min_size, settings.k)
        )
        return ChangeSet(
            person_ids=joined.person_ids | grouped.person_ids,
            face_ids=joined.face_ids | grouped.face_ids,
        )

    def group_pending(self) -> bool:
        """`update`, if faces were stored since the last grouping finished (`GROUPING_PENDING`:
        set with each batch of faces, in the same transaction, and cleared only after grouping,
        so a kill between a scan's last batch and its grouping is repaired by the next scan)."""
        if not self.lib.settings().get(GROUPING_PENDING):
            return False
        self.update()
        self.lib.set_setting(GROUPING_PENDING, None)
        return True

    def assign_new(self, face_ids: Iterable[int] | None = None) -> ChangeSet:
        """Place new unsorted faces (default: every unsorted face) into existing people,
        without re-clustering; call it after a scan."""
        threshold, index = self.cluster_threshold(), self.index()
        ids = None if face_ids is None else list(face_ids)
        return self._write(lambda s: assign.assign_new(s, index, ids, threshold))


def _best_similarity(index: VectorIndex, anchors: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """For each index row, its highest cosine to any anchor."""
    return np.concatenate(
        [
            (index.vectors[i : i + block] @ anchors.T).max(axis=1)
            for i in range(0, len(index), block)
        ]
        or [np.zeros(0, np.float32)]
    )


def _photo_hits(
    faces: list[FaceInfo],
    candidates: dict[int, FaceInfo],
    sims: dict[int, float],
    rejected: set[int],
) -> list[PhotoHit]:
    person_id = faces[0].person_id if faces else None
    photos: dict[int, dict] = {}
    for face in faces:
        entry = photos.setdefault(face.photo_id, {"faces": [], "assigned": True, "sim": None})
        entry["faces"].append(face.id)
    for fid, face in candidates.items():
        foreign = face.decision == Decision.CONFIRMED and face.person_id != person_id
        if (
            face.person_id == person_id
            or foreign
            or fid in rejected
            or face.decision == Decision.NOT_FACE
        ):
            continue
        entry = photos.setdefault(face.photo_id, {"faces": [], "assigned": False, "sim": None})
        entry["faces"].append(fid)
        entry["sim"] = max(entry["sim"] or -1.0, sims[fid])
    hits = [PhotoHit(pid, tuple(e["faces"]), e["assigned"], e["sim"]) for pid, e in photos.items()]
    hits.sort(key=lambda h: (not h.assigned, -(h.similarity or 0.0), h.photo_id))
    return hits
