"""Retrain: teach the face model the people this user named, measure it, keep it or not.

Training takes minutes, so it runs on its own thread (`album.gui.jobs.LongJob`), never on the library
thread that serves the other pages; the page shows what it will do, its progress (stage, step,
ETA, device), the before/after scores, and Keep / Discard.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from album.gui.controller import AlbumController
from album.gui.jobs import LongJob
from album.gui.scan_bar import format_eta
from album.people.types import Offer
from album.retrain import Readiness, Retrainer, RetrainReport
from album.retrain.words import detail_rows, explanation, verdict

log = logging.getLogger(__name__)

STAGES = {
    "before": "Measuring the current model",
    "train": "Training",
    "after": "Measuring the new model",
    "reembed": "Re-reading every face with the new model",
    "switch": "Switching to the new model",
}


def describe_plan(ready: Readiness, device: str, minutes: float) -> str:
    counts = ready.counts
    where = "the GPU" if device.startswith("cuda") else "the CPU"
    unseen = counts.get("unseen_people", 0)
    aside = (
        f", and {unseen} of your named people it never sees, to check it does not confuse "
        "people it was not taught"
        if unseen
        else ""
    )
    return (
        f"Face Album will fine-tune its face model on the faces you confirmed "
        f"({counts.get('train_faces', 0):,} faces of {counts.get('trained_people', 0)} people), "
        f"keeping {counts.get('test_faces', 0):,} aside to measure it{aside}, for at most "
        f"{minutes:.0f} minutes on {where}. Your current model stays in use unless the new one "
        "is better and you choose to keep it."
    )


def describe_offers(offers: list[Offer], shown: int = 3) -> str:
    """ "12 more photos may be Anna, 5 more may be Ben and 2 more people have some"."""
    if not offers:
        return "No more photos of your named people to review for now."
    parts = [offers[0].describe()] + [
        f"{o.faces:,} may be {o.person_name}" for o in offers[1:shown]
    ]
    rest = len(offers) - shown
    if rest > 0:
        parts.append(f"{rest} more {'person has' if rest == 1 else 'people have'} some")
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{text}. Say yes or no to each to add them."


class RetrainPage(QWidget):
    review_opened = Signal()  # the suggestions a kept model brought

    def __init__(self, controller: AlbumController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._retrainer: Retrainer | None = None
        self._report: RetrainReport | None = None
        self._job: LongJob | None = None
        self._stage_started = (None, 0.0)
        self.title = QLabel("Teach Face Album your family's faces")
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.plan = QLabel()
        self.plan.setWordWrap(True)
        self.start_button = QPushButton("Start retraining")
        self.cancel_button = QPushButton("Cancel")
        self.stage = QLabel()
        self.bar = QProgressBar()
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet("font-size: 12pt;")
        self.explained = QLabel()
        self.explained.setWordWrap(True)
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setFlat(True)
        self.scores = QTableWidget(0, 2)
        self.scores.setHorizontalHeaderLabels(["Current model", "New model"])
        self.scores.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.scores.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.scores.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.scores.setMaximumWidth(900)
        self.keep_button = QPushButton("Keep the new model")
        self.discard_button = QPushButton("Discard it")
        self.review_button = QPushButton("Review them")
        self._layout()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.keep_button.clicked.connect(self.keep)
        self.discard_button.clicked.connect(self.discard)
        self.review_button.clicked.connect(self.review_opened)
        self.details_button.toggled.connect(self.scores.setVisible)

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.review_button)
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        details = QHBoxLayout()
        details.addWidget(self.details_button)
        details.addStretch(1)
        for widget in (self.title, self.plan, self.stage, self.bar, self.verdict, self.explained):
            layout.addWidget(widget)
        layout.addLayout(details)
        layout.addWidget(self.scores)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self._show_idle()

    def _show_idle(self) -> None:
        for widget in (
            self.cancel_button,
            self.bar,
            self.stage,
            self.scores,
            self.details_button,
            self.explained,
            self.review_button,
            self.keep_button,
            self.discard_button,
        ):
            widget.hide()
        self.verdict.clear()

    def refresh(self) -> None:
        """Check whether there is enough to learn from (on the library thread)."""
        if self._job is not None and self._job.isRunning():
            return
        self.start_button.setEnabled(False)
        self.plan.setText("Checking the faces you confirmed…")
        album = self._controller.album

        def check(_people):
            retrainer = album.retrainer()
            return retrainer, retrainer.readiness()

        self._controller.read(check, self._show_readiness)

    def _show_readiness(self, result: tuple[Retrainer, Readiness]) -> None:
        self._retrainer, ready = result
        if ready.ok:
            self.plan.setText(describe_plan(ready, self._retrainer.device, self._retrainer.budget))
        else:
            self.plan.setText(
                f"Not yet: {ready.reason}. Name people and confirm their faces, then come back."
            )
        self.start_button.setEnabled(ready.ok)

    def start(self) -> None:
        if self._retrainer is None:
            return
        retrainer = self._retrainer
        self._run_job(lambda progress, cancel: retrainer.run(progress, cancel), self._trained)

    def keep(self) -> None:
        retrainer, report = self._retrainer, self._report
        if retrainer is not None and report is not None:
            self._run_job(
                lambda progress, cancel: retrainer.adopt(report, progress, cancel), self._kept
            )

    def discard(self) -> None:
        retrainer, report = self._retrainer, self._report
        if retrainer is not None and report is not None:
            self._controller.read(
                lambda _people: retrainer.discard(report), lambda _none: self._discarded()
            )

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel.set()
            self.stage.setText("Stopping after the current step…")

    def _run_job(self, fn, on_done) -> None:
        self._job = LongJob(fn, self)
        self._job.progress.connect(self._on_progress)
        self._job.done.connect(on_done)
        self._job.failed.connect(self._on_failed)
        for widget in (self.keep_button, self.discard_button):
            widget.hide()
        self.start_button.setEnabled(False)
        for widget in (self.cancel_button, self.bar, self.stage):
            widget.show()
        self.bar.setRange(0, 0)
        self._job.start()

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self._stage_started[0] != stage:
            self._stage_started = (stage, now)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        text = f"{STAGES.get(stage, stage)}: {done:,} of {total:,}"
        elapsed = now - self._stage_started[1]
        if stage == "train" and done > 0:
            text += f"  ·  {format_eta(elapsed / done * (total - done))}"
        device = self._retrainer.device if self._retrainer else "cpu"
        self.stage.setText(f"{text}  ·  on {'GPU' if device.startswith('cuda') else 'CPU'}")

    def _trained(self, report: RetrainReport) -> None:
        self._report = report
        self.cancel_button.hide()
        self.bar.hide()
        if report.after is None:
            self.stage.setText(f"Stopped: {report.reason}.")
            self.start_button.setEnabled(True)
            return
        self.stage.setText(f"Finished in {report.seconds / 60:.1f} minutes.")
        self._show_scores(report)
        self.keep_button.setEnabled(report.improved)
        self.keep_button.show()
        self.discard_button.show()

    def _show_scores(self, report: RetrainReport) -> None:
        """The verdict in words; the numbers behind it under Details (closed until asked)."""
        rows = detail_rows(report)
        self.scores.setRowCount(len(rows))
        self.scores.setVerticalHeaderLabels([label for label, _, _ in rows])
        for row, (_label, old, new) in enumerate(rows):
            for col, text in enumerate((old, new)):
                self.scores.setItem(row, col, QTableWidgetItem(text))
        self.scores.resizeColumnsToContents()
        self.verdict.setText(verdict(report))
        self.explained.setText("\n".join(explanation(report)))
        self.explained.show()
        self.details_button.setChecked(False)
        self.scores.hide()
        self.details_button.show()

    def _kept(self, _switched: object) -> None:
        self._finish(
            "The new model is in use. Faces were re-read with it, and your names are kept."
        )
        self._controller.reload()
        self._controller.read(lambda people: people.offers(), self._show_offers)

    def _show_offers(self, offers: list[Offer]) -> None:
        """What the new model brings: more photos of the named people, to say yes or no to."""
        self.explained.setText(describe_offers(offers))
        self.explained.show()
        self.review_button.setVisible(bool(offers))

    def _discarded(self) -> None:
        self._finish("Discarded. The current model stays in use.")

    def _finish(self, text: str) -> None:
        self._report = None
        self._show_idle()
        self.verdict.setText(text)
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self.cancel_button.hide()
        self.bar.hide()
        self.stage.setText(f"Retraining stopped: {message}")
        self.start_button.setEnabled(True)

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.cancel.set()
            self._job.wait()
