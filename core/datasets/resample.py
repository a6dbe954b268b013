"""Aggregate bar frames to coarser bars without ever crossing a session break or a roll.

Bins are aligned to UTC multiples of the bar size and labelled by their **start**. Every
supported size divides one hour, and US Eastern/Central offsets are whole hours, so a
1-minute, 15-minute or 1-hour bin lines up with the exchange clock too.

A bin is split (never blended) when

* the trading session changes inside it (``core.calendar.session_id``; 24/7 markets such as
  crypto have none), or
* the contract changes inside it (the ``symbol`` column changes).

So a mid-bin contract change yields two bars with the same start and different symbols: an
honest record of two instruments, where one blended bar would be a lie about both.

The work is fully vectorised: group starts come from a ``searchsorted`` of the bin edges (or
:func:`numpy.flatnonzero` on bin changes when bins outnumber rows) merged with the symbol
changes, sessions are looked up about twice per output bar, and the aggregates come from
``np.maximum.reduceat`` / ``np.minimum.reduceat`` / ``np.add.reduceat``. 33.2 M one-second
rows resample to 1 minute in 0.6 s on two cores (2.2 s while they were heavily shared).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from core import calendar
from core.datasets.schema import COLUMNS, NS_PER_SECOND, empty_frame
from core.errors import ConfigError, DataError

__all__ = [
    "RULES", "resample", "resample_to", "rule_seconds", "session_ids", "valid_bar_seconds",
]

HOUR_SECONDS = 3600
#: Bar sizes users usually ask for (all divide one hour).
COMMON_SECONDS: tuple[int, ...] = (1, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600)
#: The rule strings of :func:`resample_to` and their sizes in seconds.
RULES: dict[str, int] = {"1s": 1, "5s": 5, "15s": 15, "30s": 30, "1m": 60, "5m": 300,
                         "15m": 900, "30m": 1800, "1h": 3600}

_RULE_RE = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h)\s*$", re.IGNORECASE)

Progress = Callable[[float], None] | None


# --------------------------------------------------------------------------- sessions

def session_ids(ts_ns: np.ndarray) -> np.ndarray:
    """Trading-session number of each timestamp (-1 outside any session).

    Thin wrapper over ``core.calendar.session_id`` (CME Globex equity calendar with holidays
    and early closes); the one seam through which resampling, roll detection and the catalog's
    gap report see sessions.

    Args:
        ts_ns: int64 UTC nanoseconds.

    Returns:
        int64 array, equal values for timestamps of the same session.
    """
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    if ts_ns.size == 0:
        return np.empty(0, dtype=np.int64)
    return np.asarray(calendar.session_id(ts_ns), dtype=np.int64)


# --------------------------------------------------------------------------- sizes

def valid_bar_seconds(seconds: int, source_seconds: int = 1) -> bool:
    """Whether ``seconds`` is a bar size :func:`resample` accepts for ``source_seconds`` bars."""
    return (0 < source_seconds <= seconds <= HOUR_SECONDS and seconds % source_seconds == 0
            and HOUR_SECONDS % seconds == 0)


def _check_sizes(seconds: int, source_seconds: int) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, np.integer)) \
            or not isinstance(source_seconds, (int, np.integer)) or source_seconds <= 0:
        raise ConfigError(f"bar sizes must be positive whole seconds, got seconds={seconds!r}, "
                          f"source_seconds={source_seconds!r}",
                          hint="pass e.g. seconds=60 for 1-minute bars")
    if not valid_bar_seconds(int(seconds), int(source_seconds)):
        choices = [s for s in COMMON_SECONDS if valid_bar_seconds(s, int(source_seconds))]
        raise ConfigError(
            f"cannot resample {source_seconds}-second bars to {seconds}-second bars",
            hint=f"choose a multiple of {source_seconds} s that divides one hour, e.g. "
                 f"{', '.join(map(str, choices)) or 'none (source bars are too coarse)'}")


def rule_seconds(rule: str) -> int:
    """Parse a bar rule such as ``'5s'``, ``'1m'``, ``'15min'`` or ``'1h'`` into seconds.

    Raises:
        ConfigError: If the rule is not understood (the message lists the accepted rules).
    """
    m = _RULE_RE.match(str(rule))
    if not m:
        raise ConfigError(f"unknown bar rule {rule!r}",
                          hint=f"use one of {', '.join(RULES)} (number + s, m or h)")
    n, unit = int(m.group(1)), m.group(2).lower()
    return n * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit]


def _infer_source_seconds(ts: np.ndarray) -> int:
    """Largest whole-second size (dividing an hour) every timestamp is aligned to."""
    hour_ns = HOUR_SECONDS * NS_PER_SECOND
    # A gcd over a prefix proposes a candidate cheaply; one full pass confirms it.
    g = int(np.gcd.reduce(ts[:100_000] % hour_ns)) or hour_ns
    cands = [s for s in COMMON_SECONDS[::-1] if (g % (s * NS_PER_SECOND)) == 0]
    for s in cands:
        if not np.any(ts % (s * NS_PER_SECOND)):
            return s
    return 1


# --------------------------------------------------------------------------- resampling

def _symbol_codes(frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    sym = frame["symbol"]
    if not isinstance(sym.dtype, pd.CategoricalDtype):
        sym = sym.astype("category")
    return sym.cat.codes.to_numpy(), sym.cat.categories


def resample(frame: pd.DataFrame, seconds: int, *, source_seconds: int = 1,
             progress: Progress = None, continuous: bool | None = None) -> pd.DataFrame:
    """Aggregate a canonical bar frame to ``seconds``-long bars.

    open = first, high = max, low = min, close = last, volume = sum, symbol = the group's
    contract. Empty bins are absent. A bin never spans a session break or a contract change.

    Args:
        frame: Canonical bar frame sorted by timestamp (see ``core.datasets.schema``).
        seconds: Target bar size; a multiple of ``source_seconds`` that divides 3600.
        source_seconds: Bar size of ``frame`` (timestamps must be aligned to it).
        progress: Optional callback receiving the fraction done (0..1).
        continuous: The market trades 24/7 (crypto): no session breaks to respect, only
            contract changes. Default: from the instrument of the frame's first symbol.

    Returns:
        A new canonical bar frame (bars labelled by their start).

    Raises:
        ConfigError: If the bar sizes are not a valid pair (the message lists valid choices).
        DataError: If columns are missing, timestamps are unsorted or not aligned to
            ``source_seconds``.
    """
    _check_sizes(seconds, source_seconds)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"bar frame lacks column(s) {', '.join(missing)}",
                        hint="build frames with core.datasets.schema.make_frame or a reader")
    n = len(frame)
    if n == 0:
        return empty_frame()
    if progress:
        progress(0.0)
    ts = frame["timestamp"].to_numpy(dtype=np.int64, copy=False)
    bad = np.flatnonzero(ts[1:] < ts[:-1])
    if bad.size:
        raise DataError(f"timestamps are not sorted at row {int(bad[0]) + 1} "
                        f"({pd.Timestamp(int(ts[bad[0] + 1]), tz='UTC')} after "
                        f"{pd.Timestamp(int(ts[bad[0]]), tz='UTC')})",
                        hint="sort the frame by timestamp before resampling")
    src_ns = int(source_seconds) * NS_PER_SECOND
    if source_seconds > 1 and np.any(ts % src_ns):
        row = int(np.flatnonzero(ts % src_ns)[0])
        raise DataError(f"row {row} ({pd.Timestamp(int(ts[row]), tz='UTC')}) is not aligned "
                        f"to {source_seconds}-second bars",
                        hint="pass the frame's real bar size as source_seconds, "
                             "or use resample_to() which infers it")
    bin_ns = int(seconds) * NS_PER_SECOND
    codes, categories = _symbol_codes(frame)
    starts = _group_starts(ts, codes, bin_ns)
    if progress:
        progress(0.4)
    if continuous is None:
        from core.daycut import frame_is_continuous
        continuous = frame_is_continuous(frame)
    if not continuous:   # a 24/7 market has no session break (the CME calendar would invent one)
        starts = _split_sessions(ts, starts, n)
    if progress:
        progress(0.6)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = n - 1

    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy(copy=False)

    _check_volume(col("volume"))

    out = pd.DataFrame({
        "timestamp": ts[starts] // bin_ns * bin_ns,
        "open": col("open").astype(np.float64, copy=False)[starts],
        "high": np.maximum.reduceat(col("high").astype(np.float64, copy=False), starts),
        "low": np.minimum.reduceat(col("low").astype(np.float64, copy=False), starts),
        "close": col("close").astype(np.float64, copy=False)[ends],
        # Fractional volume (crypto base-asset amounts) is summed as float, contracts as int.
        "volume": np.add.reduceat(col("volume") if col("volume").dtype.kind == "f"
                                  else col("volume").astype(np.int64, copy=False), starts),
        "symbol": pd.Categorical.from_codes(codes[ends], categories=categories),
    }, copy=False)  # no block consolidation: the arrays are fresh and ours
    if progress:
        progress(1.0)
    return out


def _group_starts(ts: np.ndarray, codes: np.ndarray, bin_ns: int) -> np.ndarray:
    """First row of every (bin, contract run) group of sorted timestamps.

    When there are fewer bin edges than rows (the usual case: 1 s → 1 min has 1/60 as many),
    the bin starts come from one ``searchsorted`` of the edges into ``ts`` — cheaper than
    dividing every timestamp and without a row-sized int64 temporary.
    """
    n = ts.size
    first_bin, last_bin = int(ts[0]) // bin_ns, int(ts[-1]) // bin_ns
    if last_bin - first_bin < n:
        edges = np.arange(first_bin + 1, last_bin + 1, dtype=np.int64) * bin_ns
        pos = np.searchsorted(ts, edges, side="left")
        # Empty bins give repeated positions; keep each first-row position once.
        keep = np.empty(pos.size, dtype=bool)
        keep[:1] = True
        np.not_equal(pos[1:], pos[:-1], out=keep[1:])
        bin_starts = pos[keep]
    else:
        bins = ts // bin_ns
        bin_starts = np.flatnonzero(bins[1:] != bins[:-1]) + 1
    starts = np.concatenate((np.zeros(1, dtype=np.int64), bin_starts.astype(np.int64)))
    if codes.size and codes.min() != codes.max():
        sym_starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        starts = _merge_sorted(starts, sym_starts)
    return starts


def _merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted union of two int arrays (``np.union1d`` hashes, which is far slower here)."""
    out = np.concatenate((a, b.astype(a.dtype, copy=False)))
    out.sort(kind="stable")
    keep = np.empty(out.size, dtype=bool)
    keep[:1] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


def _split_sessions(ts: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """Add group starts wherever the session changes inside a (bin, symbol) group.

    Sessions are contiguous time intervals, so a group whose first and last rows share a
    session lies wholly inside it: only groups whose ends differ, or that start outside any
    session (a whole session could sit between two out-of-session rows), need per-row
    session ids. This keeps calendar work to about two look-ups per output bar instead of one
    per input row. (Assumption: a trading day has no internal halt that the calendar reports
    as -1 between two stretches with the same id — true of the CME Globex equity calendar.)
    """
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = n - 1
    sid_first = session_ids(ts[starts])
    sid_last = session_ids(ts[ends])
    mixed = np.flatnonzero((sid_first != sid_last) | (sid_first < 0))
    if mixed.size == 0:
        return starts
    # Rows of the mixed groups, gathered in one vectorised pass.
    lengths = ends[mixed] - starts[mixed] + 1
    offsets = np.repeat(starts[mixed] - np.cumsum(np.concatenate(([0], lengths[:-1]))), lengths)
    rows = np.arange(lengths.sum(), dtype=np.int64) + offsets
    sid = session_ids(ts[rows])
    # A new group starts at a row whose session differs from the previous row of the same group.
    boundary = np.flatnonzero((sid[1:] != sid[:-1]) & (rows[1:] == rows[:-1] + 1)) + 1
    # The merge also drops a "change" found at a group's own first row (already a start).
    return _merge_sorted(starts, rows[boundary])


def resample_to(frame: pd.DataFrame, rule: str, *, progress: Progress = None) -> pd.DataFrame:
    """Resample to a bar rule (``'5s'``, ``'15s'``, ``'1m'``, ``'5m'``, ``'15m'``, ``'1h'``).

    The source bar size is inferred from the timestamps (the largest size they are all
    aligned to), so 1-minute bars cannot be "resampled" to 5 seconds by mistake.

    Raises:
        ConfigError: Unknown rule, or a rule finer than the frame's bars.
        DataError: As :func:`resample`.
    """
    seconds = rule_seconds(rule)
    ts = frame["timestamp"].to_numpy(dtype=np.int64, copy=False) if "timestamp" in frame else None
    source = _infer_source_seconds(ts) if ts is not None and len(ts) else 1
    if seconds % source:
        raise ConfigError(
            f"cannot make {rule!r} bars: every timestamp in the frame is aligned to {source} s, "
            f"so its bars look like {source}-second bars",
            hint=f"choose a rule that is a multiple of {source} s "
                 f"({', '.join(r for r, s in RULES.items() if s % source == 0)})")
    return resample(frame, seconds, source_seconds=source, progress=progress)


def _check_volume(vol: np.ndarray) -> None:
    """Refuse volumes whose sums could wrap a 64-bit integer (they would turn negative).

    Raises:
        DataError: A bar's volume is above ``core.datasets.validate.MAX_VOLUME``.
    """
    from core.datasets.validate import MAX_VOLUME

    if vol.size and vol.max() > MAX_VOLUME:
        i = int(np.argmax(vol > MAX_VOLUME))
        raise DataError(f"volume {vol[i]:,.0f} at row {i + 1} is above {MAX_VOLUME:,.0f}: summing "
                        "it into coarser bars could overflow 64-bit integers",
                        hint="validate the source first (scalpdesk data validate FILE): the "
                             "volume column is probably corrupt")

