"""Binance kline files exactly as published on data.binance.vision (spot and futures).

A kline file has **no header** and 12 columns: open time, open, high, low, close, volume,
close time, quote asset volume, number of trades, taker buy base volume, taker buy quote
volume, ignore. It comes as ``SYMBOL-INTERVAL-YYYY-MM.zip`` (monthly) or
``SYMBOL-INTERVAL-YYYY-MM-DD.zip`` (daily), each zip holding one CSV of the same stem; the CSV
may also be given unzipped. Open and close times are epoch **milliseconds**, except spot files
from 2025-01-01 on, which use **microseconds** (Binance's data README): the unit is detected
from the magnitude of each stamp and said in the notes. Some futures files carry a header line
(``open_time,open,…``); it is recognised and skipped. A file is recognised by its shape (12
comma-separated fields, integer times, numeric prices), not by its name.

What is kept: open time → ``timestamp`` (bar start, UTC ns), OHLC, base-asset ``volume`` as a
float (crypto amounts are fractional). Quote volume, trade count and taker-buy volumes are not
part of the canonical bar and are dropped (said in the notes). The close time is checked
against the open time: ``close = open + bar − 1 unit``; other rows are reported.

Daily and monthly files of the same pair overlap; :func:`merge_klines` merges them into one
series per pair and bar size with a report (identical repeated rows kept once, conflicting
rows named, the monthly file preferred).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from core.datasets.readers._common import Progress, RawBars, report, to_categorical
from core.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from core.datasets.readers import ReadResult

KLINE_COLUMNS: tuple[str, ...] = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
    "trades", "taker_buy_base", "taker_buy_quote", "ignore")
#: ``BTCUSDT-1m-2024-01`` (monthly) or ``BTCUSDT-1m-2024-01-15`` (daily).
NAME_RE = re.compile(r"^(?P<symbol>[A-Z0-9]{2,20})-(?P<interval>\d+[smhdw]|1mo)-"
                     r"(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?(?:\.(csv|zip))?$",
                     re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_MS, _US = 1_000_000, 1_000          # ns per millisecond / microsecond
#: An open time at or above this is in microseconds (1e14 ms would be the year 5138).
US_THRESHOLD = 10**14
_NUM = re.compile(r"^-?\d+(\.\d*)?([eE][-+]?\d+)?$")


def interval_seconds(interval: str) -> int | None:
    """Seconds of a Binance interval (``1m`` → 60); None for ``1mo`` (calendar months)."""
    m = re.fullmatch(r"(\d+)([smhdw])", interval)
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)] if m else None


def parse_name(name: str) -> dict[str, str] | None:
    """Symbol, interval and period of a Binance file name, or None if it is not one."""
    m = NAME_RE.match(Path(name).name)
    if not m:
        return None
    d = m.groupdict()
    return {"symbol": d["symbol"].upper(), "interval": d["interval"],
            "period": "daily" if d["day"] else "monthly"}


def looks_like_klines(head: bytes) -> bool:
    """Whether the first line(s) of a text have the kline shape (a header line allowed)."""
    lines = [ln.strip() for ln in head.decode("utf-8", "replace").splitlines() if ln.strip()]
    if lines and lines[0].lower().startswith("open_time"):
        lines = lines[1:]
    if not lines:
        return False
    fields = lines[0].split(",")
    return (len(fields) == 12 and fields[0].isdigit() and fields[6].isdigit()
            and all(_NUM.match(f) for f in fields[1:6]) and int(fields[0]) > 10**11)


def _csv_member(path: Path) -> str:
    """The one CSV inside a Binance zip (an error naming the members otherwise)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path}: not a readable zip archive ({exc})",
                        hint="download the archive again (and check its .CHECKSUM file)") from None
    csvs = [n for n in names if n.lower().endswith(".csv")]
    if len(csvs) != 1:
        raise DataError(f"{path}: expected one CSV inside the zip, found "
                        f"{', '.join(names) or 'nothing'}",
                        hint="a data.binance.vision kline archive holds exactly one CSV")
    return csvs[0]


def zip_is_klines(path: Path) -> bool:
    """Whether a zip archive holds one CSV with the kline shape."""
    try:
        member = _csv_member(path)
        with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
            return looks_like_klines(fh.read(4096))
    except (DataError, OSError, zipfile.BadZipFile):
        return False


def _raw_bytes(path: Path) -> tuple[bytes, str]:
    """The CSV bytes of a plain file or of the CSV inside a zip, and the CSV's name."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        member = _csv_member(path)
        with zipfile.ZipFile(path) as zf:
            return zf.read(member), Path(member).name
    return path.read_bytes(), path.name


def read_binance_bars(path: Path, *, symbol: str | None, progress: Progress,
                      notes: list[str]) -> tuple[RawBars, int]:
    """Read one Binance kline file (CSV or zip) into arrays in file order.

    Returns:
        The bars and their size in seconds (from the close times, cross-checked with the
        interval in the file name).

    Raises:
        DataError: Not a kline file, unparsable values, or no symbol to be found.
    """
    data, csv_name = _raw_bytes(path)
    report(progress, 0.1)
    meta = parse_name(path.name) or parse_name(csv_name)
    text_head = data[:4096]
    if not looks_like_klines(text_head):
        raise DataError(f"{path}: not a Binance kline file (expected 12 comma-separated "
                        "columns: open time, open, high, low, close, volume, close time, …)",
                        hint="download klines from data.binance.vision, or read other CSVs "
                             "with --format csv")
    header = text_head.lstrip().lower().startswith(b"open_time")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=list(KLINE_COLUMNS),
                                           skip_rows=1 if header else 0),
            convert_options=pacsv.ConvertOptions(
                column_types={"open_time": pa.int64(), "close_time": pa.int64(),
                              **{c: pa.float64() for c in ("open", "high", "low", "close",
                                                           "volume")}},
                include_columns=["open_time", "open", "high", "low", "close", "volume",
                                 "close_time"]))
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise DataError(f"{path}: unreadable kline row(s): {exc}",
                        hint="the file is damaged or not a kline file; download it again") from None
    report(progress, 0.6)
    if table.num_rows == 0:
        raise DataError(f"{path}: no data rows", hint="download the file again")
    if header:
        notes.append("header line (open_time,…) skipped; data row N is file line N + 1")
    ot = table.column("open_time").to_numpy()
    ct = table.column("close_time").to_numpy()
    ts, unit_ns = _to_ns(ot, notes)
    close_ns = ct * unit_ns
    sym = (symbol or (meta or {}).get("symbol") or "").strip().upper()
    if not sym:
        raise DataError(f"{path}: a kline file does not name its pair and the file name "
                        "is not like BTCUSDT-1m-2024-01.zip",
                        hint="keep Binance's file name, or pass --symbol BTCUSDT")
    bar_s = _bar_seconds(path, ts, close_ns, unit_ns, meta, notes)
    prices = {c: table.column(c).to_numpy() for c in ("open", "high", "low", "close")}
    vol = table.column("volume").to_numpy()
    bad = ~np.isfinite(vol)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{path}: volume missing or not a number in {int(bad.sum())} row(s), "
                        f"first at data row {i + 1}", hint="download the file again")
    notes.append("Binance kline file: quote volume, trade count and taker-buy volumes are not "
                 "kept (the canonical bar holds OHLC and base-asset volume)")
    if meta:
        notes.append(f"{meta['period']} Binance file: {meta['symbol']} {meta['interval']}")
    cat = to_categorical(pd.Categorical.from_codes(np.zeros(len(ts), dtype=np.int8),
                                                   categories=[sym]))
    report(progress, 1.0)
    return RawBars(ts, prices["open"], prices["high"], prices["low"], prices["close"],
                   np.asarray(vol, dtype=np.float64), cat), bar_s


def _to_ns(open_time: np.ndarray, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Open times → UTC ns, each by its magnitude (ms or µs); returns (ns, ns-per-unit)."""
    us = open_time >= US_THRESHOLD
    unit = np.where(us, _US, _MS).astype(np.int64)
    n_us = int(us.sum())
    if n_us == len(open_time):
        notes.append("open times in microseconds (Binance spot files from 2025-01-01 on)")
    elif n_us == 0:
        notes.append("open times in milliseconds")
    else:
        first = int(np.argmax(us != us[0]))
        notes.append(f"open times mix units: {len(open_time) - n_us:,} row(s) in milliseconds, "
                     f"{n_us:,} in microseconds (first change at data row {first + 1}); each "
                     "row converted by its own magnitude")
    return open_time * unit, unit


def _bar_seconds(path: Path, ts: np.ndarray, close_ns: np.ndarray, unit_ns: np.ndarray,
                 meta: dict[str, str] | None, notes: list[str]) -> int:
    """Bar size from ``close − open + 1 unit``; the file name's interval must agree."""
    span = close_ns - ts + unit_ns
    vals, counts = np.unique(span, return_counts=True)
    step = int(vals[np.argmax(counts)])
    if step <= 0 or step % 1_000_000_000:
        raise DataError(f"{path}: close times do not follow open times by a whole number of "
                        f"seconds (most common span {step / 1e9:g} s)",
                        hint="the columns look shifted: is this a kline file?")
    seconds = step // 1_000_000_000
    odd = int((span != step).sum())
    if odd:
        i = int(np.argmax(span != step))
        notes.append(f"{odd:,} row(s) whose close time is not open + {seconds} s − 1 unit "
                     f"(first at data row {i + 1}); bars kept as published")
    named = interval_seconds(meta["interval"]) if meta else None
    if named is not None and named != seconds:
        raise DataError(f"{path}: the file name says {meta['interval']} bars but the close "
                        f"times say {seconds} s",
                        hint="rename the file to its real interval, or download it again")
    return int(seconds)


def merge_klines(results: Sequence[ReadResult]) -> list[ReadResult]:
    """Merge Binance results of the same pair and bar size into one series, with a report.

    Daily and monthly archives overlap (a month's file repeats its daily files). Rows are
    ordered by time; a timestamp seen in several files is kept once — from the monthly file
    when there is one, else the first file by name. Identical repeats are counted; repeats
    with different values are conflicts, counted and the first one named. Other results
    pass through unchanged, in their order.
    """
    from core.datasets.readers import ReadResult

    groups: dict[tuple[str, int], list[ReadResult]] = {}
    out: list[ReadResult | tuple[str, int]] = []
    for r in results:
        if r.format != "binance":
            out.append(r)
            continue
        key = (r.root, r.bar_seconds)
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(r)
    merged: list[ReadResult] = []
    for item in out:
        if not isinstance(item, tuple):
            merged.append(item)
            continue
        rs = groups[item]
        merged.append(rs[0] if len(rs) == 1 else _merge_group(rs))
    return merged


def _monthly_first(r: ReadResult) -> tuple[int, str]:
    meta = parse_name(Path(r.source).name)
    return (0 if meta and meta["period"] == "monthly" else 1, Path(r.source).name)


def _merge_group(rs: list[ReadResult]) -> ReadResult:
    from core.datasets.readers import ReadResult

    rs = sorted(rs, key=_monthly_first)
    frame = pd.concat([r.frame for r in rs], ignore_index=True)
    frame["symbol"] = frame["symbol"].astype("category")
    prio = np.concatenate([np.full(len(r.frame), k) for k, r in enumerate(rs)])
    ts = frame["timestamp"].to_numpy()
    order = np.lexsort((prio, ts))            # by time, then by file priority
    ts_o = ts[order]
    dup = np.r_[False, ts_o[1:] == ts_o[:-1]]  # a later copy of the timestamp before it
    vals = frame[["open", "high", "low", "close", "volume"]].to_numpy(np.float64)[order]
    keep_of = np.maximum.accumulate(np.where(~dup, np.arange(len(ts_o)), 0))
    same = (vals == vals[keep_of]).all(axis=1)
    n_rep, n_conf = int((dup & same).sum()), int((dup & ~same).sum())
    kept = frame.iloc[order[~dup]].reset_index(drop=True)
    kept["volume"] = kept["volume"].astype(np.float64)
    monthly = sum(1 for r in rs if _monthly_first(r)[0] == 0)
    names = [Path(r.source).name for r in rs]
    span = f"{_utc(int(ts_o[0]))} → {_utc(int(ts_o[-1]))}"
    note = (f"merged {len(rs)} Binance files ({monthly} monthly, {len(rs) - monthly} daily: "
            f"{', '.join(names[:6])}{' …' if len(names) > 6 else ''}) into one "
            f"{rs[0].root} series of {len(kept):,} bars, {span}: {n_rep:,} repeated row(s) "
            "in overlapping files were identical and kept once")
    if n_conf:
        i = int(np.flatnonzero(dup & ~same)[0])
        note += (f"; {n_conf:,} repeated row(s) DIFFER between files (first at "
                 f"{_utc(int(ts_o[i]))}): kept the {'monthly' if monthly else 'first'} file's "
                 "values — check those files")
    notes = (note, "row numbers count bars of the merged series",
             *dict.fromkeys(n for r in rs for n in r.notes))
    source = names[0] if len(names) == 1 else f"{names[0]} + {len(names) - 1} more"
    return ReadResult(kept, source, "binance", rs[0].bar_seconds, rs[0].root, tuple(notes), 0)


def _utc(ns: int) -> str:
    return pd.Timestamp(ns, tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
