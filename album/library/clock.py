"""The one clock of the database: naive UTC timestamps, the form every DATETIME column holds."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Naive UTC timestamp, the form every DATETIME column holds."""
    return datetime.now(UTC).replace(tzinfo=None)
