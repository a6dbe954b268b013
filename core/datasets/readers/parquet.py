"""Parquet bar reader: the users' 1-second layout and the development-data layout.

Two layouts are accepted:

* users' file: ``timestamp`` int64 ns UTC, ``open, high, low, close, volume, symbol``;
* development data: ``ts`` as ``timestamp[ns, tz=UTC]`` (or a naive timestamp, which then
  needs ``tz=``), same price columns.

A trade-tick file (``ts``/``timestamp``, ``price`` [, ``size``], ``symbol``) is aggregated
into 1-second bars (first/max/min/last price; volume = summed sizes, or the trade count when
there are no sizes) and the notes say so.

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

from core.datasets.readers._common import (
    Progress,
    RawBars,
    report,
    ticks_to_second_bars,
    to_categorical,
)
from core.domain import INSTRUMENTS, root_of
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
    lower = {n.lower(): n for n in names}
    if "price" in lower and "open" not in mapping and "timestamp" in mapping:
        return _read_ticks(path, pf, mapping["timestamp"], lower, symbol, tz, notes)
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
        pf = pq.ParquetFile(path, read_dictionary=[sym_col] if sym_col else None)
        arrays, sym_codes, sym_names = _read_streamed(path, pf, mapping, sym_col, progress)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a valid Parquet file (truncated?): {exc}",
                        hint="re-export or re-download the file") from None
    # Arrow's allocator keeps the decoded row groups' pages cached (~0.13 GB at 33 M rows)
    # after the data has been copied out: hand them back before the caller's next step.
    pa.default_memory_pool().release_unused()
    ts = _finish_timestamps(path, arrays["timestamp"], pf.schema_arrow.field(
        mapping["timestamp"]).type, tz, notes)
    if sym_col:
        if symbol:
            notes.append(f"symbol column replaced by {symbol.upper()!r} as requested")
            symbols = pd.Categorical.from_codes(np.zeros(len(ts), dtype=np.int8),
                                                categories=[symbol.strip().upper()])
        else:
            symbols = to_categorical(pd.Categorical.from_codes(sym_codes, categories=sym_names)
                                     if len(set(sym_names)) == len(sym_names) else
                                     pd.Categorical(np.asarray(sym_names, dtype=object)[sym_codes]))
    else:
        if not symbol:
            raise DataError(f"{path}: no symbol column and no symbol given",
                            hint="pass symbol='MES' (CLI: --symbol MES)")
        symbols = pd.Categorical.from_codes(np.zeros(len(ts), dtype=np.int8),
                                            categories=[symbol.strip().upper()])
    ts_type = pf.schema_arrow.field(mapping["timestamp"]).type
    if pa.types.is_timestamp(ts_type) and ts_type.tz is None and len(symbols.categories):
        # Naive stamps are a zone guess: catch a wrong one like the CSV reader does.
        from core.datasets.readers.timezones import check_zone
        check_zone(ts, arrays["timestamp"], root=root_of(str(symbols.categories[0])),
                   tz=str(tz), source=str(path))
    vol = arrays["volume"]
    if vol.dtype.kind == "f":
        inst = INSTRUMENTS.get(root_of(str(symbols.categories[0]))) if len(symbols.categories) \
            else None
        if inst is None or not inst.fractional_volume:   # contracts/shares must be whole
            vol = _whole_volume(path, vol, 0)
    report(progress, 1.0)
    return RawBars(ts, arrays["open"], arrays["high"], arrays["low"], arrays["close"],
                   vol, symbols)


def _read_streamed(path: Path, pf: pq.ParquetFile, mapping: dict[str, str],
                   sym_col: str | None, progress: Progress
                   ) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Read row group by row group into preallocated numpy arrays.

    Why: concatenating a whole table's chunks afterwards allocates every column twice, and
    first-touch allocation is the slow part on small VMs; this way each decoded row group's
    buffers are recycled and the final arrays are written once.
    """
    n = pf.metadata.num_rows
    ts_type = pf.schema_arrow.field(mapping["timestamp"]).type
    # A float volume column is read as float; read_parquet_bars decides (by instrument)
    # whether fractions are allowed (crypto) or an error (contracts).
    vol_float = pa.types.is_floating(pf.schema_arrow.field(mapping["volume"]).type)
    out = {"timestamp": np.empty(n, dtype=np.int64),
           "volume": np.empty(n, dtype=np.float64 if vol_float else np.int64)}
    for c in ("open", "high", "low", "close"):
        out[c] = np.empty(n, dtype=np.float64)
    codes = np.empty(n if sym_col else 0, dtype=np.int32)
    names: list[str] = []
    index: dict[str, int] = {}
    wanted = [mapping[c] for c in ("timestamp", *PRICE_NAMES)] + ([sym_col] if sym_col else [])
    pos = 0
    groups = pf.num_row_groups
    for g in range(groups):
        t = pf.read_row_group(g, columns=wanted, use_threads=True)
        k = t.num_rows
        sl = slice(pos, pos + k)
        out["timestamp"][sl] = _ts_values(path, t.column(mapping["timestamp"]), ts_type, pos)
        for c in ("open", "high", "low", "close"):
            out[c][sl] = _numeric(path, t.column(mapping[c]), c)
        out["volume"][sl] = _volume(path, t.column(mapping["volume"]), pos, vol_float)
        if sym_col:
            codes[sl] = _codes(path, t.column(sym_col), names, index, pos)
        pos += k
        report(progress, 0.05 + 0.85 * (g + 1) / groups)
    return out, codes, names


def _ts_values(path: Path, col: pa.ChunkedArray, typ: pa.DataType, pos: int) -> np.ndarray:
    if col.null_count:
        i = pos + int(pc.index(pc.is_null(col), True).as_py())
        raise DataError(f"{path}: timestamp is null in some rows (first at data row {i + 1})",
                        hint="drop or repair those rows in the source")
    if pa.types.is_timestamp(typ):
        if typ.unit != "ns":
            col = col.cast(pa.timestamp("ns", tz=typ.tz))
        col = col.cast(pa.int64())
    elif pa.types.is_integer(typ):
        col = col.cast(pa.int64()) if not pa.types.is_int64(typ) else col
    else:
        raise DataError(f"{path}: timestamp column has type {typ}, expected int64 ns UTC or a "
                        "timestamp type", hint="re-export the file with int64 ns or timestamp[ns]")
    return _np(col)


def _finish_timestamps(path: Path, ts: np.ndarray, typ: pa.DataType, tz: str | None,
                       notes: list[str]) -> np.ndarray:
    if pa.types.is_timestamp(typ):
        if typ.tz is None:
            if not tz:
                raise DataError(
                    f"{path}: timestamps have no time zone",
                    hint="say which zone they are in: tz='America/New_York' (CLI: --tz ...); "
                         "use --tz UTC if they are already UTC")
            if tz.upper() != "UTC":
                from core.datasets.readers.timezones import localize
                return localize(ts, tz, source=str(path), notes=notes, row_offset=0)
            notes.append("naive timestamps taken as UTC (tz=UTC)")
        elif tz:
            notes.append(f"timestamps carry their own zone ({typ.tz}); tz={tz} ignored")
        return ts
    if len(ts) and not (1e17 < float(np.median(ts[:1000])) < 1e19):
        raise DataError(f"{path}: integer timestamps are not nanoseconds since the epoch "
                        f"(first value {int(ts[0])})",
                        hint="store the bar start as int64 ns UTC")
    return ts


def _np(col: pa.ChunkedArray) -> np.ndarray:
    if col.num_chunks == 1:
        return col.chunk(0).to_numpy(zero_copy_only=False)
    return col.to_numpy()


def _volume(path: Path, col: pa.ChunkedArray, pos: int, keep_float: bool = False) -> np.ndarray:
    typ = col.type
    if col.null_count:
        i = pos + int(pc.index(pc.is_null(col), True).as_py())
        raise DataError(f"{path}: volume is null in some rows (first at data row {i + 1})",
                        hint="drop or repair those rows in the source")
    if pa.types.is_integer(typ):
        return _np(col)
    vol = _numeric(path, col, "volume")
    if keep_float:
        bad = ~np.isfinite(vol)
        if bad.any():
            raise DataError(f"{path}: volume is not a number in {int(bad.sum())} rows (first at "
                            f"data row {pos + int(np.argmax(bad)) + 1})",
                            hint="drop or repair those rows in the source")
        return vol
    return _whole_volume(path, vol, pos)


def _whole_volume(path: Path, vol: np.ndarray, pos: int) -> np.ndarray:
    """Volume as whole contracts (int64), or an error naming the first fractional row."""
    frac = ~np.isfinite(vol) | (vol != np.round(vol))
    if frac.any():
        raise DataError(f"{path}: volume is not a whole number in {int(frac.sum())} rows "
                        f"(first at data row {pos + int(np.argmax(frac)) + 1})",
                        hint="volume must be whole contracts/shares")
    return vol.astype(np.int64)


def _codes(path: Path, col: pa.ChunkedArray, names: list[str], index: dict[str, int],
           pos: int) -> np.ndarray:
    """Symbol codes against one global category list (row groups carry own dictionaries)."""
    if col.null_count:
        i = pos + int(pc.index(pc.is_null(col), True).as_py())
        raise DataError(f"{path}: symbol is empty in some rows (first at data row {i + 1})",
                        hint="fill the symbol or pass symbol='MES' to set it")
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    parts = []
    for chunk in col.chunks:
        local = [str(x) for x in chunk.dictionary.to_pylist()]
        remap = np.empty(max(len(local), 1), dtype=np.int32)
        for j, name in enumerate(local):
            if name not in index:
                index[name] = len(names)
                names.append(name)
            remap[j] = index[name]
        parts.append(remap[chunk.indices.to_numpy(zero_copy_only=False)])
    return np.concatenate(parts) if len(parts) != 1 else parts[0]


def _read_ticks(path: Path, pf: pq.ParquetFile, ts_col: str, lower: dict[str, str],
                symbol: str | None, tz: str | None, notes: list[str]) -> RawBars:
    """A trade-tick file (timestamp, price[, size], symbol) → 1-second bars, said in notes."""
    size_col = next((lower[c] for c in ("size", "qty", "quantity", "volume") if c in lower), None)
    sym_col = lower.get("symbol")
    cols = [ts_col, lower["price"]] + [c for c in (size_col, sym_col) if c]
    try:
        t = pq.read_table(path, columns=cols, read_dictionary=[sym_col] if sym_col else None)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a valid Parquet file (truncated?): {exc}",
                        hint="re-export or re-download the file") from None
    ts = _finish_timestamps(path, _ts_values(path, t.column(ts_col), t.schema.field(ts_col).type,
                                             0), t.schema.field(ts_col).type, tz, notes)
    price = _numeric(path, t.column(lower["price"]), "price")
    if np.isnan(price).any():
        i = int(np.argmax(np.isnan(price)))
        raise DataError(f"{path}: tick price is null at data row {i + 1}",
                        hint="drop or repair those ticks")
    size = _volume(path, t.column(size_col), 0) if size_col else None
    if sym_col and not symbol:
        names: list[str] = []
        codes = _codes(path, t.column(sym_col), names, {}, 0)
        sym = to_categorical(pd.Categorical.from_codes(codes, categories=names))
    elif symbol or not sym_col:
        if not symbol:
            raise DataError(f"{path}: no symbol column and no symbol given",
                            hint="pass symbol='ESM8' (CLI: --symbol ESM8)")
        sym = pd.Categorical.from_codes(np.zeros(len(ts), dtype=np.int8),
                                        categories=[symbol.strip().upper()])
    return ticks_to_second_bars(ts, price, size, sym, notes, "trade ticks")


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


def _numeric(path: Path, col: pa.ChunkedArray, name: str) -> np.ndarray:
    typ = col.type
    if not (pa.types.is_floating(typ) or pa.types.is_integer(typ) or pa.types.is_decimal(typ)):
        raise DataError(f"{path}: column {name} has type {typ}, expected numbers",
                        hint="re-export the file with numeric prices and volumes")
    if (name != "volume" or col.null_count) and not pa.types.is_float64(typ):
        col = col.cast(pa.float64())
    # Nulls become NaN here on purpose: validation reports them with row numbers.
    return col.to_numpy() if col.num_chunks != 1 else col.chunk(0).to_numpy(zero_copy_only=False)


