"""Databento DBN reader (``.dbn`` / ``.dbn.zst``, DBN v1-v3) for OHLCV bars and trades.

* The header and metadata go through ``databento_dbn.DBNDecoder`` with the upgrade policy
  set to v3, so v1/v2 metadata (symbology) is read the same way as v3.
* Files of one bar/trade schema take a fast path: the record bytes are viewed as a numpy
  structured array (OHLCV and trade record layouts are identical in v1, v2 and v3), so a
  file of millions of bars costs no per-record Python. Mixed live streams go through the
  decoder record by record (they are small).
* Prices are fixed-point int64 × 1e-9. The undefined-price sentinel (int64 max) becomes NaN
  and is reported in the notes; validation then rejects such a bar with its row number.
* ``ts_event`` is the bar start for OHLCV. Trades become 1-second bars (first/max/min/last
  price, volume = summed sizes) labelled by the start of their UTC second.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from core.datasets.readers._common import Progress, RawBars, report, to_categorical
from core.errors import DataError

UNDEF_PRICE = np.int64(2**63 - 1)
#: Fixed-point divisor. Dividing by 1e9 (exact in binary) rounds correctly: 3702750000000 / 1e9
#: is exactly 3702.75, while multiplying by 1e-9 (inexact) gives 3702.7500000000005.
PRICE_DIVISOR = 1e9
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: rtype → bar seconds (OHLCV_1S, 1M, 1H, 1D, EOD).
OHLCV_RTYPES: dict[int, int] = {32: 1, 33: 60, 34: 3600, 35: 86400, 36: 86400}
#: Deprecated generic OHLCV rtype of old files: the bar size comes from the schema.
OHLCV_DEPRECATED = 17
TRADE_RTYPE = 0
SCHEMA_SECONDS: dict[str, int] = {"ohlcv-1s": 1, "ohlcv-1m": 60, "ohlcv-1h": 3600,
                                  "ohlcv-1d": 86400, "ohlcv-eod": 86400}
SUPPORTED = "ohlcv-1s, ohlcv-1m, ohlcv-1h, ohlcv-1d, trades"
_HEAD = [("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"),
         ("instrument_id", "<u4"), ("ts_event", "<u8")]
OHLCV_FIELDS = _HEAD + [("open", "<i8"), ("high", "<i8"), ("low", "<i8"), ("close", "<i8"),
                        ("volume", "<u8")]
TRADE_FIELDS = _HEAD + [("price", "<i8"), ("size", "<u4"), ("action", "S1"), ("side", "S1"),
                        ("flags", "u1"), ("depth", "u1"), ("ts_recv", "<u8"),
                        ("ts_in_delta", "<i4"), ("sequence", "<u4")]


def read_dbn_bars(path: Path, *, symbol: str | None, progress: Progress
                  ) -> list[tuple[RawBars, int, list[str]]]:
    """Read a DBN file into one ``(bars, bar_seconds, notes)`` per bar interval found.

    Raises:
        DataError: Corrupt file, no records, or a schema that holds no bars.
    """
    import databento_dbn as dbn  # imported here: only DBN imports pay for it

    data = _load(path)
    if len(data) < 8 or data[:3] != b"DBN":
        raise DataError(f"{path}: not a DBN stream (bad header)",
                        hint="legacy .dbz files and header-less fragments are not supported")
    meta_len = int.from_bytes(data[4:8], "little")
    body_at = 8 + meta_len
    meta = _metadata(dbn, path, data[:body_at])
    report(progress, 0.2)
    schema = str(meta.schema) if meta.schema is not None else None
    body = memoryview(data)[body_at:]
    if len(body) == 0:
        raise DataError(f"{path}: no records (the file holds only a header; schema "
                        f"{schema or 'mixed'})", hint="request the data again for a range "
                                                   "that has trading")
    if schema is not None and schema not in SCHEMA_SECONDS and schema != "trades":
        raise DataError(f"{path}: schema {schema} holds no bars; supported: {SUPPORTED}",
                        hint="download ohlcv-1s/ohlcv-1m or trades for the same range")
    symbols = _metadata_symbols(meta)
    try:
        fast = _fast_records(body, schema)
    except DataError as exc:
        raise DataError(f"{path}: {exc.message}", hint=exc.hint) from None
    if fast is not None:
        recs, rtype = fast
        out = _from_array(path, recs, rtype, symbols, symbol, SCHEMA_SECONDS.get(schema or "", 0))
        report(progress, 1.0)
        return out
    out = _slow(dbn, path, data, symbols, symbol, SCHEMA_SECONDS.get(schema or "", 0))
    report(progress, 1.0)
    return out


def _load(path: Path) -> bytes:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    try:
        if magic == ZSTD_MAGIC:
            with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
                return stream.read()
        return path.read_bytes()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot decompress the DBN file (truncated?): {exc}",
                        hint="download the file again") from None


def _metadata(dbn: object, path: Path, head: bytes) -> object:
    try:
        dec = dbn.DBNDecoder(upgrade_policy=dbn.VersionUpgradePolicy.UPGRADE_TO_V3)
        dec.write(head)
        got = dec.decode()
    except Exception as exc:  # DBNError and friends: the decoder's own message is useful
        raise DataError(f"{path}: invalid DBN metadata: {exc}",
                        hint="download the file again") from None
    if not got:
        raise DataError(f"{path}: truncated DBN metadata", hint="download the file again")
    return got[0]


def _metadata_symbols(meta: object) -> dict[int, str]:
    """instrument_id → raw symbol from the metadata's symbology mappings."""
    out: dict[int, str] = {}
    mappings = getattr(meta, "mappings", None) or {}
    items = mappings.items() if isinstance(mappings, dict) else \
        ((m.raw_symbol, m.intervals) for m in mappings)
    for raw_symbol, intervals in items:
        for iv in intervals:
            sid = iv["symbol"] if isinstance(iv, dict) else iv.symbol
            if str(sid).isdigit():
                out[int(sid)] = str(raw_symbol)
    return out


def _fast_records(body: memoryview, schema: str | None) -> tuple[np.ndarray, int] | None:
    """View homogeneous OHLCV/trade records as a structured array, else None."""
    if schema is None:
        return None
    length = body[0] * 4
    rtype = body[1]
    if rtype in OHLCV_RTYPES or rtype == OHLCV_DEPRECATED:
        fields = OHLCV_FIELDS
    elif rtype == TRADE_RTYPE:
        fields = TRADE_FIELDS
    else:
        return None
    if length < np.dtype(fields).itemsize:
        return None
    if len(body) % length:
        raise DataError(f"DBN records end in a partial record ({len(body) % length} trailing "
                        "bytes): the file is truncated", hint="download the file again")
    names, formats = zip(*fields)
    offsets, pos = [], 0
    for f in formats:
        offsets.append(pos)
        pos += np.dtype(f).itemsize
    dt = np.dtype({"names": list(names), "formats": list(formats), "offsets": offsets,
                   "itemsize": length})
    recs = np.frombuffer(body, dtype=dt)
    if not ((recs["length"] == body[0]).all() and (recs["rtype"] == rtype).all()):
        return None
    return recs, int(rtype)


def _from_array(path: Path, recs: np.ndarray, rtype: int, symbols: dict[int, str],
                override: str | None, schema_secs: int) -> list[tuple[RawBars, int, list[str]]]:
    notes: list[str] = []
    iid = recs["instrument_id"].astype(np.int64)
    ts = recs["ts_event"].astype(np.int64)
    if rtype == TRADE_RTYPE:
        raw = _trades_to_bars(path, ts, iid, recs["price"], recs["size"].astype(np.int64),
                              symbols, override, notes)
        return [(raw, 1, notes)]
    px = {k: _prices(recs[k]) for k in ("open", "high", "low", "close")}
    n_undef = int(sum(int(np.isnan(v).sum()) for v in px.values()))
    if n_undef:
        notes.append(f"{n_undef} price field(s) held the undefined-price sentinel (int64 max) "
                     "and were set to null; validation rejects those bars")
    sym = _symbol_cat(path, iid, symbols, override)
    raw = RawBars(ts, px["open"], px["high"], px["low"], px["close"],
                  recs["volume"].astype(np.int64), sym)
    return [(raw, OHLCV_RTYPES.get(rtype) or schema_secs, notes)]


def _prices(fixed: np.ndarray) -> np.ndarray:
    out = fixed.astype(np.float64) / PRICE_DIVISOR
    out[fixed == UNDEF_PRICE] = np.nan
    return out


def _symbol_cat(path: Path, iid: np.ndarray, symbols: dict[int, str], override: str | None
                ) -> pd.Categorical:
    if override:
        return pd.Categorical.from_codes(np.zeros(len(iid), dtype=np.int8),
                                         categories=[override.strip().upper()])
    uniq, codes = np.unique(iid, return_inverse=True)
    missing = [int(u) for u in uniq if int(u) not in symbols]
    if missing:
        raise DataError(f"{path}: no symbol mapping for instrument id(s) "
                        f"{', '.join(map(str, missing[:5]))}",
                        hint="pass the contract with symbol='ESU4' (CLI: --symbol ESU4)")
    names = [symbols[int(u)] for u in uniq]
    if len(set(names)) != len(names):  # two ids, one name: merge codes by name
        return to_categorical(np.asarray(names, dtype=object)[codes])
    return to_categorical(pd.Categorical.from_codes(codes.astype(np.int32), categories=names))


def _trades_to_bars(path: Path, ts: np.ndarray, iid: np.ndarray, price: np.ndarray,
                    size: np.ndarray, symbols: dict[int, str], override: str | None,
                    notes: list[str]) -> RawBars:
    ok = price != UNDEF_PRICE
    if not ok.all():
        notes.append(f"{int((~ok).sum())} trade(s) held the undefined-price sentinel "
                     "(int64 max) and were dropped before building bars")
        ts, iid, price, size = ts[ok], iid[ok], price[ok], size[ok]
    if len(ts) == 0:
        raise DataError(f"{path}: no priced trades to build bars from",
                        hint="download trades or ohlcv-1s for a range with trading")
    sec = ts // 1_000_000_000
    # Stable sort by (instrument, second): a trade keeps its file order inside its second,
    # so open/close are the first/last prints as the venue sent them.
    order = np.lexsort((sec, iid))
    sec_o, iid_o = sec[order], iid[order]
    px = price[order].astype(np.float64) / PRICE_DIVISOR
    new = np.ones(len(order), dtype=bool)
    new[1:] = (sec_o[1:] != sec_o[:-1]) | (iid_o[1:] != iid_o[:-1])
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [len(order)]]) - 1
    notes.append(f"{len(ts)} trades aggregated into {len(starts)} 1-second bars (first/max/"
                 "min/last price, volume = summed trade sizes, stamp = start of the second)")
    sym = _symbol_cat(path, iid_o[starts], symbols, override)
    return RawBars(sec_o[starts] * 1_000_000_000, px[starts], np.maximum.reduceat(px, starts),
                   np.minimum.reduceat(px, starts), px[ends],
                   np.add.reduceat(size[order], starts), sym)


def _slow(dbn: object, path: Path, data: bytes, symbols: dict[int, str],
          override: str | None, schema_secs: int) -> list[tuple[RawBars, int, list[str]]]:
    """Mixed-schema streams: walk the records with the decoder."""
    try:
        dec = dbn.DBNDecoder(upgrade_policy=dbn.VersionUpgradePolicy.UPGRADE_TO_V3)
        dec.write(data)
        records = dec.decode()[1:]
        left = len(dec.buffer())
    except Exception as exc:
        raise DataError(f"{path}: cannot decode the DBN records (truncated?): {exc}",
                        hint="download the file again") from None
    if left:
        raise DataError(f"{path}: the last DBN record is incomplete ({left} trailing bytes): "
                        "the file is truncated", hint="download the file again")
    if not records:
        raise DataError(f"{path}: no records (the file holds only a header)",
                        hint="request the data again for a range that has trading")
    ohlcv: dict[int, list[tuple[int, int, int, int, int, int, int]]] = {}
    trades: list[tuple[int, int, int, int]] = []
    kinds: Counter[str] = Counter()
    sentinel: Counter[str] = Counter()
    for r in records:  # small live streams only; big single-schema files take the fast path
        kind = type(r).__name__
        kinds[kind] += 1
        rt = int(r.rtype)
        if kind == "SymbolMappingMsg":
            out_sym = str(r.stype_out_symbol)
            symbols[int(r.instrument_id)] = out_sym if out_sym and not out_sym.isdigit() \
                else str(r.stype_in_symbol)
        elif kind in ("OhlcvMsg", "OHLCVMsg") or rt in OHLCV_RTYPES:
            ohlcv.setdefault(OHLCV_RTYPES.get(rt) or schema_secs, []).append(
                (r.ts_event, r.instrument_id, r.open, r.high, r.low, r.close, r.volume))
        elif kind == "TradeMsg":
            trades.append((r.ts_event, r.instrument_id, r.price, r.size))
        if _has_sentinel(r):
            sentinel[kind] += 1
    notes: list[str] = []
    if sentinel:
        what = ", ".join(f"{k} {v}" for k, v in sorted(sentinel.items()))
        notes.append(f"{sum(sentinel.values())} record(s) carry the undefined-price sentinel "
                     f"(int64 max) ({what}); mapped to null, never to a price")
    other = {k: v for k, v in kinds.items()
             if k not in ("OhlcvMsg", "OHLCVMsg", "TradeMsg", "SymbolMappingMsg")}
    if other:
        notes.append("non-bar records ignored: " + ", ".join(f"{k} {v}" for k, v in
                                                             sorted(other.items())))
    if len(ohlcv) > 1:
        notes.append("the stream mixes bar sizes (" + ", ".join(f"{s} s" for s in sorted(ohlcv))
                     + "); one result per bar size")
    out: list[tuple[RawBars, int, list[str]]] = []
    for secs, rows in sorted(ohlcv.items()):
        a = np.asarray(rows, dtype=object)
        fixed = {k: np.asarray(a[:, i].astype(np.int64)) for i, k in
                 enumerate(("open", "high", "low", "close"), start=2)}
        iid = a[:, 1].astype(np.int64)
        raw = RawBars(a[:, 0].astype(np.int64), _prices(fixed["open"]), _prices(fixed["high"]),
                      _prices(fixed["low"]), _prices(fixed["close"]), a[:, 6].astype(np.int64),
                      _symbol_cat(path, iid, symbols, override))
        out.append((raw, secs, list(notes)))
    if trades and not out:
        t = np.asarray(trades, dtype=object)
        raw = _trades_to_bars(path, t[:, 0].astype(np.int64), t[:, 1].astype(np.int64),
                              t[:, 2].astype(np.int64), t[:, 3].astype(np.int64), symbols,
                              override, notes)
        out.append((raw, 1, notes))
    elif trades:
        for _, _, n in out:
            n.append(f"{len(trades)} trade record(s) ignored: the file also holds OHLCV bars")
    if not out:
        found = ", ".join(sorted(kinds))
        raise DataError(f"{path}: holds no bars (records: {found}); supported: {SUPPORTED}",
                        hint="download ohlcv-1s/ohlcv-1m or trades for the same range")
    return out


def _has_sentinel(r: object) -> bool:
    for name in dir(r):
        if name.startswith(("_", "pretty")) or not (
                name.endswith(("price", "_px")) or "_px_" in name
                or name in ("open", "high", "low", "close", "price_ratio", "leg_delta")):
            continue
        if getattr(r, name, None) == int(UNDEF_PRICE):
            return True
    return False
