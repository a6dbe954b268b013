"""Time is injected: the only module of the core that reads wall-clock time.

Everything that needs "now" takes a :class:`Clock`. Backtests and replays use
:class:`SimClock`; live trading uses :class:`LiveClock`. Latency timers may use
``time.perf_counter_ns`` directly (it is not wall time).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Source of the current time as UTC nanoseconds since the epoch."""

    def now_ns(self) -> int:
        """Return the current time in UTC nanoseconds since the epoch."""
        ...

    def now(self) -> datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        ...


class LiveClock:
    """Wall-clock time (UTC)."""

    def now_ns(self) -> int:
        """Return wall-clock UTC nanoseconds."""
        return time.time_ns()

    def now(self) -> datetime:
        """Return wall-clock time as an aware UTC datetime."""
        return datetime.now(timezone.utc)


class SimClock:
    """A clock that only moves when told to (backtests, replays, tests).

    Args:
        start_ns: Initial time in UTC nanoseconds since the epoch.
    """

    def __init__(self, start_ns: int = 0) -> None:
        self._ns = int(start_ns)

    def now_ns(self) -> int:
        """Return the simulated time."""
        return self._ns

    def now(self) -> datetime:
        """Return the simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._ns / 1e9, tz=timezone.utc)

    def set_ns(self, ns: int) -> None:
        """Jump to ``ns``; time never goes backwards.

        Raises:
            ValueError: If ``ns`` is earlier than the current simulated time.
        """
        if ns < self._ns:
            raise ValueError(f"SimClock cannot go backwards ({ns} < {self._ns})")
        self._ns = int(ns)

    def advance_ns(self, delta_ns: int) -> None:
        """Move forward by ``delta_ns`` nanoseconds."""
        self.set_ns(self._ns + int(delta_ns))
