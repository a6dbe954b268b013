"""Seeded synthetic MES-like 1-second bars on the real CME calendar (noise or a planted pattern).

What it imitates (calibrated to the users' file: ~33.2 M 1-s rows over ~3 years, ~15.8 M in
RTH, and the reference 30-s / 3-tick class balance DOWN ~20 % / FLAT ~60 % / UP ~20 % in RTH):

* Full Globex sessions from :func:`core.calendar.sessions` (Sunday-Friday 18:00-17:00 ET,
  holidays absent, early closes honoured), or RTH only. ``days`` counts trading days.
* Prices are integer ticks (0.25 pt). A trade price moves only in seconds that have trades;
  seconds without trades are absent (~89 % of RTH seconds trade, ~40 % of ETH seconds).
* Volatility: intraday U-shape in RTH (busy open and close, quiet lunch), thinner overnight with
  bumps at the London open and the 08:30 ET data; day-to-day level changes; a slow and a fast
  log-volatility AR(1) (stochastic volatility => clustering of absolute returns). Volume follows
  the same activity, with its own short bursts.
* Increments are sign-symmetric integers independent of the past given the volatility, so with
  ``planted=False`` the price is a martingale: **no feature can predict the direction**.
* OHLC: open = previous trade price, close = this second's last trade price, high/low extend
  by a few ticks now and then; ``low <= min(open, close)``, ``max(open, close) <= high``.
* Quarterly contracts (``MESH4`` ...): the session of the roll day (the Thursday 8 days before
  the third-Friday expiry) starts the next contract, with a price jump equal to a carry spread
  (~3 %/yr of the price over the quarter, ~+0.7 %) plus a little noise.

PLANTED PATTERN (``planted=True``; causal; one rule, scaled by ``strength``):

    Let R60 be the change of the last trade price over the previous 60 seconds (ticks) and V60
    the volume traded in those 60 seconds, M the slow average of V60 (EMA of the per-second
    volume x 60, half-life 15 min). When no drift is active and |R60| >= 6 ticks and
    V60 > 2 x M, a drift starts in the direction of R60: for the next 30 seconds each trade
    second adds one extra tick in that direction with probability 0.25 x strength (about
    +6 ticks expected over the window in RTH at strength 1, where ~90 % of seconds trade).
    Then the rule re-arms. The condition holds in ~3.5 % of RTH seconds.

Measured (LightGBM 3-class, 200 trees, features = returns over 1-120 s, volumes over 1-120 s,
60-s volume / 30-min average, bar range, time of day; 30-s lookahead, 3-tick threshold;
20 RTH days, first 70 % train, last 30 % test; seeds 0-2): with ``planted=True`` the
UP-vs-DOWN AUC (score ``P(up) - P(down)`` on test rows that moved >= 3 ticks) is 0.561 / 0.581
/ 0.569; with ``planted=False`` it is 0.499 / 0.470 / 0.499 (labels overlap and volatility
clusters, so the spread around 0.5 is wider than the row count suggests).
Note: one-vs-rest AUCs (UP vs rest) are 0.60-0.74 even on pure noise, because *volatility* is
predictable (busy periods move more both ways) - they are not evidence of a directional edge.

Features of past returns (1-60 s) and volume relative to its rolling mean can find it; the
direction of returns in seconds outside such windows stays unpredictable.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from core import calendar as cal
from core.datasets.roll import third_friday
from core.datasets.schema import COLUMNS, NS_PER_SECOND
from core.errors import DataError

__all__ = ["PLANTED_PATTERN", "TICK", "generate", "generate_rows", "write_parquet"]

TICK = 0.25
PLANTED_PATTERN = (
    "momentum burst: when |60-s return| >= 6 ticks and the 60-s volume > 2x its 15-min-half-life "
    "average (and no drift is active), the next 30 s drift one extra tick per trade second with "
    "probability 0.25*strength in the direction of the 60-s return (~+6 ticks expected in RTH at "
    "strength 1); otherwise returns are unpredictable"
)

# Calibration (see module docstring). Per-trade-second tick sigma at activity 1.
_SIGMA = 0.86
_VOL_RTH, _VOL_ETH = 38.0, 6.0     # mean contracts per traded second
_ROWS_PER_DAY = {False: 43_500, True: 20_700}   # full session / RTH only (for generate_rows)
_QUARTER_CODES = {3: "H", 6: "M", 9: "U", 12: "Z"}
_CARRY_PER_YEAR = 0.03
# Planted rule constants (documented above).
_PL_K, _PL_VOLX, _PL_WIN, _PL_Q = 6, 2.0, 30, 0.25

Progress = Callable[[float], None] | None


# ----------------------------------------------------------------------------- profiles
def _profiles(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(volatility multiplier, trade probability, volume mean) at seconds ``u`` from 09:30 ET.

    ``u`` is negative overnight (18:00 ET the evening before is -55_800) and >= 23_400 after
    the 16:00 ET cash close.
    """
    m = u / 60.0                                   # minutes from the RTH open
    rth = (u >= 0) & (u < 23_400)
    # RTH: U-shape (busy first and last half hour, quiet lunch).
    v_rth = 0.72 + 0.95 * np.exp(-m / 22.0) + 0.55 * np.exp(-(390.0 - m) / 18.0)
    p_rth = np.minimum(0.995, 0.93 + 0.13 * np.exp(-m / 30.0) + 0.13 * np.exp(-(390.0 - m) / 25.0))
    # ETH: quiet Asia, London open ~03:00 ET, pre-market ramp, 08:30 ET data, post-close fade.
    h = 9.5 + m / 60.0                            # ET clock hours (negative = previous evening)
    h = np.where(h < 0, h + 24.0, h)               # 18:00-24:00 the evening before
    london = np.exp(-0.5 * ((h - 3.5) / 1.0) ** 2)
    premkt = np.clip((h - 6.0) / 3.5, 0.0, 1.0) * (h < 9.5)
    data = np.where((h >= 8.5) & (h < 9.5), np.exp(-(h - 8.5) * 60.0 / 8.0), 0.0)
    reopen = np.where(h >= 18.0, np.exp(-(h - 18.0) * 60.0 / 20.0), 0.0)
    post = np.where((h >= 16.0) & (h < 17.0), np.exp(-(h - 16.0) * 60.0 / 15.0), 0.0)
    v_eth = 0.30 + 0.15 * london + 0.20 * premkt + 0.8 * data + 0.25 * reopen + 0.3 * post
    p_eth = np.minimum(0.95, 0.305 + 0.25 * london + 0.45 * premkt + 0.3 * data
                       + 0.25 * reopen + 0.45 * post)
    vol = _SIGMA * np.where(rth, v_rth, v_eth)
    prob = np.where(rth, p_rth, p_eth)
    vmean = np.where(rth, _VOL_RTH * v_rth / 0.95, _VOL_ETH * v_eth / 0.35)
    return vol, prob, vmean


# ----------------------------------------------------------------------------- kernel
@numba.njit(cache=True)
def _kernel(seed: int, vol: np.ndarray, prob: np.ndarray, vmean: np.ndarray,  # pragma: no cover
            state: np.ndarray, planted: bool, q: float, pk: int, pvolx: float, pwin: int,
            out_i: np.ndarray, out_o: np.ndarray, out_h: np.ndarray, out_l: np.ndarray,
            out_c: np.ndarray, out_v: np.ndarray) -> int:
    """Simulate one session second by second; write traded seconds compactly; return count.

    state = [price ticks, slow log-vol, fast log-vol, volume burst, volume EMA (per s), day vol].
    Prices are int64 ticks stored in float64 slots (exact below 2**53).
    """
    np.random.seed(seed)
    price = np.int64(state[0])
    x_slow, x_fast, x_burst, v_ema, day_vol = state[1], state[2], state[3], state[4], state[5]
    n = vol.shape[0]
    ring_p = np.full(61, price, dtype=np.int64)   # last trade price at the end of each second
    ring_v = np.zeros(60, dtype=np.float64)       # volume of each of the last 60 seconds
    v60 = 0.0
    drift_left, drift_dir = 0, 0
    a_ema = 1.0 - math.exp(math.log(0.5) / 900.0)  # 15-minute half-life
    k = 0
    for i in range(n):
        # Stochastic volatility: slow (half-life ~20 min) and fast (~1 min) AR(1) in logs.
        x_slow = 0.99942 * x_slow + 0.0151 * np.random.normal()
        x_fast = 0.9885 * x_fast + 0.0560 * np.random.normal()
        x_burst = 0.98 * x_burst + 0.10 * np.random.normal()
        act = math.exp(x_slow + x_fast - 0.25)
        sig = vol[i] * act * day_vol                 # vol is already in ticks per second
        # Planted trigger reads only completed seconds (causal).
        if planted and drift_left == 0:
            r60 = ring_p[(i + 60) % 61] - ring_p[i % 61]   # price at i-1 minus price at i-61
            if abs(r60) >= pk and i >= 60 and v60 > pvolx * v_ema * 60.0:
                drift_left = pwin
                drift_dir = 1 if r60 > 0 else -1
        traded = np.random.random() < prob[i] * min(1.0, 0.75 + 0.25 * act)
        vol_now = 0.0
        if traded:
            o = price
            step = np.int64(round(sig * np.random.normal()))
            if drift_left > 0 and np.random.random() < q:
                step += drift_dir
            c = o + step
            # Occasional excursions beyond open/close inside the second.
            hi = max(o, c) + np.int64(math.floor(-math.log(1.0 - np.random.random()) * 0.35 * sig))
            lo = min(o, c) - np.int64(math.floor(-math.log(1.0 - np.random.random()) * 0.35 * sig))
            mean_v = vmean[i] * math.exp(0.6 * x_fast + x_burst - 0.05) * (1.0 + 0.3 * abs(step))
            v = 1 + np.int64(np.random.gamma(1.3, mean_v / 1.3))
            out_i[k] = i
            out_o[k] = o
            out_h[k] = hi
            out_l[k] = lo
            out_c[k] = c
            out_v[k] = v
            k += 1
            price = c
            vol_now = float(v)
        if drift_left > 0:
            drift_left -= 1
        ring_p[i % 61] = price                     # replaces the price of second i-61
        v60 += vol_now - ring_v[i % 60]            # window becomes seconds i-59..i
        ring_v[i % 60] = vol_now
        v_ema += a_ema * (vol_now - v_ema)
    state[0] = float(price)
    state[1], state[2], state[3], state[4] = x_slow, x_fast, x_burst, v_ema
    return k


# ----------------------------------------------------------------------------- contracts
def _contract_for(day: date, root: str) -> tuple[str, date]:
    """(contract code, its roll day) trading on ``day``: roll = Thursday 8 days before expiry."""
    for year in (day.year, day.year + 1):
        for month in (3, 6, 9, 12):
            expiry = third_friday(year, month)
            roll = expiry - timedelta(days=8)
            if day < roll:
                return f"{root}{_QUARTER_CODES[month]}{year % 10}", roll
    raise AssertionError("unreachable")  # pragma: no cover


# ----------------------------------------------------------------------------- public API
def _session_days(days: int, start: Any, rth_only: bool) -> pd.DataFrame:
    """The first ``days`` trading days on/after ``start`` (with RTH when ``rth_only``)."""
    first = pd.Timestamp(start).date()
    span = int(days * 1.5) + 20
    while True:
        tab = cal.sessions(first, first + timedelta(days=span))
        if rth_only:
            tab = tab[tab.rth_close_ns > tab.rth_open_ns]
        if len(tab) >= days:
            return tab.iloc[:days].reset_index(drop=True)
        span *= 2


#: Most trading days one ``generate`` call makes (memory: ~83 M full-session rows, ~4 GB).
MAX_DAYS = 1000


def check_start(start: Any) -> pd.Timestamp:
    """The first calendar date of generated data, checked (a real date between 1990 and 2200).

    Raises:
        DataError: Not a date (``2024-13-45``) or outside the supported years.
    """
    try:
        first = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise DataError(f"start {start!r} is not a date",
                        hint="write it as YYYY-MM-DD, e.g. 2024-01-02") from None
    if first is pd.NaT or not 1990 <= first.year <= 2200:
        raise DataError(f"start {start!r} is outside 1990-2200",
                        hint="write a date such as 2024-01-02") from None
    return first


def generate(days: int, seed: int = 0, *, start: str = "2024-01-02", symbol: str = "MES",
             planted: bool = False, strength: float = 1.0, rth_only: bool = False,
             start_price: float = 4800.0, progress: Progress = None) -> pd.DataFrame:
    """Generate ``days`` trading days of MES-like 1-second bars (canonical bar frame).

    Args:
        days: Trading days on the real CME calendar (>= 1).
        seed: Random seed; the same arguments give the same frame, and a longer run starts
            with exactly the bars of a shorter one.
        start: First calendar date considered (YYYY-MM-DD).
        symbol: Root; contract codes like ``MESH4`` go into ``symbol``.
        planted: Add the weak pattern described in :data:`PLANTED_PATTERN`.
        strength: Scales the planted pattern (0 = none; 1 = documented; max 8).
        rth_only: Only 09:30-16:00 ET (or early close) on days that have RTH.
        start_price: First price (points), rounded to the tick grid.
        progress: Called with 1 after each generated day.

    Returns:
        Bar frame sorted by timestamp; seconds without trades are absent.

    Raises:
        DataError: ``days`` outside 1..:data:`MAX_DAYS`, or ``start`` not a usable date.
    """
    if not 1 <= days <= MAX_DAYS:
        raise DataError(f"days must be between 1 and {MAX_DAYS:,} (about 4 years, ~83 M "
                        f"one-second rows), got {days:,}",
                        hint="generate a longer history in pieces with a later --start each")
    check_start(start)
    return _generate(days, seed, start=start, symbol=symbol, planted=planted, strength=strength,
                     rth_only=rth_only, start_price=start_price, progress=progress)


def _generate(days: int, seed: int, *, start: Any = "2024-01-02", symbol: str = "MES",
              planted: bool = False, strength: float = 1.0, rth_only: bool = False,
              start_price: float = 4800.0, progress: Progress = None,
              max_rows: int | None = None) -> pd.DataFrame:
    """:func:`generate`, optionally stopping once ``max_rows`` rows exist (trimmed, no copy)."""
    if days < 1:
        raise DataError(f"days must be >= 1, got {days}", hint="ask for at least one trading day")
    if not 0.0 <= strength <= 8.0:
        raise DataError(f"strength must be in [0, 8], got {strength}",
                        hint="1.0 is the documented pattern; 0 turns it off")
    if not start_price > 100.0:
        raise DataError(f"start_price must be > 100 points, got {start_price}",
                        hint="use a realistic index level such as 4800")
    tab = _session_days(days, start, rth_only)
    # One stream per purpose, so a longer run reproduces a shorter one exactly (prefix-stable).
    r_seed, r_gap, r_dvol = (np.random.default_rng(c) for c in
                             np.random.SeedSequence([int(seed), 7_919]).spawn(3))
    day_seeds = r_seed.integers(0, 2**31 - 1, size=days)
    gap_z = r_gap.standard_normal(size=days)
    dvol_z = r_dvol.standard_normal(size=days)
    state = np.array([round(start_price / TICK), 0.0, 0.0, 0.0, _VOL_RTH * 0.4, 1.0])
    q = _PL_Q * strength
    # Output columns are preallocated and the kernel writes straight into them: per-day chunks
    # + one big concatenate would hold ~2.4x the output at peak (freed small chunks stay in RSS).
    est = max_rows if max_rows is not None else int(days * _ROWS_PER_DAY[rth_only] * 1.1)
    out = _Columns(est + 90_000)
    codes: list[str] = []
    x_day, prev_end, prev_roll = 0.0, None, None
    for d in range(days):
        row = tab.iloc[d]
        day = row.trading_day.date()
        lo_ns = int(row.rth_open_ns if rth_only else row.open_ns)
        hi_ns = int(row.rth_close_ns if rth_only else row.close_ns)
        x_day = 0.8 * x_day + 0.25 * dvol_z[d]
        state[5] = math.exp(x_day - 0.05)
        if prev_end is not None:  # price moves while the market is shut (or not sampled)
            gap_h = (lo_ns - prev_end) / 3.6e12
            state[0] += round(gap_z[d] * (5.0 if rth_only else 3.0) * math.sqrt(gap_h) * state[5])
        code, roll = _contract_for(day, symbol)
        if prev_roll is not None and roll != prev_roll:   # new contract: carry spread jump
            spread = state[0] * _CARRY_PER_YEAR * 91 / 365
            state[0] += round(spread * (1.0 + 0.1 * gap_z[d]))
        prev_roll = roll
        if code not in codes:
            codes.append(code)
        n = (hi_ns - lo_ns) // NS_PER_SECOND
        u = (np.arange(n, dtype=np.float64) + (lo_ns - int(row.rth_open_ns)) / NS_PER_SECOND)
        if int(row.rth_close_ns) == int(row.rth_open_ns):   # holiday session: all overnight-like
            u = np.where((u >= 0) & (u < 23_400), -3600.0 * 4, u)
        vol, prob, vmean = _profiles(u)
        out.reserve(n)
        j = out.n
        k = _kernel(int(day_seeds[d]), vol, prob, vmean, state, planted and q > 0, q,
                    _PL_K, _PL_VOLX, _PL_WIN, *out.tails())
        out.ts[j:j + k] *= NS_PER_SECOND          # second index -> UTC ns, in place
        out.ts[j:j + k] += lo_ns
        for arr in (out.o, out.h, out.l, out.c):
            arr[j:j + k] *= TICK                    # ticks -> points (exact in float64)
        out.sym[j:j + k] = codes.index(code)
        out.n += k
        prev_end = hi_ns
        if progress is not None:
            progress(1)
        if max_rows is not None and out.n >= max_rows:
            out.n = max_rows                        # trim the last day: exactly max_rows rows
            break
    return out.frame(codes)


class _Columns:
    """Growable preallocated output columns; the frame is built on views (no final copy)."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        old = {k: getattr(self, k, None) for k in ("ts", "o", "h", "l", "c", "v", "sym")}
        self.capacity = capacity
        for name, dtype in (("ts", np.int64), ("o", np.float64), ("h", np.float64),
                            ("l", np.float64), ("c", np.float64), ("v", np.int64), ("sym", np.int16)):
            arr = np.empty(capacity, dtype)
            if old[name] is not None:
                arr[:self.n] = old[name][:self.n]
            setattr(self, name, arr)

    def reserve(self, extra: int) -> None:
        if self.n + extra > self.capacity:          # rare: estimate too small -> grow 1.5x
            self._alloc(max(self.n + extra, int(self.capacity * 1.5)))

    def tails(self) -> tuple[np.ndarray, ...]:
        j = self.n
        return self.ts[j:], self.o[j:], self.h[j:], self.l[j:], self.c[j:], self.v[j:]

    def frame(self, codes: list[str]) -> pd.DataFrame:
        n = self.n
        if n and (self.l[:n] < TICK).any():
            raise DataError("synthetic price fell below one tick",
                            hint="use another seed, fewer days or a higher start_price")
        sym = pd.Categorical.from_codes(self.sym[:n], categories=codes)
        # Same layout as schema.make_frame, but copy=False on views of the buffers.
        return pd.DataFrame({"timestamp": self.ts[:n], "open": self.o[:n], "high": self.h[:n],
                             "low": self.l[:n], "close": self.c[:n], "volume": self.v[:n],
                             "symbol": sym}, columns=list(COLUMNS), copy=False)


def generate_rows(rows: int, seed: int = 0, **kw: Any) -> pd.DataFrame:
    """About ``rows`` rows: enough trading days are generated, then trimmed to exactly ``rows``.

    Args:
        rows: Wanted row count (>= 1).
        seed: Random seed.
        **kw: Passed to :func:`generate` (``planted``, ``rth_only``, ``start`` ...).
    """
    if rows < 1:
        raise DataError(f"rows must be >= 1, got {rows}", hint="ask for at least one row")
    per_day = _ROWS_PER_DAY[bool(kw.get("rth_only", False))]
    days = max(1, math.ceil(rows / per_day * 1.5))   # generation stops at `rows` anyway
    while True:   # prefix-stable generation: retrying with more days only appends days
        frame = _generate(days, seed, max_rows=rows, **kw)
        if len(frame) >= rows:
            return frame
        days = math.ceil(days * rows / max(len(frame), 1) * 1.1) + 1


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a bar frame in the users' 1-second Parquet layout, atomically.

    Layout: ``timestamp`` int64 ns UTC, ``open/high/low/close`` float64, ``volume`` int64,
    ``symbol`` string; row groups of ~1 M rows. Written to a temp file in the same folder,
    then renamed, so a failure never leaves a half-written file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"cannot write {path}: frame lacks columns {missing}",
                        hint=f"a bar frame has columns {list(COLUMNS)}")
    target = Path(path)
    if target.is_dir():
        raise DataError(f"cannot write {path}: it is a directory",
                        hint=f"give a file name, e.g. {target / 'bars.parquet'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    sym = frame["symbol"]
    table = pa.table({
        "timestamp": pa.array(frame["timestamp"].to_numpy(np.int64), pa.int64()),
        **{c: pa.array(frame[c].to_numpy(np.float64), pa.float64()) for c in ("open", "high", "low", "close")},
        "volume": pa.array(frame["volume"].to_numpy(np.int64), pa.int64()),
        "symbol": pa.array(np.asarray(sym.astype(str)), pa.string()),
    })
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, row_group_size=1_000_000, compression="zstd")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
