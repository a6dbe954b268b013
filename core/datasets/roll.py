"""Contract rolls in continuous futures series: detect them, and optionally back-adjust.

Two kinds of series reach us:

* **Contract-coded** (``symbol`` holds ``MESZ3``, ``MESH4`` …): a roll is a change of symbol,
  certain by construction.
* **Root-only** (``symbol`` is ``MES`` on every row, e.g. vendor "unadjusted continuous front
  month" files): the contract is not given, so a roll can only be *suspected* — a session-open
  jump far larger than the usual session-open gap, falling in the days before a quarterly
  (H/M/U/Z) third-Friday expiry, when volume moves to the next contract.

The gap of a roll is ``first open of the new contract − last close of the old`` in points.
:func:`back_adjust` removes those gaps so that returns across a roll are not fake moves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.datasets.resample import session_ids
from core.datasets.schema import COLUMNS, PRICE_COLUMNS
from core.domain.instruments import INSTRUMENTS, MONTH_CODES, QUARTERLY_MONTHS, root_of
from core.errors import ConfigError, DataError

__all__ = ["Roll", "back_adjust", "detect_rolls", "third_friday"]

_CODE_OF_MONTH = {v: k for k, v in MONTH_CODES.items()}


@dataclass(frozen=True, slots=True)
class Roll:
    """One contract roll in a continuous series.

    Attributes:
        ts_ns: Timestamp (UTC ns) of the first bar of the new contract.
        from_symbol: Contract rolled out of (inferred code like ``MESZ3`` when suspected).
        to_symbol: Contract rolled into (inferred code like ``MESH4`` when suspected).
        gap: First open of the new contract minus last close of the old, in points.
        index: Row index (position) of the first bar of the new contract.
        suspected: True when inferred from a price jump in a root-only series.
    """

    ts_ns: int
    from_symbol: str
    to_symbol: str
    gap: float
    index: int
    suspected: bool = False


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of ``month`` (quarterly equity-index futures expire then)."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _next_expiry(day: dt.date) -> dt.date:
    """The first quarterly expiry (third Friday of Mar/Jun/Sep/Dec) on or after ``day``."""
    quarter_months = sorted(MONTH_CODES[c] for c in QUARTERLY_MONTHS)
    for year in (day.year, day.year + 1):
        for month in quarter_months:
            exp = third_friday(year, month)
            if exp >= day:
                return exp
    raise AssertionError("unreachable")  # pragma: no cover


def _contract(root: str, expiry: dt.date) -> str:
    return f"{root}{_CODE_OF_MONTH[expiry.month]}{expiry.year % 10}"


def _trading_date(ts_ns: int) -> dt.date:
    """ET trading date of a bar (Globex sessions open 18:00 ET for the next day)."""
    local = pd.Timestamp(ts_ns, tz="UTC").tz_convert("America/New_York")
    return (local + pd.Timedelta(hours=6)).date()


def detect_rolls(frame: pd.DataFrame, *, jump_factor: float = 5.0,
                 min_jump_frac: float = 0.001, window_days: int = 10) -> list[Roll]:
    """Find the contract rolls of a continuous bar series.

    With contract codes in ``symbol``, every change of symbol is a roll. With a root-only
    series, a session open is flagged as a *suspected* roll when its gap to the previous
    session's last close exceeds both ``jump_factor`` × the median absolute session-open gap
    and ``min_jump_frac`` of price, and its trading date lies within ``window_days`` before a
    quarterly third-Friday expiry; at most one (the largest) per expiry.

    Args:
        frame: Canonical bar frame sorted by timestamp.
        jump_factor: Multiple of the median absolute session-open gap a roll must exceed.
        min_jump_frac: Minimum jump as a fraction of price (guards a near-zero median).
        window_days: How many calendar days before expiry a roll may happen.

    Returns:
        Rolls in time order.
    """
    missing = [c for c in ("timestamp", "open", "close", "symbol") if c not in frame.columns]
    if missing:
        raise DataError(f"bar frame lacks column(s) {', '.join(missing)}",
                        hint="pass a canonical bar frame (core.datasets.schema)")
    n = len(frame)
    if n < 2:
        return []
    sym = frame["symbol"]
    if not isinstance(sym.dtype, pd.CategoricalDtype):
        sym = sym.astype("category")
    codes = sym.cat.codes.to_numpy()
    cats = [str(c) for c in sym.cat.categories]
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    opens = frame["open"].to_numpy(dtype=np.float64)
    closes = frame["close"].to_numpy(dtype=np.float64)
    if codes.min() < 0:
        raise DataError(f"row {int(np.flatnonzero(codes < 0)[0])} has no symbol",
                        hint="fill the symbol column (root or contract code)")
    # Which categories occur (np.unique hashes 33 M rows slowly; a bincount does not).
    counts = np.bincount(codes.astype(np.intp), minlength=len(cats))
    used = {cats[c] for c in np.flatnonzero(counts)}
    if any(root_of(s) != s for s in used):
        idx = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        return [Roll(int(ts[i]), cats[codes[i - 1]], cats[codes[i]],
                     float(opens[i] - closes[i - 1]), int(i)) for i in idx]
    root = root_of(next(iter(used)))
    inst = INSTRUMENTS.get(root)
    if inst is not None and not inst.months:  # spot/ETF series have no contracts to roll
        return []
    return _suspected_rolls(ts, opens, closes, root, jump_factor, min_jump_frac, window_days)


def _suspected_rolls(ts: np.ndarray, opens: np.ndarray, closes: np.ndarray, root: str,
                     jump_factor: float, min_jump_frac: float, window_days: int) -> list[Roll]:
    sid = session_ids(ts)
    firsts = np.flatnonzero((sid[1:] != sid[:-1]) & (sid[1:] >= 0)) + 1
    if firsts.size == 0:
        return []
    gaps = opens[firsts] - closes[firsts - 1]
    typical = float(np.median(np.abs(gaps)))
    threshold = np.maximum(jump_factor * typical, min_jump_frac * np.abs(closes[firsts - 1]))
    best: dict[dt.date, Roll] = {}
    for i, gap, thr in zip(firsts, gaps, threshold, strict=True):
        if abs(gap) <= thr:
            continue
        day = _trading_date(int(ts[i]))
        expiry = _next_expiry(day)
        if (expiry - day).days > window_days:
            continue
        nxt = _next_expiry(expiry + dt.timedelta(days=1))
        roll = Roll(int(ts[i]), _contract(root, expiry), _contract(root, nxt), float(gap),
                    int(i), suspected=True)
        if expiry not in best or abs(gap) > abs(best[expiry].gap):
            best[expiry] = roll
    return sorted(best.values(), key=lambda r: r.index)


def back_adjust(frame: pd.DataFrame, rolls: list[Roll],
                method: Literal["difference", "ratio"] = "difference") -> pd.DataFrame:
    """Remove roll gaps by shifting (or scaling) every price before each roll.

    ``difference`` adds the later gaps to older prices: the series is continuous, the newest
    contract's prices are unchanged, and prices stay on the tick grid (the gaps are tick
    multiples). ``ratio`` multiplies older prices by ``new open / old close``: percentage
    returns are preserved but prices leave the tick grid. Volume and symbols are unchanged.

    Args:
        frame: Canonical bar frame the rolls were detected on.
        rolls: Rolls from :func:`detect_rolls` (their ``index`` refers to ``frame`` rows).
        method: ``'difference'`` or ``'ratio'``.

    Returns:
        A new frame; ``frame`` is not modified.

    Raises:
        ConfigError: Unknown method.
        DataError: A roll's index does not fit the frame or the ratio is not positive.
    """
    if method not in ("difference", "ratio"):
        raise ConfigError(f"unknown back-adjust method {method!r}",
                          hint="use 'difference' (keeps the tick grid) or 'ratio'")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"bar frame lacks column(s) {', '.join(missing)}",
                        hint="pass a canonical bar frame (core.datasets.schema)")
    out = frame.copy()
    n = len(frame)
    if not rolls:
        return out
    closes = frame["close"].to_numpy(dtype=np.float64)
    opens = frame["open"].to_numpy(dtype=np.float64)
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    # Per-row adjustment: a roll at row i adjusts rows [0, i). Built by scattering each roll's
    # term at i-1 and accumulating from the end.
    term = np.zeros(n, dtype=np.float64) if method == "difference" else np.ones(n)
    for r in rolls:
        if not 0 < r.index < n or int(ts[r.index]) != r.ts_ns:
            raise DataError(
                f"roll {r.from_symbol}→{r.to_symbol} at row {r.index} "
                f"({pd.Timestamp(r.ts_ns, tz='UTC')}) does not match this frame",
                hint="detect the rolls on the same frame you back-adjust")
        if method == "difference":
            term[r.index - 1] += opens[r.index] - closes[r.index - 1]
        else:
            if closes[r.index - 1] <= 0 or opens[r.index] <= 0:
                raise DataError(f"ratio back-adjust needs positive prices at row {r.index}",
                                hint="use method='difference'")
            term[r.index - 1] *= opens[r.index] / closes[r.index - 1]
    if method == "difference":
        adj = np.cumsum(term[::-1])[::-1]
        for c in PRICE_COLUMNS:
            out[c] = frame[c].to_numpy(dtype=np.float64) + adj
    else:
        adj = np.cumprod(term[::-1])[::-1]
        for c in PRICE_COLUMNS:
            out[c] = frame[c].to_numpy(dtype=np.float64) * adj
    return out

