"""The strip at the bottom of the window while a scan runs: progress, numbers, pause, stop.

Pause answers at once ("Pausing…"), though the scan stops only after the photos in flight.
A paused scan resumed is one scan to the user: the counts carry on from where they were
(each run reports only its own photos; the bar adds what the runs before the pause did).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left"
    if seconds < 60:
        return "less than a minute left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def describe_progress(progress: object) -> str:
    """'120 of 500 photos · 87 faces · 4.2 photos/s · about 2 min left', from a ScanProgress."""
    parts = [
        f"{progress.photos_done:,} of {progress.photos_total:,} photos",
        f"{progress.faces_found:,} faces",
        f"{progress.rate:.1f} photos/s",
        format_eta(progress.eta_s),
    ]
    if progress.errors:
        parts.append(f"{progress.errors} unreadable")
    return " · ".join(parts)


class ScanBar(QWidget):
    """Shows one scan's progress; Pause turns into Resume; Stop ends the scan."""

    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Scanning")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.details = QLabel("Looking for photos…")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.details, 2)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.stop_button)
        self.pause_button.clicked.connect(self._on_pause)
        self.stop_button.clicked.connect(self._on_stop)
        self._paused = False
        self._before: tuple[int, int, int] = (0, 0, 0)  # photos, faces, errors before a pause
        self.last = None  # the last progress shown, counts carried over

    def show_started(self, resumed: bool = False) -> None:
        """A new scan (counts from zero), or a paused one resumed (counts carry on)."""
        self._paused = False
        self.title.setText("Scanning")
        self.pause_button.setText("Pause")
        for button in (self.pause_button, self.stop_button):
            button.setEnabled(True)
        if resumed:
            last = self.last
            self._before = (last.photos_done, last.faces_found, last.errors) if last else (0, 0, 0)
            self.details.setText(f"Resuming… {describe_progress(last) if last else ''}".strip())
        else:
            self._before, self.last = (0, 0, 0), None
            self.bar.setRange(0, 0)  # busy until the first report says how many photos
            self.details.setText("Looking for photos…")
        self.show()

    def show_progress(self, progress: object) -> None:
        photos, faces, errors = self._before
        progress = dataclasses.replace(
            progress,
            photos_done=progress.photos_done + photos,
            photos_total=progress.photos_total + photos,
            faces_found=progress.faces_found + faces,
            errors=progress.errors + errors,
        )
        self.last = progress
        self.bar.setRange(0, max(progress.photos_total, 1))
        self.bar.setValue(progress.photos_done)
        self.details.setText(describe_progress(progress))

    def show_pausing(self) -> None:
        self.title.setText("Pausing…")
        self.pause_button.setEnabled(False)
        self.details.setText("Pausing after the photos in flight…")

    def show_stopping(self) -> None:
        self.title.setText("Stopping…")
        for button in (self.pause_button, self.stop_button):
            button.setEnabled(False)

    def show_paused(self) -> None:
        self._paused = True
        self.title.setText("Paused")
        self.pause_button.setText("Resume")
        self.pause_button.setEnabled(True)
        done = f" ({describe_progress(self.last).split(' · ')[0]})" if self.last else ""
        self.details.setText(f"Paused{done}. Resume carries on where the scan stopped.")

    def _on_pause(self) -> None:
        if self._paused:
            self.resume_clicked.emit()
        else:
            self.show_pausing()
            self.pause_clicked.emit()

    def _on_stop(self) -> None:
        self.show_stopping()
        self.stop_clicked.emit()
