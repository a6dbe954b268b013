"""Live bars: trade prints (or last-price quotes) → closed bars of the model's bar size.

The builder aggregates exactly as :func:`core.datasets.resample.resample` aggregates the same
prints' bars: bins aligned to UTC multiples of the bar size and labelled by their START;
open = first print, high = max, low = min, close = last, volume = sum; a bin never spans a
session break (the profile's sessions: CME Globex or continuous 24/7 with a daily cut); bins
without prints are absent. A test pins the two together, so live features see the bars the
model was trained on.

Timing — the same as the backtest's: a bar's close is known at ``start + bar_seconds``; that
is when the engine computes features, predicts and decides, and the resulting order is the
backtester's "next bar's open" order. A bar closes when the first print of a later bin
arrives, or when the clock passes its end plus a small ``grace`` (prints are stamped by the
exchange and arrive a little late; a quiet market must not hold a bar open forever).
Prints older than the open bin (out of order after it closed) cannot change a closed bar:
they are counted in :attr:`BarBuilder.late_prints`, never silently merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import Profile
from core.domain import Bar
from core.risk.params import Schedule, build_schedule

NS = 1_000_000_000


class SessionIndex:
    """Which trading session a timestamp belongs to, under the profile's sessions.

    Wraps the risk schedule (:func:`core.risk.params.build_schedule`) so the bar builder and
    the risk kernel share one definition of a session; rebuilt lazily around new dates.
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._sch: Schedule | None = None
        self._lo = 0
        self._hi = 0
        self._cur = (-1, 0, 0)      # (session row id, open, close) of the last lookup

    def session_of(self, ts_ns: int) -> tuple[int, int, int]:
        """(session id, open ns, close ns) of ``ts_ns``; id -1 outside any session.

        The id is the trading day (days since 1970), stable across schedule rebuilds.
        """
        sid, o, c = self._cur
        if sid >= 0 and o <= ts_ns < c:
            return self._cur
        sch = self._schedule_for(ts_ns)
        row = int(sch.row_of(np.array([ts_ns], dtype=np.int64))[0])
        if row < 0:
            return (-1, 0, 0)
        self._cur = (int(sch.day[row]), int(sch.open_ns[row]), int(sch.close_ns[row]))
        return self._cur

    def _schedule_for(self, ts_ns: int) -> Schedule:
        if self._sch is None or not self._lo <= ts_ns < self._hi:
            d = np.datetime64(int(ts_ns), "ns").astype("datetime64[D]")
            self._sch = build_schedule(self.profile, str(d - 5), str(d + 60))
            self._lo = int(self._sch.open_ns[0]) if len(self._sch.open_ns) else ts_ns
            self._hi = int(self._sch.close_ns[-1]) if len(self._sch.close_ns) else ts_ns + 1
        return self._sch


@dataclass
class _Open:
    start: int
    session: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    first_ts: int
    last_ts: int


class BarBuilder:
    """Aggregate prints into closed bars of ``bar_seconds`` (see the module docstring).

    Args:
        bar_seconds: The model's bar size (divides one hour, like the resampler's sizes).
        sessions: Session lookup of the profile.
        contract_id: Stamped on the bars (``Bar.symbol``).
        grace_ns: How long after a bar's end the clock closes it without a later print.
    """

    def __init__(self, bar_seconds: int, sessions: SessionIndex, *, contract_id: str = "",
                 grace_ns: int = 250_000_000) -> None:
        if bar_seconds <= 0 or 3600 % bar_seconds:
            raise ValueError(f"bar size {bar_seconds} s must divide one hour")
        self.bar_ns = int(bar_seconds) * NS
        self.sessions = sessions
        self.contract_id = contract_id
        self.grace_ns = int(grace_ns)
        self._bar: _Open | None = None
        self._last_closed = (-1, -1)  # (start, session) of the last closed bin
        self.late_prints = 0          #: prints older than the open bin (not merged)
        self.outside_session = 0      #: prints outside any session (ignored)

    @property
    def open_bar_start(self) -> int | None:
        """Start of the bin being built, if any."""
        return None if self._bar is None else self._bar.start

    def on_trade(self, ts_ns: int, price: float, size: float = 0.0) -> list[Bar]:
        """Add one print; returns the bar it closed, if any (0 or 1 bars)."""
        ts_ns = int(ts_ns)
        sid, _o, _c = self.sessions.session_of(ts_ns)
        if sid < 0:
            self.outside_session += 1
            return self.on_time(ts_ns)
        start = ts_ns // self.bar_ns * self.bar_ns
        key = (start, sid)
        out: list[Bar] = []
        b = self._bar
        if b is not None and key != (b.start, b.session):
            if (start, ts_ns) < (b.start, b.last_ts):
                self.late_prints += 1           # an older bin: it can no longer change
                return out
            out.append(self._close())
            b = None
        if b is None:
            if key <= self._last_closed:
                self.late_prints += 1           # its bin already closed (on the clock)
                return out
            self._bar = _Open(start, sid, price, price, price, price, int(round(size)), ts_ns,
                              ts_ns)
            return out
        # Same bin. Prints may arrive slightly out of order: open is the earliest print by
        # exchange time and close the latest, as in a bar built from sorted data.
        if price > b.high:
            b.high = price
        if price < b.low:
            b.low = price
        if ts_ns < b.first_ts:
            b.first_ts, b.open = ts_ns, price
        if ts_ns >= b.last_ts:
            b.last_ts, b.close = ts_ns, price
        b.volume += int(round(size))
        return out

    def on_time(self, now_ns: int) -> list[Bar]:
        """Close the open bar once the clock is past its end plus the grace (0 or 1 bars)."""
        b = self._bar
        if b is not None and now_ns >= b.start + self.bar_ns + self.grace_ns:
            return [self._close()]
        return []

    def flush(self) -> list[Bar]:
        """Close the open bar now (end of a replay or shutdown)."""
        return [self._close()] if self._bar is not None else []

    def _close(self) -> Bar:
        b = self._bar
        assert b is not None
        self._bar = None
        self._last_closed = (b.start, b.session)
        return Bar(ts=b.start, open=b.open, high=b.high, low=b.low, close=b.close,
                   volume=b.volume, symbol=self.contract_id)
