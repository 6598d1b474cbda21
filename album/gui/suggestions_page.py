"""'Is this Anna?': one suggestion at a time, answered with Y / N (S skips), for fast labeling.

Every face a Y would add is on screen (the grid wraps and scrolls, never a one-row strip), and
any of them can be taken out first: its ✕ (or Delete on the selected faces) records "not Anna"
for those faces at once, as its own undoable edit, and Y then adds only the rest.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QMouseEvent, QPainter, QPen, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from album.gui.controller import AlbumController
from album.gui.faces_view import FaceGrid, FaceIdRole, FaceModel
from album.gui.thumb_delegate import ThumbDelegate
from album.gui.thumbs import ThumbnailCache
from album.people.types import PersonSummary, Suggestion

FACE = 112  # the chip cache's size: drawn 1:1, never blurred by scaling up
CROSS = 24  # the ✕ in a face's corner
DONE_TEXT = "No more suggestions.\nNew ones come after the next scan, or as you name more people."


def cross_rect(cell: QRect) -> QRect:
    """Where a cell's ✕ is drawn (and clicked): its top right corner."""
    return QRect(cell.right() - CROSS - 4, cell.top() + 4, CROSS, CROSS)


class CrossDelegate(ThumbDelegate):
    """A face chip with a ✕ in its corner: click it to take the face out of the question."""

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        rect = cross_rect(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawEllipse(rect)
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        inner = rect.adjusted(8, 8, -8, -8)
        painter.drawLine(inner.topLeft(), inner.bottomRight())
        painter.drawLine(inner.topRight(), inner.bottomLeft())
        painter.restore()


class SuggestedFaces(FaceGrid):
    """The faces of one suggestion, wrapping; `cross_clicked(face_id)` when a ✕ is clicked."""

    cross_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(FACE, parent=parent)
        self.setItemDelegate(CrossDelegate(FACE, self, round_placeholder=True))
        self.setDragEnabled(False)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        index = self._cross_at(event)
        if index is not None:
            self.cross_clicked.emit(index.data(FaceIdRole))
            return
        super().mouseReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._cross_at(event) is None:  # a press on a ✕ neither selects nor drags
            super().mousePressEvent(event)

    def _cross_at(self, event: QMouseEvent) -> QModelIndex | None:
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        if event.button() == Qt.MouseButton.LeftButton and index.isValid():
            if cross_rect(self.visualRect(index)).contains(pos):
                return index
        return None


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
        self.grid = SuggestedFaces()
        self.grid.setModel(self.faces)
        self.grid.setMinimumSize(3 * (FACE + 12), FACE + 16)
        self.grid.setFrameShape(QFrame.Shape.NoFrame)
        self.grid.setStyleSheet("background: transparent;")
        self.grid.cross_clicked.connect(lambda face_id: self.take_out([face_id]))
        self.take_out_hint = QLabel()
        self.take_out_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel("Y = yes · N = no · S = skip · Ctrl+Z undoes the last answer")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.yes_button = QPushButton("Yes  (Y)")
        self.no_button = QPushButton("No  (N)")
        self.skip_button = QPushButton("Skip  (S)")
        self._layout()
        self.yes_button.clicked.connect(self.answer_yes)
        self.no_button.clicked.connect(self.answer_no)
        self.skip_button.clicked.connect(self.skip)
        for key, slot in (
            ("Y", self.answer_yes),
            ("N", self.answer_no),
            ("S", self.skip),
            ("Delete", self.take_out_selected),
        ):
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
        known.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(known)
        top.addSpacing(16)
        top.addWidget(self.versus, 0, Qt.AlignmentFlag.AlignTop)
        top.addSpacing(16)
        top.addWidget(self.grid, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.yes_button, self.no_button, self.skip_button):
            button.setMinimumWidth(120)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.question)
        layout.addSpacing(8)
        layout.addLayout(top, 1)
        layout.addWidget(self.take_out_hint)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)

    def start(self, person_id: int | None = None) -> None:
        """Load the questions: all of them, or only those for `person_id` (a person page's
        "12 more photos may be Anna")."""
        self._queue, self._position = [], 0
        self.question.setText("Looking for suggestions…")
        self._controller.read(
            lambda p: (p.suggestions(person_id=person_id), p.list_people()), self._loaded
        )

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
            self.take_out_hint,
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
        name = suggestion.person_name
        self.yes_button.setText(f"Yes, all {count}  (Y)" if count > 1 else "Yes  (Y)")
        self.take_out_hint.setText(
            f"One of them is not {name}? Click its ✕ (or select it and press Delete)."
            if count > 1
            else ""
        )
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

    def take_out(self, face_ids: list[int]) -> None:
        """'Not Anna' for these faces, now (one undoable edit); the question keeps the rest."""
        suggestion = self.current()
        if suggestion is None or not face_ids:
            return
        leaving = set(face_ids)
        self._controller.reject(dataclasses.replace(suggestion, face_ids=tuple(face_ids)))
        rest = tuple(f for f in suggestion.face_ids if f not in leaving)
        if not rest:
            self.skip()
            return
        self._queue[self._position] = dataclasses.replace(suggestion, face_ids=rest)
        self._show_current()

    def take_out_selected(self) -> None:
        self.take_out(self.grid.selected_face_ids())

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
