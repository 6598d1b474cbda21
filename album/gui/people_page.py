"""The home page: every person as a round face, plus the way to unsorted faces and suggestions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from album.gui.controller import AlbumController, suggestion_count
from album.gui.naming import Namer
from album.gui.people_view import PeopleModel, PeopleView
from album.gui.thumbs import ThumbnailCache
from album.people.types import UNSORTED, PersonSummary

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

    def refresh(self, resort: bool = True) -> None:
        """Reload the people. `resort=False` (after an edit) keeps the tiles where they are, so
        a person just named does not jump to the front under the pointer; opening the page
        sorts again (named first, then by photo count)."""
        self._resort = self._resort or resort
        hidden = self.show_hidden.isChecked()
        self._controller.read(
            lambda p: (
                p.list_people(include_hidden=hidden, include_unsorted=True),
                suggestion_count(p),
            ),
            self._show,
        )

    def _show(self, result: tuple[list[PersonSummary], int]) -> None:
        everyone, suggestions = result
        people = [p for p in everyone if p.id != UNSORTED]
        unsorted = next((p.face_count for p in everyone if p.id == UNSORTED), 0)
        self.model.set_people(people, keep_order=not self._resort)
        self._resort = False
        self._namer.set_people(people)
        named = sum(1 for p in people if p.name)
        self.summary.setText(f"People  ·  {len(people):,} found, {named:,} named")
        self.unsorted_button.setText(f"Unsorted faces ({unsorted:,})")
        self.review_button.setText(f"Review suggestions ({suggestions:,})")
        self.review_button.setEnabled(suggestions > 0)
        self.empty.setVisible(not people)

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
