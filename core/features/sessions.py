"""Session tables for the feature kernel, built from ``core.calendar``.

The kernel walks a small sorted table of sessions (one row per CME trading day) with a
forward-only pointer, so both the batch loop and a streaming update find the current
session in O(1) amortised time without any per-bar time-zone conversion. Batch and
streaming build the table from the same calendar rows, hence identical numbers.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from core import calendar as cal
from core.features import kernel as K

_NS_PER_DAY = 86_400 * 1_000_000_000


def session_table(first_ns: int, last_ns: int, flatten_hhmm: str, flatten_tz: str
                  ) -> np.ndarray:
    """int64 table (n_sessions x 6) covering every session that may contain ``[first, last]``.

    Columns: Globex open, Globex close, RTH open, RTH close, flatten deadline (capped at the
    close), trading day (days since epoch). Sorted by open.
    """
    d0 = (pd.Timestamp(int(first_ns), unit="ns") - timedelta(days=3)).date()
    d1 = (pd.Timestamp(int(last_ns), unit="ns") + timedelta(days=3)).date()
    s = cal.sessions(d0, d1)
    n = len(s)
    out = np.empty((n, K.N_SESS_COLS), dtype=np.int64)
    if n == 0:
        return out
    out[:, K.C_OPEN] = s["open_ns"].to_numpy(dtype=np.int64)
    out[:, K.C_CLOSE] = s["close_ns"].to_numpy(dtype=np.int64)
    out[:, K.C_RTH_OPEN] = s["rth_open_ns"].to_numpy(dtype=np.int64)
    out[:, K.C_RTH_CLOSE] = s["rth_close_ns"].to_numpy(dtype=np.int64)
    days = s["trading_day"].to_numpy().astype("datetime64[ns]").view(np.int64) // _NS_PER_DAY
    out[:, K.C_DAY] = days
    # Flatten deadline: hh:mm local on the trading day, capped at the session close (early
    # closes pull it forward), the same rule as core.calendar.flatten_deadline_ns.
    for i, day in enumerate(s["trading_day"]):
        local = cal.local_time_ns(day, flatten_hhmm, flatten_tz)
        out[i, K.C_FLAT] = min(local, int(out[i, K.C_CLOSE]))
    return out
