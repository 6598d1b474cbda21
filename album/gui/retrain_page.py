"""Retrain: teach the face model the people this user named, measure it, keep it or not.

Training takes minutes, so it runs on its own thread (`album.gui.jobs.LongJob`), never on the library
thread that serves the other pages; the page shows what it will do, its progress (stage, step,
ETA, device), the before/after scores, and Keep / Discard.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtWidgets import (
    QHBoxLayout,
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
from album.retrain import Readiness, Retrainer, RetrainReport

log = logging.getLogger(__name__)

STAGES = {
    "before": "Measuring the current model",
    "train": "Training",
    "after": "Measuring the new model",
    "reembed": "Re-reading every face with the new model",
    "switch": "Switching to the new model",
}
ROWS = [
    ("identification", "Named faces recognised (held-out photos)"),
    ("recall_at_threshold", "Found at the grouping threshold"),
    ("false_merge_rate", "Strangers wrongly grouped (lower is better)"),
    ("tar_at_far_1e3", "Verification at 1 wrong match in 1,000"),
]


def describe_plan(ready: Readiness, device: str, minutes: float) -> str:
    counts = ready.counts
    where = "the GPU" if device.startswith("cuda") else "the CPU"
    return (
        f"Face Album will fine-tune its face model on the faces you confirmed "
        f"({counts.get('train_faces', 0):,} faces of {counts.get('trained_people', 0)} people), keeping "
        f"{counts.get('test_faces', 0):,} aside to measure it, for at most {minutes:.0f} minutes on {where}. "
        "Your current model stays in use unless you choose to keep the new one."
    )


def format_score(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if key != "false_merge_rate" else f"{value:.2%}"


class RetrainPage(QWidget):
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
        self.scores = QTableWidget(len(ROWS), 2)
        self.scores.setHorizontalHeaderLabels(["Current model", "New model"])
        self.scores.setVerticalHeaderLabels([label for _, label in ROWS])
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.keep_button = QPushButton("Keep the new model")
        self.discard_button = QPushButton("Discard it")
        self._layout()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.keep_button.clicked.connect(self.keep)
        self.discard_button.clicked.connect(self.discard)

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.plan, self.stage, self.bar, self.scores, self.verdict):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self._show_idle()

    def _show_idle(self) -> None:
        for widget in (
            self.cancel_button,
            self.bar,
            self.stage,
            self.scores,
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
        for row, (key, _label) in enumerate(ROWS):
            for col, scores in enumerate((report.before, report.after)):
                value = getattr(scores, key) if scores is not None else None
                self.scores.setItem(row, col, QTableWidgetItem(format_score(key, value)))
        self.scores.resizeColumnsToContents()
        self.scores.show()
        verdict = (
            "The new model is better."
            if report.improved
            else "The new model is not better, so keeping it is not offered."
        )
        self.verdict.setText(f"{verdict} ({report.reason})")

    def _kept(self, _switched: object) -> None:
        self._finish(
            "The new model is in use. Faces were re-read with it, and your names are kept."
        )
        self._controller.reload()

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
