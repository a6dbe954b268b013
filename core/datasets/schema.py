"""The canonical in-memory bar layout every reader produces and every consumer accepts.

A *bar frame* is a :class:`pandas.DataFrame` with exactly these columns, in this order:

============  ==========  ==========================================================
column        dtype       meaning
============  ==========  ==========================================================
timestamp     int64       bar **start**, nanoseconds since the epoch, UTC
open          float64     first trade price
high          float64     highest trade price
low           float64     lowest trade price
close         float64     last trade price
volume        int64       contracts traded in the bar (float64 base-asset amount for
                          instruments whose spec has ``fractional_volume``: crypto)
symbol        category    contract code (``MESZ3``) or root (``MES``) for continuous series
============  ==========  ==========================================================

Rows are sorted by ``timestamp`` (one instrument root per frame; a continuous series may
hold several contract codes in ``symbol``). A frame carries no index semantics (RangeIndex).
Bars with no trades are absent, not zero-filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS: tuple[str, ...] = ("timestamp", "open", "high", "low", "close", "volume", "symbol")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
NS_PER_SECOND: int = 1_000_000_000


def empty_frame() -> pd.DataFrame:
    """Return a bar frame with no rows and the canonical dtypes."""
    return pd.DataFrame({
        "timestamp": np.empty(0, dtype=np.int64),
        "open": np.empty(0, dtype=np.float64),
        "high": np.empty(0, dtype=np.float64),
        "low": np.empty(0, dtype=np.float64),
        "close": np.empty(0, dtype=np.float64),
        "volume": np.empty(0, dtype=np.int64),
        "symbol": pd.Categorical([]),
    })


def make_frame(timestamp: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
               close: np.ndarray, volume: np.ndarray, symbol: str | np.ndarray | pd.Categorical
               ) -> pd.DataFrame:
    """Assemble a bar frame from arrays, coercing dtypes (no validation; see validate.py).

    Args:
        timestamp: Bar starts as int64 UTC ns (or anything ``astype(int64)`` accepts).
        open_: Open prices.
        high: High prices.
        low: Low prices.
        close: Close prices.
        volume: Volumes.
        symbol: One symbol for every row, or one per row.
    """
    n = len(timestamp)
    if isinstance(symbol, str):
        sym = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[symbol])
    else:
        sym = pd.Categorical(symbol)
    first = str(sym.categories[0]) if len(sym.categories) else ""
    return pd.DataFrame({
        "timestamp": np.asarray(timestamp, dtype=np.int64),
        "open": np.asarray(open_, dtype=np.float64),
        "high": np.asarray(high, dtype=np.float64),
        "low": np.asarray(low, dtype=np.float64),
        "close": np.asarray(close, dtype=np.float64),
        "volume": np.asarray(volume, dtype=volume_dtype(first)),
        "symbol": sym,
    })


def volume_dtype(symbol: str) -> type:
    """float64 for instruments traded in fractional amounts (crypto), else int64."""
    from core.domain import INSTRUMENTS, root_of

    inst = INSTRUMENTS.get(root_of(symbol)) if symbol else None
    return np.float64 if inst is not None and inst.fractional_volume else np.int64
