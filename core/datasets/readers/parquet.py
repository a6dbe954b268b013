"""Parquet bar reader: the users' 1-second layout and the development-data layout.

Two layouts are accepted:

* users' file: ``timestamp`` int64 ns UTC, ``open, high, low, close, volume, symbol``;
* development data: ``ts`` as ``timestamp[ns, tz=UTC]`` (or a naive timestamp, which then
  needs ``tz=``), same price columns.

Speed matters (33 M rows): pyarrow reads with the symbol column dictionary-encoded, so it
turns into a pandas categorical without touching Python strings, and every numeric column
becomes a numpy array without per-row work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.datasets.readers._common import Progress, RawBars, report, to_categorical
from core.errors import DataError

TIME_NAMES: tuple[str, ...] = ("timestamp", "ts", "time", "datetime", "date_time", "ts_event")
PRICE_NAMES: tuple[str, ...] = ("open", "high", "low", "close", "volume")


def read_parquet_bars(path: Path, *, symbol: str | None, tz: str | None,
                      columns: dict[str, str] | None, progress: Progress,
                      notes: list[str]) -> RawBars:
    """Read a Parquet bar file into arrays (file order kept).

    Raises:
        DataError: Not a valid Parquet file, a tick file, or missing columns.
    """
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a valid Parquet file (truncated?): {exc}",
                        hint="re-export or re-download the file; a copy interrupted half-way "
                             "has no Parquet footer") from None
    names = list(pf.schema_arrow.names)
    mapping = _resolve_columns(path, names, columns)
    if "price" in {n.lower() for n in names} and "open" not in mapping:
        raise DataError(
            f"{path}: holds trade ticks (columns {', '.join(names)}), not OHLC bars",
            hint="build 1-second bars first (first/max/min/last price per second, volume = "
                 "trade count or summed sizes) and import those, e.g. the rTrawl sample "
                 "es_1s_esm8_2018-05-07_from_ticks_rtrawl.parquet was made that way")
    missing = [c for c in ("timestamp", *PRICE_NAMES) if c not in mapping]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(names)}",
            hint="a bar file needs timestamp (or ts), open, high, low, close, volume "
                 "[, symbol]; map other names with columns={'open': 'Open', ...} "
                 "(CLI: --column open=Open)")
    wanted = [mapping[c] for c in ("timestamp", *PRICE_NAMES)]
    sym_col = mapping.get("symbol")
    if sym_col:
        wanted.append(sym_col)
    report(progress, 0.05)
    try:
        table = pq.read_table(path, columns=wanted, read_dictionary=[sym_col] if sym_col else None,
                              use_threads=True)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a valid Parquet file (truncated?): {exc}",
                        hint="re-export or re-download the file") from None
    report(progress, 0.7)
    ts = _timestamps(path, table.column(mapping["timestamp"]), tz, notes)
    cols = {c: _numeric(path, table.column(mapping[c]), c) for c in PRICE_NAMES}
    vol = cols["volume"]
    if vol.dtype.kind == "f":
        frac = np.isfinite(vol) & (vol != np.round(vol))
        if frac.any():
            row = int(np.argmax(frac)) + 1
            raise DataError(f"{path}: volume has fractional values ({int(frac.sum())} rows, "
                            f"first at data row {row})",
                            hint="volume must be whole contracts/shares")
        if not np.isfinite(vol).all():
            row = int(np.argmax(~np.isfinite(vol))) + 1
            raise DataError(f"{path}: volume is null/NaN in {int((~np.isfinite(vol)).sum())} "
                            f"rows (first at data row {row})",
                            hint="drop or repair those rows in the source")
    if sym_col:
        symbols = _symbols(path, table.column(sym_col), symbol, notes)
    else:
        if not symbol:
            raise DataError(f"{path}: no symbol column and no symbol given",
                            hint="pass symbol='MES' (CLI: --symbol MES)")
        symbols = pd.Categorical.from_codes(np.zeros(len(ts), dtype=np.int8),
                                            categories=[symbol.strip().upper()])
    report(progress, 1.0)
    return RawBars(ts, cols["open"], cols["high"], cols["low"], cols["close"],
                   vol.astype(np.int64, copy=False), symbols)


def _resolve_columns(path: Path, names: list[str], columns: dict[str, str] | None
                     ) -> dict[str, str]:
    """Map canonical names to file columns (explicit mapping first, then case-insensitive)."""
    lower = {n.lower(): n for n in names}
    out: dict[str, str] = {}
    for canon, actual in (columns or {}).items():
        if actual not in names:
            raise DataError(f"{path}: column {actual!r} (mapped to {canon}) not found; "
                            f"columns are {', '.join(names)}",
                            hint="fix the column mapping")
        out[canon] = actual
    if "timestamp" not in out:
        for cand in TIME_NAMES:
            if cand in lower:
                out["timestamp"] = lower[cand]
                break
    for canon in (*PRICE_NAMES, "symbol"):
        if canon not in out and canon in lower:
            out[canon] = lower[canon]
    return out


def _timestamps(path: Path, col: pa.ChunkedArray, tz: str | None, notes: list[str]
                ) -> np.ndarray:
    typ = col.type
    if pa.types.is_timestamp(typ):
        if typ.unit != "ns":
            col = col.cast(pa.timestamp("ns", tz=typ.tz))
        if typ.tz is None:
            if not tz:
                raise DataError(
                    f"{path}: timestamps have no time zone",
                    hint="say which zone they are in: tz='America/New_York' (CLI: --tz ...); "
                         "use --tz UTC if they are already UTC")
            if tz.upper() != "UTC":
                local = pd.DatetimeIndex(_as_int(col).view("datetime64[ns]"))
                from core.datasets.readers.timezones import localize
                return localize(local.asi8, tz, source=str(path), notes=notes, row_offset=0)
            notes.append("naive timestamps taken as UTC (tz=UTC)")
        elif tz:
            notes.append(f"timestamps carry their own zone ({typ.tz}); tz={tz} ignored")
        return _as_int(col)
    if pa.types.is_integer(typ):
        ts = _as_int(col)
        if len(ts) and not (1e17 < float(np.median(ts[:1000])) < 1e19):
            raise DataError(f"{path}: integer timestamps are not nanoseconds since the epoch "
                            f"(first value {int(ts[0])})",
                            hint="store the bar start as int64 ns UTC")
        return ts
    raise DataError(f"{path}: timestamp column has type {typ}, expected int64 ns UTC or a "
                    "timestamp type", hint="re-export the file with int64 ns or timestamp[ns]")


def _as_int(col: pa.ChunkedArray) -> np.ndarray:
    if col.null_count:
        # A null time cannot be placed anywhere; the first such row is named.
        idx = int(pc.index(pc.is_null(col), True).as_py())
        raise DataError(f"timestamp is null in {col.null_count} rows (first at data row {idx + 1})",
                        hint="drop or repair those rows in the source")
    arr = col.cast(pa.int64()) if not pa.types.is_int64(col.type) else col
    if arr.num_chunks == 1:
        return arr.chunk(0).to_numpy(zero_copy_only=False)
    return arr.to_numpy()


def _numeric(path: Path, col: pa.ChunkedArray, name: str) -> np.ndarray:
    typ = col.type
    if not (pa.types.is_floating(typ) or pa.types.is_integer(typ) or pa.types.is_decimal(typ)):
        raise DataError(f"{path}: column {name} has type {typ}, expected numbers",
                        hint="re-export the file with numeric prices and volumes")
    if name != "volume" or col.null_count:
        col = col.cast(pa.float64())
    # Nulls become NaN here on purpose: validation reports them with row numbers.
    return col.to_numpy() if col.num_chunks != 1 else col.chunk(0).to_numpy(zero_copy_only=False)


def _symbols(path: Path, col: pa.ChunkedArray, override: str | None, notes: list[str]
             ) -> pd.Categorical:
    if override:
        notes.append(f"symbol column replaced by {override.upper()!r} as requested")
        return pd.Categorical.from_codes(np.zeros(len(col), dtype=np.int8),
                                         categories=[override.strip().upper()])
    if col.null_count:
        idx = int(pc.index(pc.is_null(col), True).as_py())
        raise DataError(f"{path}: symbol is empty in {col.null_count} rows (first at data row "
                        f"{idx + 1})", hint="fill the symbol or pass symbol='MES' to set it")
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    if len(col) == 0:
        return pd.Categorical([])
    # One dictionary for the whole column (chunks may carry different dictionaries).
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    dictionary = [str(x) for x in arr.dictionary.to_pylist()]
    codes = arr.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    cat = pd.Categorical.from_codes(codes, categories=dictionary) \
        if len(set(dictionary)) == len(dictionary) else pd.Categorical(
            np.asarray(dictionary, dtype=object)[codes])
    return to_categorical(cat)
