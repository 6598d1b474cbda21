"""'Is this Anna?': one suggestion at a time, answered with Y / N (S skips), for fast labeling."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from album.gui.controller import AlbumController
from album.gui.faces_view import FaceGrid, FaceModel
from album.gui.thumbs import ThumbnailCache
from album.people.types import PersonSummary, Suggestion

FACE = 112  # the chip cache's size: drawn 1:1, never blurred by scaling up
DONE_TEXT = "No more suggestions.\nNew ones come after the next scan, or as you name more people."


class SuggestionsPage(QWidget):
    """Walks a list of suggestions; each answer is an undoable edit; `finished` at the end."""

    finished = Signal()

    def __init__(
        self, controller: AlbumController, chips: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._controller, self._chips = controller, chips
        self._queue: list[Suggestion] = []
        self._covers: dict[int, int | None] = {}
        self._position = 0
        self.progress = QLabel()
        self.question = QLabel()
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-size: 22pt; font-weight: 600;")
        self.known = QLabel()
        self.known.setFixedSize(FACE, FACE)
        self.known.setToolTip("How this person looks so far")
        self.known_name = QLabel()
        self.known_name.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.faces = FaceModel(chips, self)
        self.grid = FaceGrid(FACE, strip=True)
        self.grid.setModel(self.faces)
        self.grid.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid.setMaximumWidth(6 * (FACE + 16))
        self.grid.setFrameShape(QFrame.Shape.NoFrame)
        self.grid.setStyleSheet("background: transparent;")
        self.hint = QLabel("Y = yes · N = no · S = skip · Ctrl+Z undoes the last answer")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.yes_button = QPushButton("Yes  (Y)")
        self.no_button = QPushButton("No  (N)")
        self.skip_button = QPushButton("Skip  (S)")
        self._layout()
        self.yes_button.clicked.connect(self.answer_yes)
        self.no_button.clicked.connect(self.answer_no)
        self.skip_button.clicked.connect(self.skip)
        for key, slot in (("Y", self.answer_yes), ("N", self.answer_no), ("S", self.skip)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        chips.ready.connect(self._on_chip)

    def _layout(self) -> None:
        known = QVBoxLayout()
        known.addWidget(self.known)
        known.addWidget(self.known_name)
        self.versus = QLabel("→")
        self.versus.setStyleSheet("font-size: 28pt; color: gray;")
        top = QHBoxLayout()
        top.addStretch(1)
        top.addLayout(known)
        top.addSpacing(24)
        top.addWidget(self.versus)
        top.addSpacing(24)
        top.addWidget(self.grid)
        top.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.yes_button, self.no_button, self.skip_button):
            button.setMinimumWidth(120)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        layout.addWidget(self.question)
        layout.addSpacing(16)
        layout.addLayout(top)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addStretch(2)

    def start(self) -> None:
        self._queue, self._position = [], 0
        self.question.setText("Looking for suggestions…")
        self._controller.read(lambda p: (p.suggestions(), p.list_people()), self._loaded)

    def _loaded(self, result: tuple[list[Suggestion], list[PersonSummary]]) -> None:
        self._queue, people = result
        self._covers = {p.id: p.cover_face_id for p in people}
        self._show_current()

    def current(self) -> Suggestion | None:
        return self._queue[self._position] if self._position < len(self._queue) else None

    def _show_current(self) -> None:
        suggestion = self.current()
        for widget in (
            self.yes_button,
            self.no_button,
            self.skip_button,
            self.grid,
            self.known,
            self.known_name,
            self.versus,
            self.hint,
        ):
            widget.setVisible(suggestion is not None)
        if suggestion is None:
            self.progress.clear()
            self.question.setText(DONE_TEXT)
            self.faces.set_faces([])
            self.known.clear()
            return
        self.progress.setText(
            f"{self._position + 1} of {len(self._queue)}  ·  similarity {suggestion.similarity:.2f}"
        )
        count = len(suggestion.face_ids)
        self.question.setText(
            f"Are these {suggestion.person_name}?"
            if count > 1
            else f"Is this {suggestion.person_name}?"
        )
        self.faces.set_faces(list(suggestion.face_ids))
        self.known.clear()
        self.known_name.setText(suggestion.person_name)
        self._on_chip(self._covers.get(suggestion.person_id))

    def _on_chip(self, face_id: object) -> None:
        suggestion = self.current()
        if (
            suggestion is None
            or face_id is None
            or face_id != self._covers.get(suggestion.person_id)
        ):
            return
        pixmap = self._chips.get(face_id)
        if pixmap is not None:
            self.known.setPixmap(
                pixmap.scaled(
                    FACE,
                    FACE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def answer_yes(self) -> None:
        suggestion = self.current()
        if suggestion is not None:
            self._controller.accept(suggestion)
            self.skip()

    def answer_no(self) -> None:
        suggestion = self.current()
        if suggestion is not None:
            self._controller.reject(suggestion)
            self.skip()

    def skip(self) -> None:
        if self.current() is None:
            return
        self._position += 1
        self._show_current()
        if self.current() is None:
            self.finished.emit()
