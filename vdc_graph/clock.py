"""The one clock of the process; tests replace it to control time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Install a clock (``None`` restores the real one)."""
    global _now
    _now = fn if fn is not None else (lambda: datetime.now(UTC))
