"""The home page: every person as a round face, plus the way to unsorted faces and suggestions.

The page owns what is done to the people it shows (rename, merge, hide; the window's menu and
keys reach them through `LibraryView`). After an edit it applies the edit's `ChangeSet` to the
grid (the people it names are read again, nobody else); the suggestion count follows in a read
of its own, one at a time, so the grid never waits for it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.controller import AlbumController
from album.gui.naming import Namer
from album.gui.people_view import PeopleModel, PeopleView
from album.gui.thumbs import ThumbnailCache
from album.people.types import UNSORTED, ChangeSet, PersonSummary

EMPTY_TEXT = "No people yet. They appear here as the scan finds faces."


class PeoplePage(QWidget):
    """Header (counts, Unsorted, Review) over the people grid; refreshes from change sets."""

    person_opened = Signal(int)
    unsorted_opened = Signal()
    review_opened = Signal()

    def __init__(
        self,
        controller: AlbumController,
        chips: ThumbnailCache,
        namer: Namer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller, self._namer = controller, namer
        self._resort = True
        self.summary = QLabel()
        self.summary.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.unsorted_button = QPushButton("Unsorted faces")
        self.review_button = QPushButton("Review suggestions")
        self.review_button.setToolTip("Answer “Is this Anna?” questions with Y / N (R)")
        self.empty = QLabel(EMPTY_TEXT)
        self.show_hidden = QCheckBox("Show hidden people")
        self.model = PeopleModel(chips, self)
        self.view = PeopleView()
        self.view.setModel(self.model)
        self.view.itemDelegate().attach_completer = namer.attach
        header = QHBoxLayout()
        header.addWidget(self.summary, 1)
        header.addWidget(self.show_hidden)
        header.addWidget(self.unsorted_button)
        header.addWidget(self.review_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.empty)
        layout.addWidget(self.view, 1)
        self.view.person_activated.connect(self.person_opened)
        self.unsorted_button.clicked.connect(self.unsorted_opened)
        self.review_button.clicked.connect(self.review_opened)
        self.show_hidden.toggled.connect(lambda _checked: self.refresh())
        self.model.rename_requested.connect(namer.rename)
        self.model.merge_requested.connect(self.ask_merge)
        self.merge_box: QMessageBox | None = None
        self.model.move_faces_requested.connect(controller.move_faces)
        self._counting = self._count_again = False
        self._add_menu()

    def _add_menu(self) -> None:
        """Right-click on the grid: the page's own actions (the window's keys in the hints)."""
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for text, key, slot in (
            ("Rename", "F2", self.rename_current),
            ("Merge selected people", "Ctrl+M", self.merge_selected),
            ("Hide / show person", "Ctrl+H", self.hide_selected),
        ):
            action = QAction(f"{text}\t{key}", self.view)
            action.triggered.connect(slot)
            self.view.addAction(action)

    def refresh(self, resort: bool = True) -> None:
        """Reload the people. `resort=False` (after an edit) keeps the tiles where they are, so
        a person just named does not jump to the front under the pointer; opening the page
        sorts again (named first, then by photo count)."""
        self._resort = self._resort or resort
        hidden = self.show_hidden.isChecked()
        self._controller.read(
            lambda p: p.list_people(include_hidden=hidden, include_unsorted=True), self._show
        )
        self.count_suggestions()

    def on_changed(self, changes: ChangeSet | None) -> None:
        """After an edit, the people it names are read again and updated in place; after
        anything larger (a scan, `None`) everything is reloaded and sorted."""
        if changes is None:
            self.refresh()
            return
        wanted = set(changes.person_ids) | {UNSORTED}
        self._controller.read(
            lambda p: p.summaries(wanted), lambda found: self._apply(changes, wanted, found)
        )
        self.count_suggestions()

    def _show(self, everyone: list[PersonSummary]) -> None:
        people = [p for p in everyone if p.id != UNSORTED]
        self.model.set_people(people, keep_order=not self._resort)
        self._resort = False
        self._show_counts(next((p for p in everyone if p.id == UNSORTED), None))

    def _apply(self, changes: ChangeSet, wanted: set[int], found: dict) -> None:
        unsorted = found.pop(UNSORTED, None)
        gone = changes.removed_person_ids | (wanted - set(found) - {UNSORTED})
        self.model.apply(found, gone, self.show_hidden.isChecked())
        self._show_counts(unsorted)

    def _show_counts(self, unsorted: PersonSummary | None) -> None:
        people = self.model.people()
        self._namer.set_people(people)
        named = sum(1 for p in people if p.name)
        self.summary.setText(f"People  ·  {len(people):,} found, {named:,} named")
        self.unsorted_button.setText(f"Unsorted faces ({unsorted.face_count if unsorted else 0:,})")
        self.empty.setVisible(not people)

    def count_suggestions(self) -> None:
        """Count the waiting suggestions off the grid's path; asked again while counting, it
        counts once more after (never two counts queued)."""
        if self._counting:
            self._count_again = True
            return
        self._counting, self._count_again = True, False
        self._controller.read(lambda p: p.suggestion_count(), self._show_suggestion_count)

    def _show_suggestion_count(self, count: int) -> None:
        self._counting = False
        self.review_button.setText(f"Review suggestions ({count:,})")
        self.review_button.setEnabled(count > 0)
        if self._count_again:
            self.count_suggestions()

    # -- what the user does to the people shown ---------------------------------------------
    def rename_current(self) -> None:
        """Edit the current tile's name in place (F2)."""
        if self.view.currentIndex().isValid():
            self.view.edit(self.view.currentIndex())

    def merge_selected(self) -> None:
        """The selected people become one (Ctrl+M), keeping a name when one of them has one."""
        chosen = set(self.selected_ids())
        people = [p for p in self.model.people() if p.id in chosen]
        if len(people) < 2:
            self._controller.message.emit("Select two or more people to merge (Ctrl+click).")
            return
        target = next((p for p in people if p.name), people[0])
        self._controller.merge([p.id for p in people if p.id != target.id], target.id)

    def hide_selected(self) -> None:
        """Hide the selected people, or show hidden ones again (Ctrl+H)."""
        chosen = set(self.selected_ids())
        for person in self.model.people():
            if person.id in chosen:
                self._controller.hide(person.id, not person.hidden)

    def ask_merge(self, sources: list[int], target: int) -> None:
        """A person dropped onto another: "Merge Unnamed (4 photos) into Anna?" before merging."""
        people = {p.id: p for p in self.model.people()}
        if target not in people or not all(s in people for s in sources):
            return
        kept = people[target].name or next(
            (people[s].name for s in sources if people[s].name), None
        )
        moving = " and ".join(describe_person(people[s]) for s in sources)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Merge people",
            f"Merge {moving} into {describe_person(people[target])}?",
            parent=self,
        )
        box.setInformativeText(
            f"They become one person{f', named {kept}' if kept else ''}. Ctrl+Z undoes it."
        )
        merge = box.addButton("Merge", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(merge)
        merge.clicked.connect(lambda: self._controller.merge(sources, target))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.merge_box = box

    def selected_ids(self) -> list[int]:
        return self.view.selected_person_ids()


def describe_person(person: PersonSummary) -> str:
    """'Anna', or 'the unnamed person with 4 photos'."""
    if person.name:
        return person.name
    count = person.photo_count
    return f"the unnamed person with {count:,} photo{'s' if count != 1 else ''}"
