"""Helpers shared by every reader: frame assembly, bar-size detection, root splitting.

Nothing here sorts rows: a reader hands rows on in file order and validation reports
unsorted or duplicated timestamps with their row numbers (a silent sort would hide a
broken export, and a broken export usually means broken prices too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets.schema import NS_PER_SECOND
from core.domain import INSTRUMENTS, root_of
from core.errors import DataError

Progress = Callable[[float], None] | None

#: Bar sizes the project resamples from; other whole-second sizes are accepted as read.
COMMON_BAR_SECONDS: tuple[int, ...] = (1, 60, 3600, 86400)

#: Rough upper price bound per root (index points/USD). A level above it is not a real
#: quote of that instrument but a scaling problem (e.g. DBN fixtures stored 100× too large).
PLAUSIBLE_MAX_PRICE: dict[str, float] = {
    "ES": 20_000.0, "MES": 20_000.0, "NQ": 60_000.0, "MNQ": 60_000.0,
    "SPY": 5_000.0, "QQQ": 5_000.0, "BTCUSDT": 5_000_000.0, "ETHUSDT": 500_000.0,
    "BNBUSDT": 100_000.0, "SOLUSDT": 100_000.0,
}

#: Rough lower bound for futures roots (ES last traded below 700 in 2009): prices far below
#: it mean a scale error the other way (e.g. /100).
PLAUSIBLE_MIN_PRICE: dict[str, float] = {"ES": 300.0, "MES": 300.0, "NQ": 500.0, "MNQ": 500.0}

#: A middle-of-history level per root, only to suggest the scale factor of a bad file.
TYPICAL_PRICE: dict[str, float] = {"ES": 3000.0, "MES": 3000.0, "NQ": 10_000.0,
                                   "MNQ": 10_000.0, "SPY": 300.0, "QQQ": 300.0,
                                   "BTCUSDT": 30_000.0, "ETHUSDT": 2_000.0,
                                   "BNBUSDT": 300.0, "SOLUSDT": 100.0}


@dataclass(frozen=True)
class RawBars:
    """Bars of one file before splitting by root (arrays in file order)."""

    timestamp: np.ndarray  # int64 UTC ns, bar start
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    symbol: pd.Categorical


def detect_bar_seconds(ts: np.ndarray, *, default: int, notes: list[str]) -> int:
    """The bar size in seconds: the most common positive step between neighbouring rows.

    Only the first 200,000 steps are looked at: that is plenty to find the mode and keeps
    this O(1) in the file size (a full sort of 33 M steps costs seconds).
    """
    sample = ts[: 200_001]
    if len(sample) < 2:
        notes.append(f"bar size cannot be detected from {len(sample)} row(s); assumed {default} s")
        return default
    steps = np.diff(sample)
    steps = steps[steps > 0]
    if len(steps) == 0:
        notes.append(f"bar size cannot be detected (no increasing timestamps); assumed {default} s")
        return default
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    if step % NS_PER_SECOND:
        raise DataError(
            f"the most common step between bars is {step / NS_PER_SECOND:g} s, not a whole "
            "number of seconds: these do not look like time bars",
            hint="import bars (1 s, 1 min, ...) rather than ticks or quotes")
    seconds = step // NS_PER_SECOND
    if seconds not in COMMON_BAR_SECONDS:
        notes.append(f"unusual bar size {seconds} s detected (expected 1, 60, 3600 or 86400)")
    return int(seconds)


def to_categorical(values: np.ndarray | list[str] | pd.Categorical) -> pd.Categorical:
    """A categorical of symbol strings (upper-cased, stripped)."""
    cat = values if isinstance(values, pd.Categorical) else pd.Categorical(values)
    cleaned = [str(c).strip().upper() for c in cat.categories]
    if cleaned != list(cat.categories):
        cat = cat.rename_categories(cleaned) if len(set(cleaned)) == len(cleaned) else \
            pd.Categorical(np.asarray(cleaned, dtype=object)[cat.codes])
    return cat


def split_by_root(raw: RawBars) -> list[tuple[str, pd.DataFrame, np.ndarray | None]]:
    """Split bars into one canonical frame per instrument root, keeping file order.

    Returns:
        ``(root, frame, rows)`` triples sorted by root; ``rows`` is ``None`` when the file
        holds a single root (frame row i is file row i), else the file row of each frame row.
    """
    cat = raw.symbol
    cats = [str(c) for c in cat.categories]
    roots = np.asarray([root_of(c) for c in cats] or [""], dtype=object)
    uniq = sorted(set(roots.tolist()) - {""}) if cats else []
    if len(uniq) <= 1:
        root = uniq[0] if uniq else ""
        return [(root, _frame(raw, None, None), None)]
    out = []
    code_root = np.asarray([uniq.index(r) for r in roots], dtype=np.int64)
    per_row = code_root[cat.codes]
    for i, root in enumerate(uniq):
        rows = np.flatnonzero(per_row == i)
        out.append((root, _frame(raw, rows, np.flatnonzero(code_root == i)), rows))
    return out


def _frame(raw: RawBars, rows: np.ndarray | None, keep: np.ndarray | None) -> pd.DataFrame:
    """Canonical frame of ``rows`` (all when None) keeping categories ``keep`` (all when None).

    No per-row pass over the symbol codes when nothing is split: 33 M codes cost ~1 s to
    scan for unused categories here, and file dictionaries hold only used values anyway.
    """
    def take(a: np.ndarray) -> np.ndarray:
        if rows is not None:
            return a[rows]
        # Arrow-backed arrays are read-only views; a frame built on them breaks every later
        # in-place edit ("assignment destination is read-only"), so own a copy then.
        return a if a.flags.writeable else a.copy()

    sym = raw.symbol
    if rows is not None and keep is not None:
        remap = np.full(len(sym.categories), -1, dtype=np.int32)
        remap[keep] = np.arange(len(keep), dtype=np.int32)
        sym = pd.Categorical.from_codes(remap[np.asarray(sym.codes)[rows]],
                                        categories=sym.categories[keep])
    cols = {
        "timestamp": np.asarray(take(raw.timestamp), dtype=np.int64),
        "open": np.asarray(take(raw.open), dtype=np.float64),
        "high": np.asarray(take(raw.high), dtype=np.float64),
        "low": np.asarray(take(raw.low), dtype=np.float64),
        "close": np.asarray(take(raw.close), dtype=np.float64),
        # Crypto volume is a fractional base-asset amount: kept as float (core.datasets.schema).
        "volume": np.asarray(take(raw.volume),
                             dtype=np.float64 if raw.volume.dtype.kind == "f" else np.int64),
    }
    # Series wrappers with copy=False keep one block per column: a plain dict would be
    # consolidated into a 2-D float block, copying ~1 GB at 33 M rows.
    data = {k: pd.Series(v, copy=False) for k, v in cols.items()}
    data["symbol"] = pd.Series(sym, copy=False)
    return pd.DataFrame(data, copy=False)


def price_level_note(root: str, frame: pd.DataFrame) -> str | None:
    """A note when prices are far outside anything the root ever traded at (a scale error)."""
    limit = PLAUSIBLE_MAX_PRICE.get(root)
    if limit is None or len(frame) == 0:
        return None
    close = frame["close"].to_numpy()
    close = close[:: max(1, len(close) // 100_000)]  # a sample is plenty for a median
    med = float(np.nanmedian(close)) if np.isfinite(close).any() else float("nan")
    floor = PLAUSIBLE_MIN_PRICE.get(root, 0.0)
    typical = TYPICAL_PRICE.get(root, limit / 3)
    if np.isfinite(med) and 0 < med < floor:
        scale = 10 ** max(1, round(float(np.log10(typical / med))))
        return (f"implausible price level for {root}: median close {med:,.4f} (below "
                f"{floor:,.0f}); prices look {scale}x too small — multiply by {scale} before use "
                "(the file is NOT rescaled here)")
    if not np.isfinite(med) or med <= limit:
        return None
    scale = 10 ** max(1, round(float(np.log10(med / typical))))
    return (f"implausible price level for {root}: median close {med:,.2f} (above {limit:,.0f}); "
            f"prices look {scale}x too large — divide by {scale} before use "
            "(the file is NOT rescaled here)")


def check_path(path: Path) -> None:
    """Raise a DataError naming the path if it does not exist."""
    if not path.exists():
        raise DataError(f"{path}: no such file or directory",
                        hint="check the path (relative paths are from the current directory)")


def known_root(root: str) -> bool:
    """Whether the root is a known instrument."""
    return root in INSTRUMENTS


def report(progress: Progress, value: float) -> None:
    """Call the progress callback if there is one."""
    if progress is not None:
        progress(min(max(value, 0.0), 1.0))


def ticks_to_second_bars(ts: np.ndarray, price: np.ndarray, size: np.ndarray | None,
                         symbol: pd.Categorical, notes: list[str], what: str) -> RawBars:
    """Aggregate trade ticks into 1-second bars per symbol (vectorised).

    open/high/low/close = first/max/min/last price in each UTC second (ticks keep their file
    order inside a second); volume = summed sizes, or the number of trades when there are
    no sizes (said in the notes); the bar is stamped with the start of its second.
    """
    codes = np.asarray(symbol.codes, dtype=np.int64)
    if len(ts) > 1 and (ts[1:] < ts[:-1]).any():
        notes.append(f"{int((ts[1:] < ts[:-1]).sum())} tick(s) out of time order; bars are "
                     "built per second regardless")
    sec = ts // NS_PER_SECOND
    order = np.lexsort((sec, codes))  # stable: file order kept inside a second
    sec_o, code_o, px = sec[order], codes[order], price[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (sec_o[1:] != sec_o[:-1]) | (code_o[1:] != code_o[:-1])
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [len(order)]]) - 1
    if size is None:
        vol = np.diff(np.concatenate([starts, [len(order)]])).astype(np.int64)
        how = "volume = number of trades (the file has no sizes)"
    else:
        vol = np.add.reduceat(np.asarray(size, dtype=np.int64)[order], starts)
        how = "volume = summed trade sizes"
    notes.append(f"{len(ts):,} {what} aggregated into {len(starts):,} 1-second bars (first/max/"
                 f"min/last price per second; {how}; stamp = start of the second)")
    sym = pd.Categorical.from_codes(code_o[starts].astype(np.int32), categories=symbol.categories)
    return RawBars(sec_o[starts] * NS_PER_SECOND, px[starts], np.maximum.reduceat(px, starts),
                   np.minimum.reduceat(px, starts), px[ends], vol, sym)
