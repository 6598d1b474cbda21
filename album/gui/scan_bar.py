"""The strip at the bottom of the window while a scan runs: progress, numbers, pause, stop."""

from __future__ import annotations

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
        self.stop_button.clicked.connect(self.stop_clicked)
        self._paused = False

    def show_started(self) -> None:
        self._paused = False
        self.title.setText("Scanning")
        self.pause_button.setText("Pause")
        self.bar.setRange(0, 0)  # busy until the first report says how many photos
        self.details.setText("Looking for photos…")
        self.show()

    def show_progress(self, progress: object) -> None:
        self.bar.setRange(0, max(progress.photos_total, 1))
        self.bar.setValue(progress.photos_done)
        self.details.setText(describe_progress(progress))

    def show_paused(self) -> None:
        self._paused = True
        self.title.setText("Paused")
        self.pause_button.setText("Resume")
        self.details.setText("Paused. Resume carries on where the scan stopped.")

    def _on_pause(self) -> None:
        (self.resume_clicked if self._paused else self.pause_clicked).emit()
