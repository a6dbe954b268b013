"""CME Globex equity-index futures sessions (ES/MES/NQ/MNQ), DST-proof and fast.

Source of truth: ``pandas_market_calendars`` calendar ``"CME Globex Equity"``
(class ``CMEGlobexEquitiesExchangeCalendar``). It was chosen over ``"CME_Equity"`` after
checking known dates: ``CME_Equity`` closes the day after Thanksgiving and Christmas Eve at
12:00 CT, while CME's published equity schedule (and ``CME Globex Equity``) says **12:15 CT
(13:15 ET)**.

What the calendar says (pandas_market_calendars 5.5, asserted in ``tests/unit/test_calendar.py``):

* A session opens 17:00 CT (= 18:00 ET, all year: both zones change DST on the same dates)
  on the previous evening (Sunday evening for Monday, the holiday evening for the day after
  a holiday) and closes 16:00 CT (= 17:00 ET). The 17:00-18:00 ET gap is the daily halt.
* No session at all: New Year's Day, Christmas Day (and Good Friday before 2021 / 2022).
* Early closes: day after Thanksgiving, Christmas Eve and July 3 (weekday before Independence
  Day) at 12:15 CT;
  the US holidays MLK, Presidents, Memorial, Juneteenth, Independence, Labor and Thanksgiving
  Day at 12:00 CT (Globex trades the holiday morning, then halts until the next evening);
  Good Friday from 2023 on at 08:15 CT. (Caveat: CME decides Good Friday every year — it
  opens equities only when a payroll report falls on it — the library assumes 08:15 CT.)

RTH is the cash-equity session 09:30-16:00 ET, cut at the Globex close on early-close days.
Policy: a session has **no RTH** when the NYSE is closed that day (the holiday mornings above,
Good Friday, national days of mourning): those hours trade thin, like the overnight. Such
sessions have ``holiday=True`` and ``rth_open_ns == rth_close_ns``. Known gap: unscheduled
closures (e.g. the 2025-01-09 national day of mourning, when CME equities closed early) are a
full session in the library; only the NYSE closure (-> no RTH) is reflected.

Speed: the session table of the whole span is built once per span (``lru_cache``) and every
vector query is a ``searchsorted`` over session bounds: O(k log n + n) for sorted input
(one ``np.repeat`` pass), O(n log k) otherwise. No per-row time-zone conversion.
"""

from __future__ import annotations

import calendar as _pycal
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.errors import DataError

ET = "America/New_York"
CT = "America/Chicago"

_NS = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS
_CME_NAME = "CME Globex Equity"
_NYSE_NAME = "XNYS"


# --------------------------------------------------------------------------- scalar helpers
def _to_date(day: Any) -> date:
    """Coerce 'YYYY-MM-DD', date, datetime, Timestamp, datetime64 or epoch-days int to a date."""
    if isinstance(day, (int, np.integer)) and not isinstance(day, bool):
        return date(1970, 1, 1) + timedelta(days=int(day))
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    try:
        return pd.Timestamp(day).date()
    except (ValueError, TypeError) as exc:
        raise DataError(f"not a date: {day!r}", hint="pass a date as 'YYYY-MM-DD'") from exc


def local_time_ns(trading_day: Any, hhmm: str, tz: str) -> int:
    """UTC nanoseconds of the wall-clock time ``hh:mm`` in ``tz`` on the calendar date given.

    DST-correct: uses the offset in force at that local time. A non-existent local time (inside
    the spring-forward hour) resolves with the pre-transition offset (zoneinfo ``fold=0``).

    Args:
        trading_day: The calendar date (str 'YYYY-MM-DD', date, Timestamp or epoch days).
        hhmm: Wall-clock time as 'HH:MM' (24 h).
        tz: IANA zone name, e.g. ``ET`` or ``CT``.

    Returns:
        int: nanoseconds since the epoch, UTC.
    """
    d = _to_date(trading_day)
    try:
        hh, mm = (int(p) for p in hhmm.split(":"))
        t = time(hh, mm)
    except (ValueError, TypeError) as exc:
        raise DataError(f"bad wall-clock time {hhmm!r}", hint="use 24-hour 'HH:MM', e.g. '15:10'") from exc
    local = datetime.combine(d, t, tzinfo=ZoneInfo(tz))
    utc = local.astimezone(timezone.utc)
    return _pycal.timegm(utc.timetuple()) * _NS


# --------------------------------------------------------------------------- session table
@lru_cache(maxsize=32)
def _table(start: date, end: date) -> dict[str, np.ndarray]:
    """Session bounds for trading days start..end inclusive, as read-only numpy arrays."""
    import pandas_market_calendars as mcal  # heavy import: only when a table is built

    cme = mcal.get_calendar(_CME_NAME).schedule(start_date=start, end_date=end)
    nyse = mcal.get_calendar(_NYSE_NAME).schedule(start_date=start, end_date=end)
    days = [d.date() for d in cme.index]
    open_ns = cme["market_open"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    close_ns = cme["market_close"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    open_ns = open_ns.to_numpy().view(np.int64).copy()
    close_ns = close_ns.to_numpy().view(np.int64).copy()
    nyse_days = {d.date() for d in nyse.index}
    regular_close = np.array([local_time_ns(d, "16:00", CT) for d in days], dtype=np.int64)
    rth_open = np.array([local_time_ns(d, "09:30", ET) for d in days], dtype=np.int64)
    rth_close = np.array([local_time_ns(d, "16:00", ET) for d in days], dtype=np.int64)
    holiday = np.array([d not in nyse_days for d in days], dtype=bool)
    rth_close = np.minimum(rth_close, close_ns)
    rth_open = np.minimum(rth_open, rth_close)
    # No RTH on NYSE holidays: collapse to an empty interval at the RTH open (keeps arrays sorted).
    rth_close = np.where(holiday, rth_open, rth_close)
    out = {
        "day": np.array([(d - date(1970, 1, 1)).days for d in days], dtype=np.int64),
        "open": open_ns, "close": close_ns, "rth_open": rth_open, "rth_close": rth_close,
        "early": close_ns < regular_close, "holiday": holiday,
    }
    for arr in out.values():
        arr.setflags(write=False)  # cached: nobody may mutate it
    return out


def _span_table(first: date, last: date) -> dict[str, np.ndarray]:
    """Table covering first..last, widened to whole years so the cache hits across calls."""
    return _table(date(first.year, 1, 1), date(last.year + 1, 1, 10))


def sessions(start: Any, end: Any) -> pd.DataFrame:
    """One row per CME equity-futures trading day between ``start`` and ``end`` inclusive.

    Args:
        start: First trading day ('YYYY-MM-DD', date or Timestamp).
        end: Last trading day, inclusive.

    Returns:
        DataFrame with columns ``trading_day`` (datetime64[ns], normalized), ``open_ns``,
        ``close_ns`` (int64 UTC ns of the Globex session), ``rth_open_ns``, ``rth_close_ns``
        (09:30 ET to 16:00 ET or the early close; equal when the session has no RTH),
        ``early_close`` (bool) and ``holiday`` (bool: NYSE closed, Globex-only session).
        Holidays without any session have no row.
    """
    s, e = _to_date(start), _to_date(end)
    if e < s:
        raise DataError(f"sessions(): end {e} is before start {s}", hint="swap start and end")
    t = _span_table(s, e)
    lo = np.searchsorted(t["day"], (s - date(1970, 1, 1)).days, side="left")
    hi = np.searchsorted(t["day"], (e - date(1970, 1, 1)).days, side="right")
    sl = slice(int(lo), int(hi))
    return pd.DataFrame({
        "trading_day": (t["day"][sl] * _NS_PER_DAY).astype("datetime64[ns]"),
        "open_ns": t["open"][sl].copy(),
        "close_ns": t["close"][sl].copy(),
        "rth_open_ns": t["rth_open"][sl].copy(),
        "rth_close_ns": t["rth_close"][sl].copy(),
        "early_close": t["early"][sl].copy(),
        "holiday": t["holiday"][sl].copy(),
    })


def _day_row(day: Any) -> tuple[dict[str, np.ndarray], int]:
    """(table, row index) for a calendar date, row -1 when it is not a trading day."""
    d = _to_date(day)
    t = _span_table(d, d)
    k = (d - date(1970, 1, 1)).days
    i = int(np.searchsorted(t["day"], k))
    if i < len(t["day"]) and t["day"][i] == k:
        return t, i
    return t, -1


def is_trading_day(day: Any) -> bool:
    """True when CME equity futures have a session belonging to ``day``."""
    return _day_row(day)[1] >= 0


def is_early_close(day: Any) -> bool:
    """True when ``day``'s session closes before the regular 16:00 CT (17:00 ET)."""
    t, i = _day_row(day)
    return bool(i >= 0 and t["early"][i])


def flatten_deadline_ns(trading_day: Any, hhmm: str = "16:30", tz: str = ET) -> int:
    """The flatten deadline on ``trading_day``: ``hh:mm`` in ``tz``, capped at the session close.

    Args:
        trading_day: The trading day (not a holiday).
        hhmm: Wall-clock deadline, e.g. '16:30' (ET profile) or '15:10' with ``tz=CT`` (Topstep).
        tz: Zone of ``hhmm``.

    Returns:
        int: UTC ns of the deadline (early closes pull it forward to the close).

    Raises:
        DataError: ``trading_day`` has no session.
    """
    t, i = _day_row(trading_day)
    if i < 0:
        raise DataError(f"{_to_date(trading_day)} is not a CME equity trading day",
                        hint="check core.calendar.is_trading_day() before asking for a deadline")
    return int(min(local_time_ns(trading_day, hhmm, tz), int(t["close"][i])))


# --------------------------------------------------------------------------- vector queries
def _as_ns(ts_ns: Any) -> np.ndarray:
    """View/convert the input as a 1-D int64 ns array without copying when possible."""
    a = ts_ns.to_numpy() if isinstance(ts_ns, (pd.Series, pd.Index)) else np.asarray(ts_ns)
    if a.dtype.kind == "M":
        a = a.astype("datetime64[ns]").view(np.int64)
    elif a.dtype != np.int64:
        a = a.astype(np.int64)
    return a.reshape(-1)


def _bounds(ts: np.ndarray) -> tuple[dict[str, np.ndarray], bool]:
    """Session table covering the span of ``ts`` and whether ``ts`` is sorted ascending."""
    is_sorted = bool(ts.size < 2 or not (ts[1:] < ts[:-1]).any())
    if is_sorted:
        lo, hi = int(ts[0]), int(ts[-1])
    else:
        lo, hi = int(ts.min()), int(ts.max())
    # Widen by 2 days: a timestamp belongs to the next day's session after 18:00 ET.
    first = (pd.Timestamp(lo, unit="ns") - pd.Timedelta(days=2)).date()
    last = (pd.Timestamp(hi, unit="ns") + pd.Timedelta(days=2)).date()
    return _span_table(first, last), is_sorted


def _interval_fill(ts: np.ndarray, lo: np.ndarray, hi: np.ndarray, values: np.ndarray,
                   fill: Any, dtype: Any, is_sorted: bool) -> np.ndarray:
    """out[j] = values[i] where lo[i] <= ts[j] < hi[i] (intervals sorted, disjoint), else fill."""
    if ts.size == 0:
        return np.empty(0, dtype=dtype)
    if is_sorted:
        # Sorted input: k searchsorted calls into ts, then ONE np.repeat pass writes the output
        # as alternating runs [fill, v0, fill, v1, ..., fill] (no second write of 33M rows).
        starts = np.searchsorted(ts, lo, side="left")
        ends = np.searchsorted(ts, hi, side="left")
        cuts = np.empty(2 * len(lo) + 2, dtype=np.int64)
        cuts[0], cuts[-1] = 0, ts.size
        cuts[1:-1:2], cuts[2:-1:2] = starts, ends
        runs = np.empty(2 * len(lo) + 1, dtype=dtype)
        runs[0::2] = fill
        runs[1::2] = values
        return np.repeat(runs, np.diff(cuts))
    idx = np.searchsorted(lo, ts, side="right") - 1
    ok = idx >= 0
    idx_c = np.where(ok, idx, 0)
    ok &= ts < hi[idx_c]
    out = np.where(ok, values[idx_c], fill).astype(dtype, copy=False)
    return out


def trading_day_of(ts_ns: Any) -> np.ndarray:
    """Trading day (int64 days since 1970-01-01) of each UTC-ns timestamp, -1 outside sessions.

    Sunday 18:00 ET belongs to Monday; Friday 16:59 ET to Friday; the daily 17:00-18:00 ET
    halt, weekends and holidays give -1.
    """
    ts = _as_ns(ts_ns)
    if ts.size == 0:
        return np.empty(0, dtype=np.int64)
    t, s = _bounds(ts)
    return _interval_fill(ts, t["open"], t["close"], t["day"], -1, np.int64, s)


def session_id(ts_ns: Any) -> np.ndarray:
    """Alias of :func:`trading_day_of` (resampling groups bars by it; never spans a break)."""
    return trading_day_of(ts_ns)


def in_session_mask(ts_ns: Any) -> np.ndarray:
    """True where the timestamp is inside a Globex session."""
    ts = _as_ns(ts_ns)
    if ts.size == 0:
        return np.empty(0, dtype=bool)
    t, s = _bounds(ts)
    return _interval_fill(ts, t["open"], t["close"], np.ones(len(t["day"]), bool), False, bool, s)


def rth_mask(ts_ns: Any) -> np.ndarray:
    """True where 09:30 <= ET time < 16:00 (or < the early close) on a day with RTH."""
    ts = _as_ns(ts_ns)
    if ts.size == 0:
        return np.empty(0, dtype=bool)
    t, s = _bounds(ts)
    return _interval_fill(ts, t["rth_open"], t["rth_close"], np.ones(len(t["day"]), bool),
                          False, bool, s)


def eth_mask(ts_ns: Any) -> np.ndarray:
    """True where the timestamp is in a session but outside RTH (overnight, holiday mornings)."""
    ts = _as_ns(ts_ns)
    return in_session_mask(ts) & ~rth_mask(ts)


def minutes_to_close(ts_ns: Any) -> np.ndarray:
    """Float minutes from each timestamp to its session's close; NaN outside sessions."""
    ts = _as_ns(ts_ns)
    if ts.size == 0:
        return np.empty(0, dtype=np.float64)
    t, s = _bounds(ts)
    close = _interval_fill(ts, t["open"], t["close"], t["close"], -1, np.int64, s)
    out = (close - ts).astype(np.float64) / (60.0 * _NS)
    out[close < 0] = np.nan
    return out
