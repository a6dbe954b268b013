"""A tiny deterministic random-walk bar frame (no numba, instant) for tests and quick demos.

``core.datasets.synth.generate`` gives far more realistic MES days; this one exists so the
simulator can start in milliseconds with no data at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.calendar import local_time_ns
from core.datasets.schema import make_frame


def random_walk_bars(n: int = 3_600, seed: int = 0, *, day: str = "2024-01-03",
                     start: str = "08:30", price: float = 4_800.0, tick: float = 0.25,
                     symbol: str = "MESH4") -> pd.DataFrame:
    """``n`` one-second bars from ``start`` Central time on ``day`` (canonical bar frame).

    Args:
        n: Number of bars.
        seed: RNG seed (same arguments → same frame).
        day: Calendar date (YYYY-MM-DD).
        start: Wall-clock start in America/Chicago.
        price: First open.
        tick: Tick size (prices stay on the grid).
        symbol: Contract code put in ``symbol``.
    """
    rng = np.random.default_rng(seed)
    steps = rng.choice([-1, 0, 0, 1], size=n)
    close_t = np.round(price / tick) + np.cumsum(steps)
    open_t = np.r_[np.round(price / tick), close_t[:-1]]
    hi_t = np.maximum(open_t, close_t) + rng.integers(0, 2, size=n)
    lo_t = np.minimum(open_t, close_t) - rng.integers(0, 2, size=n)
    t0 = local_time_ns(day, start, "America/Chicago")
    ts = t0 + np.arange(n, dtype=np.int64) * 1_000_000_000
    vol = rng.integers(1, 60, size=n)
    return make_frame(ts, open_t * tick, hi_t * tick, lo_t * tick, close_t * tick, vol, symbol)
