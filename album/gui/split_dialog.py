"""Split a person who mixes people: "these 12 look like one person, these 13 like another".

The person's faces come sub-grouped by `People.split_proposal`. Each group is shown whole, with
one button that splits it off (into a new person, or into the person its optional name already
belongs to); each split is one edit, undone with Ctrl+Z. The group holding the person's cover
face comes first, as the one that keeps the name (else the largest).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from album.gui.controller import AlbumController
from album.gui.faces_view import FaceGrid, FaceModel
from album.gui.naming import Namer
from album.gui.thumbs import ThumbnailCache
from album.people.split import SubGroup

CHIP = 72


class GroupSection(QWidget):
    """One sub-group: what it is, its faces, a name box and the split button."""

    def __init__(self, text: str, group: SubGroup, chips: ThumbnailCache, namer: Namer) -> None:
        super().__init__()
        self.group = group
        self.title = QLabel(text)
        self.title.setStyleSheet("font-weight: 600;")
        self.model = FaceModel(chips, self)
        self.model.set_faces(list(group.face_ids))
        self.grid = FaceGrid(CHIP)
        self.grid.setModel(self.model)
        self.grid.setDragEnabled(False)
        rows = -(-len(group.face_ids) // 10)  # ten faces to a row at the dialog's width
        self.grid.setFixedHeight(min(rows, 3) * (CHIP + 12) + 8)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Name (optional)")
        namer.attach(self.name_edit)
        self.split_button = QPushButton("Split off")
        self.split_button.setToolTip("These faces leave this person (Ctrl+Z undoes it)")
        actions = QHBoxLayout()
        actions.addWidget(self.title, 1)
        actions.addWidget(self.name_edit)
        actions.addWidget(self.split_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addLayout(actions)
        layout.addWidget(self.grid)

    def mark_done(self, where: str) -> None:
        self.title.setText(f"Split off {where}. Ctrl+Z undoes it.")
        for widget in (self.name_edit, self.split_button, self.grid):
            widget.setEnabled(False)


class SplitDialog(QDialog):
    """Proposes the sub-groups of `person_id` and splits off the ones the user picks."""

    def __init__(
        self,
        controller: AlbumController,
        chips: ThumbnailCache,
        namer: Namer,
        person_id: int,
        person_name: str,
        cover_face_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller, self._chips, self._namer = controller, chips, namer
        self.person_id, self.person_name = person_id, person_name
        self._cover = cover_face_id
        self.setWindowTitle(f"Split {person_name}")
        self.heading = QLabel("Looking at the faces…")
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.sections: list[GroupSection] = []
        self._column = QVBoxLayout()
        holder = QWidget()
        holder.setLayout(self._column)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(10 * (CHIP + 10) + 60, 600)

    def start(self) -> None:
        """Ask the core for the proposal (on the library thread); the sections follow."""
        person_id = self.person_id
        self._controller.read(lambda p: p.split_proposal(person_id), self._show)

    def _show(self, groups: list[SubGroup]) -> None:
        if len(groups) < 2:
            self.heading.setText(f"All of {self.person_name}'s faces look like one person.")
            return
        self.heading.setText(
            f"{self.person_name}'s faces look like {len(groups)} people. Split off the groups "
            f"that are someone else; the rest stays {self.person_name}."
        )
        groups = sorted(groups, key=lambda g: self._cover not in g.face_ids)  # stable
        for position, group in enumerate(groups):
            kept = self.person_name if self._cover in group.face_ids else None
            text = _describe(position, group, kept)
            section = GroupSection(text, group, self._chips, self._namer)
            section.split_button.clicked.connect(lambda _c=False, s=section: self.split_off(s))
            self._column.addWidget(section)
            self.sections.append(section)
        self._column.addStretch(1)

    def split_off(self, section: GroupSection) -> None:
        """The group leaves the person: into the person already called its name, else into a
        new person (named, if a name was typed). One edit."""
        name = section.name_edit.text().strip()
        faces = list(section.group.face_ids)
        existing = self._namer.person_named(name) if name else None
        if existing is not None and existing != self.person_id:
            self._controller.move_faces(faces, existing)
            section.mark_done(f"to {name}")
        else:
            self._controller.move_faces_to_new_person(faces, name)
            section.mark_done(f"as {name}" if name else "as a new person")


def _describe(position: int, group: SubGroup, kept: str | None = None) -> str:
    count = len(group.face_ids)
    faces = f"{count} face{'s' if count != 1 else ''}"
    if kept is not None:
        return f"These {faces} look like {kept} (the cover is one of them)"
    if position == 0:
        return f"These {faces} look like one person"
    if count == 1:
        return "This face looks like someone else"
    return f"These {faces} look like another person"
