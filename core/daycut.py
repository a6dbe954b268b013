"""Trading days of 24/7 markets: a day runs from one daily cut to the next.

``core.calendar`` knows the CME Globex sessions (a bar belongs to the trading day of its
session; Sunday 18:00 ET belongs to Monday). A continuous market (crypto) has no sessions and
no holidays: its trading day is the calendar day that starts at ``schedule.daily_cut`` in
``schedule.timezone`` (UTC midnight by default). Daily loss limits reset there
(core/risk/params.build_schedule) and reports group P&L by it — this module is the one place
that turns a timestamp into such a day, so both agree.

:class:`DayRule` carries the choice ("cme" or a continuous cut) to the code that groups by
day (statistics, per-day tables, reports) without it importing a profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400 * 1_000_000_000
_NS_PER_MIN = 60 * 1_000_000_000


def is_continuous(symbol: str | None) -> bool:
    """Whether the instrument of ``symbol`` (root or contract code) trades 24/7."""
    if not symbol:
        return False
    from core.domain import INSTRUMENTS, root_of

    inst = INSTRUMENTS.get(root_of(str(symbol)))
    return bool(inst is not None and inst.continuous)


def frame_is_continuous(frame: pd.DataFrame) -> bool:
    """Whether a bar frame's instrument (its first symbol's root) trades 24/7."""
    if "symbol" not in frame.columns or not len(frame):
        return False
    sym = frame["symbol"]
    first = str(sym.cat.categories[sym.cat.codes.iloc[0]]) \
        if isinstance(sym.dtype, pd.CategoricalDtype) else str(sym.iloc[0])
    return is_continuous(first)


def _cut_minutes(hhmm: str) -> int:
    h, m = str(hhmm).split(":")
    return int(h) * 60 + int(m)


def continuous_days(ts_ns: np.ndarray, daily_cut: str = "00:00", timezone: str = "UTC"
                    ) -> np.ndarray:
    """Trading day (days since 1970-01-01) of each timestamp: the date whose cut began it.

    Day D runs from the cut on date D to the cut on D + 1 — the same rows as the risk
    kernel's continuous schedule (core/risk/params.build_schedule), so daily limits and
    per-day reports agree. With the default 00:00 cut that is simply the local date.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    if ts.size == 0:
        return np.empty(0, dtype=np.int64)
    if timezone in ("UTC", "Etc/UTC"):
        local = ts
    else:
        local = (pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert(timezone)
                 .tz_localize(None).asi8)
    return (local - _cut_minutes(daily_cut) * _NS_PER_MIN) // NS_PER_DAY


@dataclass(frozen=True)
class DayRule:
    """How timestamps map to trading days: CME sessions, or a continuous daily cut.

    Attributes:
        sessions: ``"cme"`` or ``"continuous"``.
        daily_cut: ``HH:MM`` where a continuous day starts.
        timezone: Zone of ``daily_cut`` (and of the P&L-by-hour table).
    """

    sessions: str = "cme"
    daily_cut: str = "00:00"
    timezone: str = "America/New_York"

    @property
    def continuous(self) -> bool:
        """True for 24/7 markets."""
        return self.sessions == "continuous"

    @classmethod
    def of(cls, profile: Any) -> DayRule:
        """The rule of a profile's ``[schedule]`` (its sessions, cut and zone)."""
        s = profile.schedule
        return cls(sessions=s.sessions, daily_cut=s.daily_cut, timezone=s.timezone)

    def days(self, ts_ns: np.ndarray) -> np.ndarray:
        """Trading day per timestamp (days since 1970); CME days fall back to the ET date
        outside sessions."""
        ts = np.asarray(ts_ns, dtype=np.int64)
        if self.continuous:
            return continuous_days(ts, self.daily_cut, self.timezone)
        from core import calendar

        days = calendar.trading_day_of(ts) if len(ts) else np.empty(0, np.int64)
        outside = days < 0
        if outside.any():
            et = pd.to_datetime(ts[outside], utc=True).tz_convert("America/New_York")
            days = np.array(days, dtype=np.int64, copy=True)
            days[outside] = et.tz_localize(None).normalize().asi8 // NS_PER_DAY
        return np.asarray(days, dtype=np.int64)

    def covered_days(self, ts_ns: np.ndarray) -> pd.DatetimeIndex:
        """Every trading day a sorted run of timestamps spans (days without trades count)."""
        ts = np.asarray(ts_ns, dtype=np.int64)
        if ts.size == 0:
            return pd.DatetimeIndex([])
        if self.continuous:
            d = continuous_days(ts[[0, -1]], self.daily_cut, self.timezone)
            return pd.DatetimeIndex(pd.to_datetime(np.arange(d[0], d[1] + 1) * NS_PER_DAY))
        from core import calendar

        first = pd.Timestamp(int(ts[0]), tz="UTC").tz_convert("America/New_York")
        last = pd.Timestamp(int(ts[-1]), tz="UTC").tz_convert("America/New_York")
        sess = calendar.sessions((first - pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
                                 (last + pd.Timedelta(days=1)).strftime("%Y-%m-%d"))
        opens = sess["open_ns"].to_numpy(np.int64)
        closes = sess["close_ns"].to_numpy(np.int64)
        covered = np.searchsorted(ts, closes, side="left") > np.searchsorted(ts, opens, side="left")
        return pd.DatetimeIndex(pd.to_datetime(sess["trading_day"].to_numpy()[covered]))


CME = DayRule()
