"""'Move to…': pick an existing person by name, or type a new name to create one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from album.gui.people_view import person_label, sort_people
from album.people.types import UNSORTED, PersonSummary


@dataclass(frozen=True)
class Choice:
    person_id: int | None  # an existing person, or None with `new_name` set
    new_name: str | None = None


class PersonPicker(QDialog):
    """A searchable list of people; text that names nobody creates a new person."""

    def __init__(
        self,
        people: Sequence[PersonSummary],
        prompt: str,
        exclude: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a person")
        self.setMinimumWidth(380)  # room for the title and long names
        self._people = [p for p in sort_people(people) if p.id not in (UNSORTED, exclude)]
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for person in self._people:
            self.combo.addItem(
                f"{person_label(person.name)}  ({person.photo_count} photos)", person.id
            )
        self.combo.setCurrentIndex(-1)
        self.combo.lineEdit().setPlaceholderText("Type a name…")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        layout.addWidget(self.combo)
        layout.addWidget(buttons)

    def choice(self) -> Choice | None:
        text = self.combo.currentText().strip()
        index = self.combo.findText(text)
        if index >= 0:
            return Choice(self.combo.itemData(index))
        named = next((p for p in self._people if p.name and p.name.lower() == text.lower()), None)
        if named is not None:
            return Choice(named.id)
        return Choice(None, text) if text else None
