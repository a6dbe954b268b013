"""The one bridge between the engine's control socket and the console's widgets.

Two daemon threads talk to the socket — one polls ``status``, one follows the ``events``
stream — and write into a :class:`Pending` under a lock. They never call into the UI: at
1,000 quotes a second a message per event would swamp Textual's queue. Instead the app's
frame timer calls :meth:`EngineBridge.take` once per frame and gets ONE coalesced
:class:`Snapshot` (the newest status, the newest quote, the price points and log lines since
the last frame), which it applies inside one ``batch_update``. Quotes are replaceable: a
newer one simply overwrites the older in ``Pending`` (the ``can_replace`` idea, done here
without a queue). The engine never waits on the console: its fan-out drops for a slow
reader (core/control/fanout.py), and these threads only read.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The event log keeps this many lines (the journal has the rest).
LOG_LINES = 2000
#: Price points kept for the quotes chart.
CHART_POINTS = 240
#: Events that are state, not news: they update panes and never reach the log.
QUIET = {"Heartbeat", "QuoteUpdated", "BarClosed", "PredictionMade"}


@dataclass
class Snapshot:
    """Everything that changed since the previous frame (applied in one batch)."""

    status: dict[str, Any] | None = None
    status_error: str | None = None
    quote: dict[str, Any] | None = None
    prices: list[float] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    heartbeat_at: float | None = None
    quotes_received: int = 0
    quotes_coalesced: int = 0

    @property
    def empty(self) -> bool:
        """Nothing new: the frame can be skipped."""
        return (self.status is None and self.status_error is None and self.quote is None
                and not self.log and self.heartbeat_at is None)


def event_line(ev: dict[str, Any]) -> str | None:
    """The event log's line for one engine event (None: not news, e.g. quotes)."""
    t = ev.get("type")
    if t in QUIET or (t == "SignalDecided" and ev.get("action") == "none"):
        return None
    fields = ", ".join(f"{k}={v}" for k, v in ev.items() if k not in ("type", "ts_ns"))
    return f"{t}: {fields}"


class EngineBridge:
    """Socket threads feeding a coalesced snapshot.

    Args:
        socket_path: The engine's control socket.
        poll_s: Seconds between ``status`` polls.
        connect: Start the socket threads (False in snapshot tests that push state directly).
    """

    def __init__(self, socket_path: str | Path, *, poll_s: float = 0.5,
                 connect: bool = True) -> None:
        from core.control.client import ControlClient

        self.socket_path = Path(socket_path)
        self.client = ControlClient(self.socket_path, timeout=5.0)
        self.poll_s = poll_s
        self.connect = connect
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pending = Snapshot()
        self._log: deque[str] = deque(maxlen=LOG_LINES)
        self._last_price: float | None = None

    def start(self) -> None:
        """Start the socket threads (idempotent per bridge: call once)."""
        if not self.connect:
            return
        threading.Thread(target=self._poll, daemon=True, name="console-status").start()
        threading.Thread(target=self._follow, daemon=True, name="console-events").start()

    def stop(self) -> None:
        """Ask the threads to end (they are daemons: the process never waits for them)."""
        self._stop.set()

    # ---------------------------------------------------------------- producers
    def push_status(self, st: dict[str, Any] | None, error: str = "") -> None:
        """A status answer (or the error of the last attempt)."""
        with self._lock:
            p = self._pending
            if st is not None:
                p.status = st
                q = st.get("quote")
                if isinstance(q, dict) and q.get("last") is not None and p.quote is None:
                    self._quote(q)
            p.status_error = error

    def push_event(self, ev: dict[str, Any]) -> None:
        """One event from the stream."""
        t = ev.get("type")
        with self._lock:
            p = self._pending
            if t == "Heartbeat":
                p.heartbeat_at = time.monotonic()
                return
            if t == "QuoteUpdated":
                p.quotes_received += 1
                if p.quote is not None:
                    p.quotes_coalesced += 1
                self._quote(ev)
                return
            line = event_line(ev)
            if line is not None:
                self._log.append(line)
                p.log.append(line)
                if len(p.log) > LOG_LINES:      # a burst longer than the log itself
                    del p.log[: len(p.log) - LOG_LINES]

    def push_log(self, line: str) -> None:
        """A line of the console's own (command results, lost connections)."""
        with self._lock:
            self._log.append(line)
            self._pending.log.append(line)

    def _quote(self, q: dict[str, Any]) -> None:
        self._pending.quote = q
        last = q.get("last")
        if last is not None:
            self._last_price = float(last)

    # ---------------------------------------------------------------- consumer
    def take(self) -> Snapshot:
        """Everything new since the last call, as one snapshot (the frame's input)."""
        with self._lock:
            snap, self._pending = self._pending, Snapshot()
            if snap.quote is not None and self._last_price is not None:
                snap.prices.append(self._last_price)
        return snap

    # ---------------------------------------------------------------- socket threads
    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.push_status(self.client.call("status"))
            except Exception as exc:  # noqa: BLE001 - shown in the risk pane, then retried
                self.push_status(None, str(exc))
            self._stop.wait(self.poll_s)

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                for ev in self.client.stream_events(raw=True):
                    if self._stop.is_set():
                        return
                    self.push_event(ev)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - the engine may be restarting
                self.push_log(f"event stream lost: {exc}")
            self._stop.wait(1.0)

    def send(self, cmd: str, **args: Any) -> dict[str, Any] | None:
        """Send one intent and feed its answer back as a status (blocking: call off the UI).

        Returns:
            The new status, or None when the engine refused or was unreachable (logged).
        """
        try:
            st = self.client.call(cmd, **args)
        except Exception as exc:  # noqa: BLE001 - the operator must see why
            hint = getattr(exc, "hint", None)
            self.push_log(f"→ {cmd} FAILED: {exc}" + (f" ({hint})" if hint else ""))
            return None
        self.push_status(st)
        self.push_log(f"→ {cmd}: done")
        return st
