"""Naming a person, as Google and Apple Photos do it: a name that is taken asks "same person?".

`Namer.rename(person_id, name)` looks the name up among everyone (hidden people too) on the
library thread. A new name is simply given; a name another person already has opens a question:
"Merge" (the two become one person, keeping the name: one undoable edit), "Keep both" (two
people with one name, as before) or Cancel. `names` is the list the name boxes complete from.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QStringListModel, Qt
from PySide6.QtWidgets import QCompleter, QLineEdit, QMessageBox, QWidget

from album.gui.controller import AlbumController
from album.people.types import PersonSummary


class Namer(QObject):
    """Renames through the controller, asking first when the name is already someone's."""

    def __init__(self, controller: AlbumController, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self._controller, self._parent = controller, parent_widget
        self.names = QStringListModel(self)
        self._ids: dict[str, int] = {}
        self.box: QMessageBox | None = None  # the open "same person?" question

    def set_people(self, people: list[PersonSummary]) -> None:
        """Names to complete from (the People page refreshes them)."""
        names = sorted({p.name for p in people if p.name}, key=str.casefold)
        self._ids = {p.name.casefold(): p.id for p in people if p.name}
        if names != self.names.stringList():
            self.names.setStringList(names)

    def person_named(self, name: str) -> int | None:
        """The id of the (shown) person called `name`, any case."""
        return self._ids.get(name.strip().casefold())

    def completer(self, parent: QObject) -> QCompleter:
        completer = QCompleter(self.names, parent)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        return completer

    def attach(self, edit: QLineEdit) -> None:
        """Complete `edit`'s text from the names in the library."""
        edit.setCompleter(self.completer(edit))

    def rename(self, person_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            return

        def same_named(people) -> tuple[PersonSummary | None, PersonSummary | None]:
            everyone = people.list_people(include_hidden=True)
            this = next((p for p in everyone if p.id == person_id), None)
            other = next(
                (
                    p
                    for p in everyone
                    if p.id != person_id and p.name and p.name.casefold() == name.casefold()
                ),
                None,
            )
            return this, other

        self._controller.read(same_named, lambda found: self._decide(person_id, name, *found))

    def _decide(
        self, person_id: int, name: str, this: PersonSummary | None, other: PersonSummary | None
    ) -> None:
        if this is None:
            return  # merged away meanwhile
        if other is None:
            self._controller.rename(person_id, name)
            return
        self._ask(this, other, name)

    def _ask(self, this: PersonSummary, other: PersonSummary, name: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Same person?",
            f"There is already someone called {other.name} ({_photos(other)}). "
            f"Is this the same person?",
            parent=self._parent,
        )
        box.setInformativeText(
            f"Merge puts these {_photos(this)} into {other.name}. Ctrl+Z undoes it."
        )
        merge = box.addButton(f"Merge into {other.name}", QMessageBox.ButtonRole.AcceptRole)
        both = box.addButton("No, another person", QMessageBox.ButtonRole.NoRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(merge)
        merge.clicked.connect(lambda: self._controller.merge([this.id], other.id))
        both.clicked.connect(lambda: self._controller.rename(this.id, name))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.box = box


def _photos(person: PersonSummary) -> str:
    count = person.photo_count
    return f"{count:,} photo{'s' if count != 1 else ''}"
