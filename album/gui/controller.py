"""`AlbumController`: one open album (`album.album.Album`), seen from the GUI.

Every read and every edit runs on the `Ops` library thread. Edits go through the people API,
which records each one for undo and returns a `ChangeSet`; the controller announces it by
`changed`, and pages refresh what they show from it (not a full reset of everything).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from album.album import Album
from album.gui.ops import Ops
from album.people import People
from album.people.types import ChangeSet, Suggestion


class AlbumController(QObject):
    """Runs `People` work off the GUI thread; `changed(ChangeSet | None)` after each edit."""

    changed = Signal(object)  # ChangeSet, or None when anything may have changed (scan, recluster)
    message = Signal(str)  # a short sentence for the status bar

    def __init__(
        self,
        album: Album,
        ops: Ops,
        parent: QObject | None = None,
        pipeline: object | None = None,
    ) -> None:
        """`pipeline`: the face pipeline for faces drawn by hand (None: the library's own,
        loaded on first use)."""
        super().__init__(parent)
        self.album, self.ops = album, ops
        self.lib, self.people = album.library, album.people
        self.can_undo = False
        self._pipeline = pipeline

    def face_pipeline(self):
        """The pipeline a drawn face is embedded with; call it on the library thread."""
        if self._pipeline is None:
            from album.faces.default import load_pipeline

            self._pipeline = load_pipeline(self.lib)
        return self._pipeline

    def read(self, fn: Callable[[People], Any], on_done: Callable[[Any], None]) -> None:
        """Run `fn(people)` on the library thread; `on_done(result)` back on the GUI thread."""
        self.ops.run(lambda: fn(self.people), on_done)

    def edit(self, done_text: str, fn: Callable[[People], ChangeSet]) -> None:
        """Run an undoable edit; say `done_text` and announce its change set when it is done."""
        self.ops.run(lambda: fn(self.people), lambda changes: self._edited(done_text, changes))

    def _edited(self, done_text: str, changes: ChangeSet | None) -> None:
        self.can_undo = True
        self.message.emit(f"{done_text}. Undo with Ctrl+Z.")
        self.changed.emit(changes)

    # -- the user's actions -----------------------------------------------------------------
    def rename(self, person_id: int, name: str) -> None:
        self.edit(f"Named {name}", lambda p: p.name(person_id, name))

    def merge(self, sources: Sequence[int], target: int) -> None:
        """Merge `sources` into `target` as one edit: one Ctrl+Z undoes all of it."""
        self.edit(f"Merged {len(sources) + 1} people", lambda p: p.merge(target, *sources))

    def move_faces(self, face_ids: Sequence[int], target: int) -> None:
        self.edit(_faces("Moved", face_ids), lambda p: p.move(list(face_ids), target))

    def move_faces_to_new_person(self, face_ids: Sequence[int], name: str) -> None:
        self.edit(_faces(f"Named {name}:", face_ids), lambda p: p.split(list(face_ids), name))

    def remove_faces(self, face_ids: Sequence[int]) -> None:
        """'Not this person': the faces leave the person and are never proposed for them again."""
        self.edit(_faces("Removed", face_ids), lambda p: p.remove(list(face_ids)))

    def not_a_face(self, face_ids: Sequence[int]) -> None:
        self.edit(_faces("Marked as not a face:", face_ids), lambda p: p.not_a_face(list(face_ids)))

    def set_cover(self, person_id: int, face_id: int) -> None:
        self.edit("Cover photo changed", lambda p: p.set_cover(person_id, face_id))

    def hide(self, person_id: int, hidden: bool = True) -> None:
        """Hide from the People grid (or show again); their faces and name are kept."""
        text = "Hidden (tick “Show hidden people” to see them)" if hidden else "Shown again"
        self.edit(text, lambda p: p.hide(person_id, hidden))

    def accept(self, suggestion: Suggestion) -> None:
        self.edit(f"Added to {suggestion.person_name}", lambda p: p.accept_suggestion(suggestion))

    def reject(self, suggestion: Suggestion) -> None:
        self.edit(f"Not {suggestion.person_name}", lambda p: p.reject_suggestion(suggestion))

    def undo(self) -> None:
        self.ops.run(lambda: self.people.undo(), self._undone)

    def _undone(self, changes: ChangeSet | None) -> None:
        self.message.emit("Undone." if changes is not None else "Nothing to undo.")
        self.can_undo = changes is not None
        self.changed.emit(changes)

    def reload(self) -> None:
        """Everything may have changed (a scan finished): every page refreshes."""
        self.changed.emit(None)


def _faces(verb: str, face_ids: Sequence[int]) -> str:
    count = len(face_ids)
    return f"{verb} {count} face{'s' if count != 1 else ''}"
