"""History/retrieveBars over the replay's bars, never past the market clock (§4.4).

Buckets: units 1–3 (second/minute/hour) are aligned to multiples of ``unitNumber × unit`` since
the epoch (UTC); 4 (day) groups UTC calendar days, 5 (week) weeks starting Monday (UTC), 6
(month) calendar months; 7 (tick) groups ``unitNumber`` replay prints (the four points per bar
of :mod:`core.venues.sim.replay`). A bucket is served when its **start** lies in
``[startTime, endTime)``; only source bars that started before the market clock count, and the
bucket still forming is left out unless ``includePartialBar``. Units finer than the source
bars give one bar per source bar (1-minute data asked for 1-second bars → one bar a minute). The answer is **newest first**,
keeping the most recent ``limit`` bars; gaps give an empty list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_NS = 1_000_000_000
UNIT_SECONDS = {1: 1, 2: 60, 3: 3600}


def _keys(ts: np.ndarray, unit: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(bucket start, bucket end) of every timestamp."""
    if unit in UNIT_SECONDS:
        b = UNIT_SECONDS[unit] * n * _NS
        start = ts // b * b
        return start, start + b
    day = 86_400 * _NS
    if unit == 4:
        b = day * n
        start = ts // b * b
        return start, start + b
    dt = pd.to_datetime(ts, utc=True)
    if unit == 5:
        days = ts // day
        monday = days - ((days + 3) % 7)  # 1970-01-01 was a Thursday
        start = (monday // (7 * n) * (7 * n)) * day
        return start, start + 7 * n * day
    months = (dt.year.to_numpy() - 1970) * 12 + dt.month.to_numpy() - 1
    m0 = months // n * n

    def month_ns(m: np.ndarray) -> np.ndarray:
        y, mo = 1970 + m // 12, m % 12 + 1
        return pd.to_datetime({"year": y, "month": mo, "day": 1}, utc=True).to_numpy().astype(
            "datetime64[ns]").view(np.int64)

    return month_ns(m0), month_ns(m0 + n)


def aggregate(ts: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray,
              v: np.ndarray, *, unit: int, unit_number: int, start_ns: int, end_ns: int,
              now_ns: int, bar_ns: int, include_partial: bool, limit: int) -> list[tuple]:
    """Aggregate sorted source bars; return ``(t, o, h, l, c, v)`` tuples newest first."""
    hi = int(np.searchsorted(ts, now_ns, side="right"))  # bars started by now
    lo = int(np.searchsorted(ts, start_ns, side="left"))
    ts, o, h, l, c, v = ts[lo:hi], o[lo:hi], h[lo:hi], l[lo:hi], c[lo:hi], v[lo:hi]
    if not len(ts):
        return []
    if unit == 7:
        idx = np.arange(len(ts)) // max(1, unit_number)
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        bstart = ts[starts]
        complete = np.r_[starts[1:], len(ts)] - starts == unit_number
    else:
        kstart, kend = _keys(ts, unit, unit_number)
        starts = np.flatnonzero(np.r_[True, kstart[1:] != kstart[:-1]])
        bstart = kstart[starts]
        complete = kend[starts] <= now_ns
        # the source bar itself must be over for its bucket to count as complete
        last_src_end = np.r_[ts[starts[1:] - 1], ts[-1]] + bar_ns
        complete &= last_src_end <= now_ns
    ends = np.r_[starts[1:], len(ts)]
    bo = o[starts]
    bc = c[ends - 1]
    bh = np.maximum.reduceat(h, starts)
    bl = np.minimum.reduceat(l, starts)
    bv = np.add.reduceat(v, starts)
    keep = (bstart >= start_ns) & (bstart < end_ns)
    if not include_partial:
        keep &= complete
    sel = np.flatnonzero(keep)[::-1][:limit]
    return [(int(bstart[i]), float(bo[i]), float(bh[i]), float(bl[i]), float(bc[i]), int(bv[i]))
            for i in sel]
