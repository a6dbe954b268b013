"""Fast synthetic bar paths for backtest tests and benchmarks (vectorised, seeded).

A random walk on the tick grid placed on real CME session seconds (DST and early closes
included), with an optional drift (a *trend* in ticks per bar). Unlike
``core.datasets.synth`` (calibrated, realistic, slower) this one is built for speed and for
controlled experiments: e.g. "a trend strategy on trending data must be positive".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import calendar as cal
from core.datasets.schema import make_frame
from core.errors import DataError


def session_seconds(n: int, *, start: str = "2024-03-04", bar_seconds: int = 1,
                    rth_only: bool = True, stride: int = 1) -> np.ndarray:
    """``n`` bar timestamps (UTC ns) inside successive sessions, every ``stride`` bars kept."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    step = int(bar_seconds) * 1_000_000_000
    out: list[np.ndarray] = []
    have = 0
    day0 = pd.Timestamp(start)
    span = 30
    while have < n:
        ses = cal.sessions(day0, day0 + pd.Timedelta(days=span))
        for r in ses.itertuples(index=False):
            lo = int(r.rth_open_ns if rth_only else r.open_ns)
            hi = int(r.rth_close_ns if rth_only else r.close_ns)
            if hi <= lo:
                continue
            t = np.arange(lo, hi, step * stride, dtype=np.int64)
            out.append(t)
            have += len(t)
            if have >= n:
                break
        day0 = day0 + pd.Timedelta(days=span + 1)
    return np.concatenate(out)[:n]


def random_walk_bars(n: int, *, seed: int = 0, start: str = "2024-03-04", bar_seconds: int = 1,
                     rth_only: bool = True, drift_ticks: float = 0.0, sigma_ticks: float = 1.0,
                     start_price: float = 5000.0, tick: float = 0.25) -> pd.DataFrame:
    """A canonical bar frame: integer-tick random walk with drift, on session timestamps.

    Args:
        n: Number of bars.
        seed: RNG seed (same seed → same bars).
        start: First calendar date.
        bar_seconds: Bar length.
        rth_only: Only 09:30-16:00 ET (else whole Globex sessions).
        drift_ticks: Mean close-to-close change in ticks per bar (a trend).
        sigma_ticks: Standard deviation of the per-bar change in ticks.
        start_price: First price.
        tick: Tick size.
    """
    if n < 0:
        raise DataError(f"n must be >= 0, got {n}", hint="ask for a positive number of bars")
    rng = np.random.default_rng(seed)
    ts = session_seconds(n, start=start, bar_seconds=bar_seconds, rth_only=rth_only)
    steps = np.rint(rng.normal(drift_ticks, sigma_ticks, n)).astype(np.int64)
    close_t = np.int64(round(start_price / tick)) + np.cumsum(steps)
    open_t = np.empty(n, dtype=np.int64)
    if n:
        open_t[0] = close_t[0] - steps[0]
        open_t[1:] = close_t[:-1]
    up = rng.geometric(0.6, n) - 1
    dn = rng.geometric(0.6, n) - 1
    high_t = np.maximum(open_t, close_t) + up
    low_t = np.minimum(open_t, close_t) - dn
    vol = rng.integers(1, 40, n)
    return make_frame(ts, open_t * tick, high_t * tick, low_t * tick, close_t * tick, vol, "MES")
