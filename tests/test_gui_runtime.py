"""The Qt binding itself must be sound on this Python: PySide6 6.12.0 on Python 3.11 drops a
reference to None on every void call (painter.save(), setPen(), ...) and on every empty
QVariant, so a GUI that paints for a while dies with "none_dealloc". pyproject excludes it;
this test catches any other build with the same fault before a user does."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QStringListModel, Qt  # noqa: E402
from PySide6.QtGui import QPainter, QPixmap  # noqa: E402

CALLS = 200
_REPAID: list[None] = []  # references handed back to None after a faulty build took them


def test_void_calls_and_empty_variants_keep_none_alive(qapp):
    pixmap = QPixmap(8, 8)
    painter = QPainter(pixmap)
    model = QStringListModel(["a"])
    index = model.index(0)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.restore()
        index.data(Qt.ItemDataRole.DecorationRole)
    lost = before - sys.getrefcount(None)
    painter.end()
    _REPAID.extend([None] * max(lost, 0))  # so a faulty build fails this test, not the session
    assert lost < CALLS // 2, f"{lost} references to None lost in {CALLS} rounds of Qt calls"
