"""Seeded synthetic crypto 1-minute bars (24/7, percentage moves, fractional volume).

What it imitates (a Binance spot pair such as BTCUSDT):

* Every minute of every day (no sessions, no holidays, weekends included), stamped with the
  bar START in UTC like Binance's open time.
* Log returns with volatility clustering (GARCH(1,1)-style variance), an intraday activity
  cycle (busiest around the US equity open, 13:30–16:00 UTC; quietest 02:00–06:00 UTC) and
  quieter weekends. Daily volatility ≈ ``daily_vol`` (default 2.5 %, ≈ 0.066 % a minute).
* Prices on the instrument's tick grid (0.01 USDT); ``open`` = previous close; ``high``/``low``
  extend beyond the body; ``low ≤ open, close ≤ high`` always.
* Volume in base-asset units, FRACTIONAL and rounded to the lot size (0.00001 BTC), following
  activity and the size of the move.
* With ``planted=False`` the increments are sign-symmetric given the volatility: the price is a
  martingale and **no feature can predict the direction** — a correct pipeline says "no edge".

PLANTED PATTERN (``planted=True``; causal; scaled by ``strength``):

    When no drift is active and a minute's log return is at least 2 × its model volatility
    in size (|z| ≥ 2) on at least 1.5 × the typical volume of that time of day, the next
    10 minutes drift in the direction of that minute: each adds ``strength × 0.02 %`` to its
    log return (``strength × 0.2 %`` over the window). Then the rule re-arms. The condition
    holds on about 3 % of minutes.

The 1-minute return and relative volume features of the ``crypto_1m`` set can see it.
:func:`write_binance_klines` writes bars in the published Binance kline layout (12 columns,
no header, ms or µs open times, optionally zipped) so the whole import path can be exercised
without network access.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd

from core.datasets.schema import make_frame
from core.domain import get_instrument
from core.errors import ConfigError

PLANTED_PATTERN = ("after a 1-minute move of |z| >= 2 (z = return / model volatility) on >= 1.5x "
                   "the usual volume, the next 10 minutes drift the same way by strength x 0.2 % "
                   "in total")
#: Typical price and per-minute base volume of each pair (a starting point, not a quote).
DEFAULTS = {"BTCUSDT": (42_000.0, 12.0), "ETHUSDT": (2_300.0, 150.0),
            "BNBUSDT": (310.0, 400.0), "SOLUSDT": (100.0, 2_500.0)}
MAX_DAYS = 3 * 366
_NS_MIN = 60 * 1_000_000_000


def activity(minute_of_day: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Relative activity (volatility and volume multiplier) by UTC minute and weekday."""
    h = minute_of_day / 60.0
    day = 1.0 + 0.6 * np.exp(-0.5 * ((h - 14.5) / 1.5) ** 2) + 0.25 * np.exp(
        -0.5 * ((h - 8.0) / 1.2) ** 2) - 0.25 * np.exp(-0.5 * ((h - 4.0) / 2.0) ** 2)
    return day * np.where(weekday >= 5, 0.7, 1.0)


@nb.njit(cache=True, nogil=True)
def _path(z: np.ndarray, act: np.ndarray, vol_noise: np.ndarray, sigma: float,
          planted: bool, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Log returns with GARCH variance and the planted drift; volume multipliers."""
    n = z.shape[0]
    r = np.empty(n)
    vm = np.empty(n)
    omega, alpha, beta = 0.05, 0.08, 0.87          # unconditional variance 1 (in sigma units)
    var = 1.0
    drift_left = 0
    drift = 0.0
    step = strength * 0.0002
    for i in range(n):
        s = sigma * act[i] * math.sqrt(var)
        e = z[i]
        ri = s * e
        if drift_left > 0:
            ri += drift
            drift_left -= 1
        r[i] = ri
        v = act[i] * vol_noise[i] * (1.0 + 0.8 * abs(e))
        vm[i] = v
        if planted and drift_left == 0 and abs(e) >= 2.0 and v >= 1.5 * act[i] * 1.6:
            drift_left = 10
            drift = step if e > 0 else -step
        var = omega + alpha * e * e * var + beta * var
    return r, vm


def generate_crypto(days: int, seed: int = 0, *, symbol: str = "BTCUSDT",
                    start: str = "2024-01-01", price: float | None = None,
                    daily_vol: float = 0.025, planted: bool = False, strength: float = 1.0,
                    progress: Callable[[float], None] | None = None) -> pd.DataFrame:
    """``days`` × 1,440 one-minute bars of a crypto pair (canonical frame, float volume).

    Args:
        days: Calendar days (every day trades).
        seed: Random seed (same seed → same bars).
        symbol: A crypto pair of core.domain (BTCUSDT, ETHUSDT, BNBUSDT, SOLUSDT).
        start: First UTC date.
        price: Starting price (default: a typical level of the pair).
        daily_vol: Daily volatility of log returns (0.025 = 2.5 %).
        planted: Add the documented pattern (see the module docstring).
        strength: Scale of the planted drift.
        progress: Optional callback receiving the fraction done.

    Raises:
        ConfigError: Unknown or non-crypto symbol, bad days, start or volatility.
    """
    inst = get_instrument(symbol)
    if not inst.continuous:
        raise ConfigError(f"{symbol} is not a 24/7 crypto pair",
                          hint="use BTCUSDT, ETHUSDT, BNBUSDT or SOLUSDT")
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"days must be between 1 and {MAX_DAYS}, got {days}",
                          hint="generate longer histories in pieces with later --start dates")
    if not 0 < daily_vol < 0.5:
        raise ConfigError(f"daily_vol must be a fraction between 0 and 0.5, got {daily_vol}",
                          hint="e.g. 0.025 for 2.5 % a day")
    try:
        t0 = pd.Timestamp(start, tz="UTC").normalize().value
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read start {start!r} as a date",
                          hint="use YYYY-MM-DD, e.g. 2024-01-01") from exc
    p0, base_vol = DEFAULTS.get(inst.symbol, (100.0, 100.0))
    p0 = float(price or p0)
    n = int(days) * 1440
    rng = np.random.default_rng(seed)
    ts = t0 + np.arange(n, dtype=np.int64) * _NS_MIN
    minute = (ts // _NS_MIN) % 1440
    weekday = ((ts // (1440 * _NS_MIN)) + 3) % 7            # 1970-01-01 was a Thursday
    act = activity(minute.astype(np.float64), weekday)
    z = rng.standard_t(5, size=n) / math.sqrt(5 / 3)        # fat tails, unit variance
    vol_noise = np.exp(rng.normal(0.0, 0.5, size=n))
    sigma = daily_vol / math.sqrt(1440) / float(np.sqrt(np.mean(act ** 2)))
    r, vm = _path(z, act, vol_noise, sigma, planted, float(strength))
    if progress:
        progress(0.5)
    tick = inst.tick_size
    close = np.round(p0 * np.exp(np.cumsum(r)) / tick) * tick
    open_ = np.r_[np.round(p0 / tick) * tick, close[:-1]]
    ext = sigma * act * np.abs(rng.normal(0.0, 0.6, size=(2, n)))
    high = np.ceil(np.maximum(open_, close) * (1 + ext[0]) / tick - 1e-9) * tick
    low = np.floor(np.minimum(open_, close) * (1 - ext[1]) / tick + 1e-9) * tick
    lot = inst.lot_size
    volume = np.maximum(np.round(base_vol * vm / 1.6 / lot) * lot, lot)
    if progress:
        progress(1.0)
    decimals = max(0, -int(math.floor(math.log10(tick))))
    return make_frame(ts, np.round(open_, decimals), np.round(high, decimals),
                      np.round(low, decimals), np.round(close, decimals), volume, inst.symbol)


def kline_text(frame: pd.DataFrame, *, unit: str = "ms") -> str:
    """Bars as Binance kline CSV text: no header, 12 columns, open/close times in ``unit``."""
    if unit not in ("ms", "us"):
        raise ConfigError(f"unit must be 'ms' or 'us', got {unit!r}",
                          hint="Binance spot files use µs from 2025-01-01, ms before")
    div = 1_000_000 if unit == "ms" else 1_000
    ts = frame["timestamp"].to_numpy(np.int64)
    bar = int(np.median(np.diff(ts))) if len(ts) > 1 else _NS_MIN
    ot = ts // div
    ct = (ts + bar) // div - 1
    c = frame["close"].to_numpy(float)
    v = frame["volume"].to_numpy(float)
    trades = np.maximum((v * 37).astype(np.int64), 1)
    cols = [ot.astype(str)]
    cols += [np.char.mod("%.8f", frame[k].to_numpy(float)) for k in ("open", "high", "low",
                                                                       "close")]
    cols += [np.char.mod("%.8f", v), ct.astype(str), np.char.mod("%.8f", v * c),
             trades.astype(str), np.char.mod("%.8f", v / 2), np.char.mod("%.8f", v * c / 2),
             np.full(len(ts), "0")]
    lines = cols[0]
    for col in cols[1:]:
        lines = np.char.add(np.char.add(lines, ","), col)
    return "\n".join(lines.tolist()) + "\n"


def write_binance_klines(frame: pd.DataFrame, path: str | Path, *, unit: str = "ms") -> Path:
    """Write bars as a Binance kline file: ``.zip`` (one CSV of the same stem) or ``.csv``.

    Written to a temporary name and renamed, so a crash never leaves half a file.
    """
    p = Path(path)
    if p.suffix.lower() not in (".zip", ".csv"):
        raise ConfigError(f"{p}: a Binance kline file ends in .zip or .csv",
                          hint=f"e.g. {p.with_suffix('.zip').name}")
    text = kline_text(frame, unit=unit)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        if p.suffix.lower() == ".zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(p.with_suffix(".csv").name, text)
            Path(tmp).write_bytes(buf.getvalue())
        else:
            Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
