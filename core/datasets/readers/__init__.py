"""Readers that turn market-data files into canonical bar frames (``core.datasets.schema``).

One entry point, :func:`read_bars`, for every format:

===========  ==============================================================================
format       what
===========  ==============================================================================
parquet      ``timestamp`` int64 ns UTC (or ``ts`` timestamp[ns, tz]) + OHLCV + symbol;
             trade ticks (ts, price[, size]) are aggregated to 1 s bars (noted)
csv          delimited text (.gz/.bz2/.zst too), naive local stamps (default
             America/New_York), stamps with offsets, epoch numbers, or date + time columns
dbn          Databento DBN v1-v3, ohlcv-1s/1m/1h/1d or trades (→ 1 s bars), plain or .zst
topstepx     ProjectX ``History/retrieveBars`` JSON (envelope or bare list)
binance      Binance kline CSVs as published (no header, 12 columns; ms or µs open times),
             plain or in their monthly/daily ``.zip``; overlapping files are merged
             (:func:`merge_klines`, with a report)
===========  ==============================================================================

Readers never sort and never repair silently: odd things they notice are returned in
``ReadResult.notes``; checks that can fail are :func:`core.datasets.validate.validate`'s job.
The one exception is TopstepX JSON, which the API documents as newest-first (noted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.datasets.readers._common import (
    RawBars,
    check_path,
    detect_bar_seconds,
    price_level_note,
    split_by_root,
)
from core.errors import DataError

FORMATS: tuple[str, ...] = ("parquet", "csv", "dbn", "topstepx", "binance")
_TEXT_SUFFIXES = tuple(f"{s}{z}" for s in (".csv", ".txt", ".tsv", ".dat")
                       for z in ("", ".gz", ".bz2", ".zst"))


@dataclass(frozen=True)
class ReadResult:
    """Bars of one instrument root read from one file.

    Attributes:
        frame: Canonical bar frame (file order; not sorted by the reader).
        source: File path as given.
        format: ``'parquet' | 'csv' | 'dbn' | 'topstepx' | 'binance'``.
        bar_seconds: Bar size in seconds (from the data, or the DBN schema).
        root: Instrument root, e.g. ``'MES'``.
        notes: Explicit reports of quirks (sentinel prices nulled, scale suspicion, ...).
        row_offset: Added to ``frame`` row index + 1 to give the 1-based data row of the file.
    """

    frame: pd.DataFrame
    source: str
    format: str
    bar_seconds: int
    root: str
    notes: tuple[str, ...]
    row_offset: int = 0


def detect_format(path: str | Path) -> str:
    """Guess a file's format from its first bytes (and name).

    Returns:
        One of ``'parquet'``, ``'csv'``, ``'dbn'``, ``'topstepx'``, ``'binance'``.

    Raises:
        DataError: The path does not exist, is a directory, or is no supported format.
    """
    p = Path(path)
    check_path(p)
    if p.is_dir():
        raise DataError(f"{p}: is a directory", hint="read_bars() reads every file inside it")
    with open(p, "rb") as fh:
        head = fh.read(4096)
    name = p.name.lower()
    if head[:4] == b"PAR1" or name.endswith(".parquet"):
        return "parquet"
    if head[:3] == b"DBN" or name.endswith((".dbn", ".dbn.zst")):
        return "dbn"
    from core.datasets.readers.binance import looks_like_klines, zip_is_klines
    if head[:4] == b"PK\x03\x04":
        return "binance" if zip_is_klines(p) else _unsupported(
            p, "a zip archive without one Binance kline CSV inside")
    if looks_like_klines(head):     # recognised by shape: 12 columns, integer times, no header
        return "binance"
    if head[:4] == b"\x28\xb5\x2f\xfd" and not name.endswith(_TEXT_SUFFIXES):
        return "dbn" if _zstd_is_dbn(p) else _unsupported(p, "zstd-compressed, but not DBN")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"{" and b'"bars"' in head or text[:1] == b"[" and b'"t"' in head:
        return "topstepx"
    if name.endswith(_TEXT_SUFFIXES):
        return "csv"
    if not head:
        return _unsupported(p, "empty file (0 bytes)")
    return _unsupported(p, "unknown format")


def _zstd_is_dbn(p: Path) -> bool:
    import pyarrow as pa

    try:
        with pa.CompressedInputStream(pa.OSFile(str(p)), "zstd") as s:
            return s.read(3) == b"DBN"
    except Exception:  # unreadable compressed data is simply "not DBN" here
        return False


def _unsupported(p: Path, why: str) -> str:
    raise DataError(f"{p}: not a supported bar file ({why})",
                    hint="supported: Parquet, CSV/TXT, Databento .dbn/.dbn.zst, TopstepX "
                         "bars JSON, Binance klines (.csv/.zip); pass format='csv' if it is "
                         "delimited text")


def read_bars(path: str | Path, *, format: str = "auto", symbol: str | None = None,
              tz: str | None = None, columns: dict[str, str] | None = None,
              progress: Callable[[float], None] | None = None) -> list[ReadResult]:
    """Read bars from a file or every supported file of a directory.

    Args:
        path: File or directory.
        format: ``'auto'`` (sniffed) or one of ``FORMATS`` (applies to every file).
        symbol: Symbol/contract for files that carry none (CSV, TopstepX) or to override.
        tz: Zone of naive stamps (CSV default America/New_York; Parquet naive stamps need it).
        columns: Canonical name → file column name, e.g. ``{'open': 'Open'}``.
        progress: Called with the fraction done (0..1).

    Returns:
        One result per (file, instrument root) — and per bar size for mixed DBN streams —
        in file-name order; Binance files of one pair and bar size in a directory are merged
        into one result (:func:`merge_klines`, reported in its notes).

    Raises:
        DataError: Missing path, unreadable file(s), or bad content (all failing files of a
            directory are listed in one error).
    """
    p = Path(path)
    check_path(p)
    if format != "auto" and format not in FORMATS:
        raise DataError(f"unknown format {format!r}",
                        hint=f"use auto or one of {', '.join(FORMATS)}")
    if not p.is_dir():
        return _read_file(p, str(path), format, symbol, tz, columns, progress)
    files = sorted(f for f in p.iterdir() if f.is_file())
    results: list[ReadResult] = []
    failures: list[str] = []
    skipped: list[str] = []
    for k, f in enumerate(files):
        fmt = format
        if fmt == "auto":
            try:
                fmt = detect_format(f)
            except DataError:
                skipped.append(f.name)
                continue
        sub = None if progress is None else (
            lambda x, k=k: progress((k + x) / max(len(files), 1)))
        try:
            results.extend(_read_file(f, str(f), fmt, symbol, tz, columns, sub))
        except DataError as exc:
            msg = exc.message
            msg = msg[len(str(f)) + 2:] if msg.startswith(f"{f}: ") else msg
            failures.append(f"{f.name}: {msg}")
    if failures:
        raise DataError(f"{p}: {len(failures)} of {len(files)} file(s) cannot be read as bars:\n"
                        + "\n".join(f"  - {x}" for x in failures),
                        hint="fix or move those files, or import the good files one by one")
    if not results:
        raise DataError(f"{p}: no bar files found ({len(skipped)} unsupported file(s)"
                        + (f": {', '.join(skipped)})" if skipped else ")"),
                        hint="supported: .parquet, .csv/.txt, .dbn/.dbn.zst, TopstepX JSON, "
                             "Binance klines .csv/.zip")
    results = merge_klines(results)
    if skipped:
        note = f"directory {p}: {len(skipped)} unsupported file(s) not read: {', '.join(skipped)}"
        results = [ReadResult(r.frame, r.source, r.format, r.bar_seconds, r.root,
                              r.notes + (note,), r.row_offset) for r in results]
    return results


def _read_file(p: Path, source: str, fmt: str, symbol: str | None, tz: str | None,
               columns: dict[str, str] | None,
               progress: Callable[[float], None] | None) -> list[ReadResult]:
    if fmt == "auto":
        fmt = detect_format(p)
    notes: list[str] = []
    parts: list[tuple[RawBars, int | None, list[str], int]]
    if fmt == "parquet":
        from core.datasets.readers.parquet import read_parquet_bars
        raw = read_parquet_bars(p, symbol=symbol, tz=tz, columns=columns, progress=progress,
                                notes=notes)
        parts = [(raw, None, notes, 0)]
    elif fmt == "csv":
        from core.datasets.readers.text import read_text_bars
        # Frame row i is data row i + 1 (the reader's own errors name file lines instead).
        raw, _header_lines = read_text_bars(p, symbol=symbol, tz=tz, columns=columns,
                                            progress=progress, notes=notes)
        parts = [(raw, None, notes, 0)]
    elif fmt == "dbn":
        from core.datasets.readers.dbn import read_dbn_bars
        parts = [(raw, secs, n, 0) for raw, secs, n in
                 read_dbn_bars(p, symbol=symbol, progress=progress)]
    elif fmt == "binance":
        from core.datasets.readers.binance import read_binance_bars
        raw, secs = read_binance_bars(p, symbol=symbol, progress=progress, notes=notes)
        parts = [(raw, secs, notes, 0)]
    else:
        from core.datasets.readers.topstepx import read_topstepx_bars
        raw = read_topstepx_bars(p, symbol=symbol, notes=notes)
        parts = [(raw, None, notes, 0)]
    out: list[ReadResult] = []
    for raw, secs, part_notes, offset in parts:
        if len(raw.timestamp) == 0:
            raise DataError(f"{p}: no bars (no data rows)", hint="export the bars again")
        split = split_by_root(raw)
        for root, frame, rows in split:
            n = list(part_notes)
            bar_s = secs if secs else detect_bar_seconds(
                frame["timestamp"].to_numpy(), default=60 if fmt == "csv" else 1, notes=n)
            level = price_level_note(root, frame)
            if level:
                n.append(level)
            if rows is not None:
                n.append(f"file holds {len(split)} roots; this {root} frame has {len(frame)} of "
                         f"its rows, and row numbers count rows of this root only")
            out.append(ReadResult(frame, source, fmt, int(bar_s), root, tuple(n), offset))
    return out


from core.datasets.readers.binance import merge_klines  # noqa: E402 - needs ReadResult

__all__ = ["FORMATS", "ReadResult", "detect_format", "merge_klines", "read_bars"]
