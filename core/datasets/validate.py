"""Validation of canonical bar frames (requirements §3), fully vectorised.

Errors (the data must not be used as is):

* ``missing-columns`` / ``bad-dtype`` — not a canonical frame;
* ``null-price`` — NaN/null in open/high/low/close (e.g. a DBN undefined-price sentinel);
* ``ohlc`` — not ``low <= open, close <= high``;
* ``non-positive-price``, ``negative-volume``;
* ``unsorted`` / ``duplicate`` — timestamps going back or repeating (readers never sort);
* ``misaligned`` — a bar start that is not a multiple of the bar size (bars < 1 h);
* ``off-tick`` — prices off the instrument's tick grid (float noise tolerated);
* ``implausible-price`` — a level the root never traded at (a scale error such as ×100).

Warnings (reported, not fatal): ``gaps`` in trading hours (CME calendar for CME futures,
every missing bar for 24/7 crypto, same-day steps under 1 h otherwise), ``outside-session`` bars, ``zero-volume`` bars,
``roll`` (contract code change, counted in time order), ``open-jump`` (a session-open jump
far above the typical one: an unadjusted roll or a news gap), ``jump`` (a jump between two
bars *inside* a session — an unadjusted roll in a root-only series, or bad prints — with its
time), ``contracts`` (several contracts trading at the same times: each is judged on its
own; import them with ``data import --by-contract``), ``contract-order`` (rows grouped by
contract rather than in time order, with the sort fix), ``unknown-instrument``.

A file holding several contracts is judged **per contract**: order, duplicates, gaps and
jumps within each contract's own rows, never across two contracts (which gave spurious
rolls and −45 % "jumps" when rows of two contracts alternate).

Each issue names the source, the first offending 1-based data row (``row_offset + index +
1``), the count of such rows and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.datasets.readers._common import PLAUSIBLE_MAX_PRICE, PLAUSIBLE_MIN_PRICE
from core.datasets.schema import COLUMNS, NS_PER_SECOND, PRICE_COLUMNS
from core.domain import INSTRUMENTS, Instrument, root_of
from core.errors import DataError

#: Tolerance in ticks for float noise (4500.25 / 0.25 is exact; 450.13 / 0.01 is not).
TICK_TOLERANCE: float = 1e-6
#: Most volume one bar may carry: far above any real market, and low enough that summing a
#: whole day of 1-second bars (86,400 of them) can never overflow a 64-bit integer
#: (a volume of 2**62 used to pass, and resampling wrapped it negative).
MAX_VOLUME: float = 1e13
#: A session-open jump above this many times the median one (and above the floor) is flagged.
JUMP_FACTOR: float = 5.0
JUMP_FLOOR: float = 0.004
_LARGEST_GAPS = 3


@dataclass(frozen=True)
class Issue:
    """One kind of problem found in a frame.

    Attributes:
        severity: ``'error'`` (data unusable as is) or ``'warning'``.
        code: Stable machine code, e.g. ``'ohlc'``.
        message: What is wrong, naming the source and the first row.
        row: First offending 1-based data row, or None when not row-specific.
        count: How many rows (or events) are affected.
        fix: How to fix it.
    """

    severity: str
    code: str
    message: str
    row: int | None
    count: int
    fix: str


@dataclass(frozen=True)
class ValidationReport:
    """Result of :func:`validate`."""

    source: str
    rows: int
    first_ns: int | None
    last_ns: int | None
    bar_seconds: int
    issues: tuple[Issue, ...]
    gaps: int
    missing_bars: int

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The error issues."""
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The warning issues."""
        return tuple(i for i in self.issues if i.severity == "warning")

    def raise_if_errors(self) -> None:
        """Raise one DataError listing every error (all at once, each with its fix)."""
        errs = self.errors
        if not errs:
            return
        lines = [f"[{e.code}] {e.message} — fix: {e.fix}" for e in errs]
        raise DataError(f"{self.source}: {len(errs)} validation error(s):\n"
                        + "\n".join(f"  - {ln}" for ln in lines),
                        hint="fix the source data (or the import options) and import again")

    def summary_lines(self) -> list[str]:
        """Human-readable lines: span, gaps, then each issue with its fix."""
        span = "no rows"
        if self.first_ns is not None and self.last_ns is not None:
            span = f"{_fmt(self.first_ns)} → {_fmt(self.last_ns)}"
        out = [f"{self.source}: {self.rows:,} rows of {self.bar_seconds} s bars, {span}",
               f"gaps in trading hours: {self.gaps:,} ({self.missing_bars:,} missing bars)",
               "OK (no errors)" if self.ok else f"{len(self.errors)} error(s)"]
        for i in self.issues:
            out.append(f"{i.severity}: [{i.code}] {i.message}")
            if i.fix:
                out.append(f"    fix: {i.fix}")
        return out


def _fmt(ns: int) -> str:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_et(ns: int) -> str:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").tz_convert("America/New_York") \
        .strftime("%Y-%m-%d %H:%M:%S ET")


class _Collector:
    def __init__(self, source: str, row_offset: int, index: np.ndarray | None = None) -> None:
        self.source, self.row_offset = source, row_offset
        self.issues: list[Issue] = []
        #: Row positions of a sub-series (one contract) in the file; None: the whole file.
        self.index = index

    def row_of(self, i: int) -> int:
        """The 1-based data row of the sub-series' row ``i``."""
        return self.row_offset + int(i if self.index is None else self.index[i]) + 1

    def mask(self, severity: str, code: str, mask: np.ndarray, what: str, fix: str) -> None:
        """Add an issue for the rows where ``mask`` is True (nothing if none)."""
        count = int(np.count_nonzero(mask))
        if count:
            self.rows(severity, code, count, int(np.argmax(mask)), what, fix)

    def rows(self, severity: str, code: str, count: int, first_index: int, what: str,
             fix: str) -> None:
        row = self.row_of(first_index)
        self.issues.append(Issue(severity, code, f"{self.source}: {what} in {count:,} row(s), "
                                 f"first at data row {row}", row, count, fix))

    def plain(self, severity: str, code: str, message: str, count: int, fix: str,
              row: int | None = None) -> None:
        self.issues.append(Issue(severity, code, f"{self.source}: {message}", row, count, fix))


def validate(frame: pd.DataFrame, *, source: str, bar_seconds: int,
             instrument: Instrument | str | None = None, row_offset: int = 0,
             check_gaps: bool = True) -> ValidationReport:
    """Check a canonical bar frame and report every problem found.

    Args:
        frame: Canonical bar frame (``core.datasets.schema``), in file order.
        source: File name used in messages.
        bar_seconds: Bar size in seconds.
        instrument: Instrument or root; default: the root of the frame's first symbol.
        row_offset: Added to index + 1 to give the data row of the source file.
        check_gaps: Also count gaps in trading hours and look for rolls (warnings).

    Returns:
        The report; call ``raise_if_errors()`` to fail on errors.
    """
    c = _Collector(source, row_offset)
    missing = [col for col in COLUMNS if col not in frame.columns]
    n = len(frame)
    if missing:
        c.plain("error", "missing-columns", f"missing column(s) {', '.join(missing)}", n,
                "readers must produce timestamp, open, high, low, close, volume, symbol")
        return ValidationReport(source, n, None, None, bar_seconds, tuple(c.issues), 0, 0)
    ts = frame["timestamp"].to_numpy()
    vkind = frame["volume"].to_numpy().dtype.kind
    inst = _instrument(frame, instrument, _Collector(source, row_offset)) if n else None
    # Fractional volume is the real thing for crypto (base-asset amounts), a defect elsewhere.
    vol_ok = vkind in "iu" or (vkind == "f" and inst is not None and inst.fractional_volume)
    if ts.dtype != np.int64 or not vol_ok:
        c.plain("error", "bad-dtype", f"timestamp/volume dtypes are {ts.dtype}/"
                f"{frame['volume'].dtype}, expected int64 (float64 volume only for instruments "
                "traded in fractional amounts)", n,
                "build the frame with core.datasets.schema.make_frame")
        return ValidationReport(source, n, None, None, bar_seconds, tuple(c.issues), 0, 0)
    if n == 0:
        c.plain("error", "empty", "no rows", 0, "import a file that holds bars")
        return ValidationReport(source, 0, None, None, bar_seconds, tuple(c.issues), 0, 0)
    px = {k: frame[k].to_numpy(dtype=np.float64) for k in PRICE_COLUMNS}
    inst = _instrument(frame, instrument, c)
    from core.datasets.validate_series import contract_codes, gaps_and_rolls, per_contract

    codes, cats = contract_codes(frame["symbol"])
    groups = [np.flatnonzero(codes == g) for g in range(len(cats))] if len(cats) > 1 else None
    _check_rows(ts, px, frame["volume"].to_numpy(), inst, bar_seconds, c, groups)
    gaps = missing_bars = 0
    if check_gaps and n > 1:
        if groups is None:
            gaps, missing_bars = gaps_and_rolls(ts, px, codes, cats, bar_seconds, inst, c)
        else:
            gaps, missing_bars = per_contract(ts, px, codes, cats, groups, bar_seconds, inst, c)
    order = {"error": 0, "warning": 1}
    issues = tuple(sorted(c.issues, key=lambda i: order.get(i.severity, 2)))
    return ValidationReport(source, n, int(ts.min()), int(ts.max()), int(bar_seconds), issues,
                            int(gaps), int(missing_bars))


def _instrument(frame: pd.DataFrame, instrument: Instrument | str | None,
                c: _Collector) -> Instrument | None:
    if isinstance(instrument, Instrument):
        return instrument
    name = instrument
    if name is None:
        cats = frame["symbol"].cat.categories if isinstance(frame["symbol"].dtype,
                                                            pd.CategoricalDtype) else \
            pd.unique(frame["symbol"].to_numpy())
        name = str(cats[0]) if len(cats) else ""
    inst = INSTRUMENTS.get(root_of(name))
    if inst is None:
        c.plain("warning", "unknown-instrument", f"unknown instrument {name!r}: tick grid, "
                "price level and sessions not checked", 0,
                f"use a known root ({', '.join(sorted(INSTRUMENTS))}) or add it to core.domain")
    return inst


def _volume(vol: np.ndarray) -> np.ndarray:
    """Volume for the row kernel: float64 as is (fractional crypto amounts), else int64."""
    return np.asarray(vol, dtype=np.float64 if np.asarray(vol).dtype.kind == "f" else np.int64)


def _check_rows(ts: np.ndarray, px: dict[str, np.ndarray], vol: np.ndarray,
                inst: Instrument | None, bar_seconds: int, c: _Collector,
                groups: list[np.ndarray] | None = None) -> None:
    """Every per-row rule in one compiled pass (see ``_validate_kernels.row_checks``)."""
    from core.datasets import _validate_kernels as k

    tick = inst.tick_size if inst is not None else 0.0
    limit = PLAUSIBLE_MAX_PRICE.get(inst.symbol, 0.0) if inst is not None else 0.0
    floor = PLAUSIBLE_MIN_PRICE.get(inst.symbol, 0.0) if inst is not None else 0.0
    bar_ns = int(bar_seconds) * NS_PER_SECOND if 0 < bar_seconds < 3600 else 0
    vol64 = _volume(vol)
    counts, first = None, None
    # Per contract: order and duplicates only mean something within one contract's rows.
    for idx in (groups or [None]):
        sel = slice(None) if idx is None else idx
        cn, fi = k.row_checks(ts[sel], px["open"][sel], px["high"][sel], px["low"][sel],
                              px["close"][sel], vol64[sel], float(tick), TICK_TOLERANCE,
                              float(limit), float(floor), bar_ns)
        if idx is not None:
            fi = np.where(cn > 0, idx[np.maximum(fi, 0)], -1)
        if counts is None:
            counts, first = cn.copy(), fi.copy()
            continue
        take = (cn > 0) & ((counts == 0) | (fi < first))
        first = np.where(take, fi, first)
        counts = counts + cn

    def add(slot: int, severity: str, code: str, what: str, fix: str) -> None:
        if counts[slot]:
            c.rows(severity, code, int(counts[slot]), int(first[slot]), what, fix)

    add(k.NULL, "error", "null-price", "null/NaN price",
        "drop or repair those bars in the source (a DBN undefined-price sentinel is null)")
    add(k.OHLC, "error", "ohlc", "OHLC rule broken (need low <= open, close <= high)",
        "the columns may be swapped (check the column mapping) or the rows are corrupt")
    add(k.NONPOS, "error", "non-positive-price", "price <= 0",
        "drop or repair those bars; check the price columns")
    add(k.NEGVOL, "error", "negative-volume", "negative volume",
        "volume must be >= 0; check the volume column")
    add(k.ZEROVOL, "warning", "zero-volume", "zero volume",
        "Binance klines publish minutes without trades as zero-volume bars: harmless"
        if inst is not None and inst.continuous else
        "bars without trades should be absent, not zero-filled")
    huge = np.flatnonzero(np.asarray(vol) > MAX_VOLUME)
    if huge.size:
        c.rows("error", "volume-range", int(huge.size), int(huge[0]),
               f"volume above {MAX_VOLUME:,.0f} (implausible for one bar; sums of such volumes "
               "overflow 64-bit integers)",
               "the volume column is probably corrupt or another field (an id, a timestamp): "
               "check the column mapping (--columns volume=...) or repair those rows")
    if inst is not None:
        add(k.IMPLAUSIBLE, "error", "implausible-price",
            f"price above {limit:,.0f}" + (f" or below {floor:,.0f}" if floor else "")
            + f", implausible for {inst.symbol}",
            "prices look scaled (e.g. 100x too large, a known quirk of some DBN fixtures, or "
            "too small): fix the factor in the source before importing")
        if inst.months:  # futures: every trade is on the tick grid, so off-grid = wrong data
            add(k.OFFTICK, "error", "off-tick",
                f"price off the {tick:g} tick grid of {inst.symbol}",
                "wrong instrument (--symbol), back-adjusted or scaled prices; import raw prices")
        else:
            # Equities print legal sub-penny trades (midpoint/retail executions) and crypto
            # vendors may carry more decimals than the venue tick: worth knowing, not fatal.
            add(k.OFFTICK, "warning", "off-tick",
                f"price off the {tick:g} tick grid of {inst.symbol} (sub-tick prints)",
                "fine for sub-penny equity prints; otherwise check for adjusted or scaled prices")
    add(k.UNSORTED, "error", "unsorted",
        "timestamp earlier than the row before (rows not in time order"
        + (", within one contract)" if groups else ")"),
        "sort the source by time (and check why it was out of order: a merged or reversed "
        "export)")
    add(k.DUPLICATE, "error", "duplicate", "same timestamp as the row before"
        + (" of the same contract" if groups else "")
        + (" (only neighbouring rows compared because the rows are unsorted)"
           if counts[k.UNSORTED] else ""),
        "drop duplicated bars; two contracts at one time means an overlapping continuous "
        "series — keep one contract per time")
    add(k.MISALIGNED, "error", "misaligned", f"bar start not on a {bar_seconds} s boundary",
        "stamps must be bar STARTS in UTC; bar-end stamps or sub-second offsets need fixing "
        "in the source")
