"""Text/CSV bar reader (1-minute vendor exports and the like), built on ``pyarrow.csv``.

Layouts understood (header or not, comma/semicolon/tab/pipe delimited):

* ``timestamp,open,high,low,close,volume[,symbol]`` with naive local stamps (default zone
  America/New_York, ``tz=`` overrides), stamps with a UTC offset, or epoch integers;
* ``date,time,open,high,low,close,volume[,symbol]`` with ``yyyymmdd`` dates and ``hhmmss``
  or ``hh:mm[:ss]`` times;
* any other names through ``columns={'timestamp': 'Gmt time', 'open': 'Open', ...}``.

Errors raised while reading name *lines of the file* (1-based, the header is line 1).
Validation later names *data rows* (frame row i = data row i + 1): with a header line,
data row N is file line N + 1 — the note on the result says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.datasets.readers._common import Progress, RawBars, report, to_categorical
from core.datasets.readers.timezones import check_zone, localize
from core.domain import INSTRUMENTS, root_of
from core.errors import DataError

DEFAULT_TZ = "America/New_York"
ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "datetime", "date_time", "ts", "time_stamp", "gmt time",
                  "local time", "date/time"),
    "date": ("date", "day"),
    "time": ("time",),
    "open": ("open", "o", "first"),
    "high": ("high", "h", "max"),
    "low": ("low", "l", "min"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v", "totalvolume"),
    "symbol": ("symbol", "ticker", "contract", "instrument"),
}
FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d %H%M%S",
    "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d %H%M",
)
_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_DELIMS = (",", ";", "\t", "|")


def read_text_bars(path: Path, *, symbol: str | None, tz: str | None,
                   columns: dict[str, str] | None, progress: Progress,
                   notes: list[str]) -> tuple[RawBars, int]:
    """Read a delimited text file of bars.

    Returns:
        The bars and the row offset (1 when the file has a header line, else 0).

    Raises:
        DataError: Empty file, unknown layout, unparsable values, or a wrong zone guess.
    """
    head = _head(path)
    lines = [ln for ln in head.splitlines() if ln.strip()]
    if not lines:
        raise DataError(f"{path}: empty file (no lines)", hint="export the bars again")
    delim = _sniff_delimiter(path, lines)
    first = [f.strip().strip('"').strip() for f in lines[0].split(delim)]
    has_header = any(re.match(r"^[A-Za-z<_]", f) for f in first if f)
    if has_header:
        names = [f.lower().strip("<>").strip() for f in first]
    else:
        names = _positional_names(path, first, lines)
    mapping = _map_columns(path, names, columns, has_header)
    if has_header and len(lines) == 1:
        raise DataError(f"{path}: the file has a header but no data rows",
                        hint="export the bars again; the file holds only the header line")
    report(progress, 0.05)
    offset = 1 if has_header else 0
    # "4800,25;..." (European export): with ';' or tab delimiters a comma is the decimal mark.
    decimal = "," if delim != "," and any("," in ln for ln in lines[1:20]) else "."
    if decimal == ",":
        notes.append("decimal comma detected (e.g. 4800,25)")
    table = _read(path, delim, names, mapping, has_header, decimal)
    report(progress, 0.6)
    if table.num_rows == 0:
        raise DataError(f"{path}: no data rows", hint="export the bars again")
    zone = tz or DEFAULT_TZ
    ts_ns, aware = _timestamps(path, table, mapping, offset)
    sym = _symbols(path, table, mapping, symbol, notes)
    root = root_of(str(sym.categories[0])) if len(sym.categories) else ""
    if aware:
        if tz:
            notes.append(f"stamps carry a UTC offset or are epoch numbers; tz={tz} ignored")
        utc = ts_ns
    else:
        utc = localize(ts_ns, zone, source=str(path), notes=notes, row_offset=offset,
                       row_word="line")
        check_zone(utc, ts_ns, root=root, tz=zone, source=str(path))
        notes.append(f"naive stamps read as {zone} (DST-aware) and stored in UTC")
    report(progress, 0.9)
    cols = {}
    for c in ("open", "high", "low", "close", "volume"):
        cols[c] = _column(table, mapping[c])
    vol = cols["volume"]
    inst = INSTRUMENTS.get(root)
    fractional = inst is not None and inst.fractional_volume   # crypto: base-asset amounts
    bad = ~np.isfinite(vol) | ((vol != np.round(vol)) & (not fractional))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{path}: volume missing or not a whole number in {int(bad.sum())} "
                        f"row(s), first at line {offset + i + 1}",
                        hint="volume must be whole contracts (fractional only for crypto pairs "
                             "such as BTCUSDT); repair or drop those rows")
    big = np.flatnonzero(np.abs(vol) >= 2.0 ** 63)
    if big.size and not fractional:  # would wrap when stored as a 64-bit integer
        i = int(big[0])
        raise DataError(f"{path}: volume {vol[i]:.4g} at line {offset + i + 1} does not fit a "
                        "64-bit integer", hint="the volume column is corrupt or holds another "
                        "field; check the column mapping (--columns volume=...)")
    if has_header:
        notes.append("row numbers count data rows; with the header, file line = data row + 1")
    report(progress, 1.0)
    return RawBars(utc, cols["open"], cols["high"], cols["low"], cols["close"],
                   vol if fractional else vol.astype(np.int64), sym), offset


def _head(path: Path) -> str:
    # compression="detect" goes by the extension (.gz, .bz2, .zst), like pyarrow.csv does.
    with pa.input_stream(str(path), compression="detect") as fh:
        raw = fh.read(65536)
    if not raw:
        raise DataError(f"{path}: empty file (0 bytes)", hint="export the bars again")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw):
        # Excel's "Unicode text" export: every other byte is NUL, so it looked "binary".
        raise DataError(f"{path}: UTF-16 text (e.g. Excel's 'Unicode text' export), not UTF-8",
                        hint=f"save it as 'CSV UTF-8', or convert it: iconv -f UTF-16 -t UTF-8 "
                             f"{path} > {path.stem}_utf8{path.suffix}")
    if b"\x00" in raw:
        raise DataError(f"{path}: binary file, not text bars",
                        hint="pass format='parquet'/'dbn' if that is what it is")
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    if len(raw) == 65536 and "\n" in text:
        text = text[: text.rindex("\n")]  # drop the partial last line of the sample
    return text


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL in every other byte."""
    sample = raw[:4096]
    if len(sample) < 8:
        return False
    even, odd = sample[0::2], sample[1::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even)) or \
        (even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd))


def _check_offsets(path: Path, text: pa.Array, utc: np.ndarray | None, offset: int) -> None:
    """Name a file that mixes time zones instead of calling it "unsorted" or unreadable.

    Two mistakes look alike downstream: stamps with and without a UTC offset in one file,
    and a zone switch mid-file (rows in -05:00, later rows in +00:00 with the wall clock
    running on), which is out of time order once converted to UTC. DST changes (-05:00 to
    -04:00 in time order) are legal and pass.

    Raises:
        DataError: Naming the first line of each kind and the fix.
    """
    if utc is not None:
        _check_zone_switch(path, text, utc, offset)
        return
    has = pc.match_substring_regex(text, r"(Z|[+-]\d\d:?\d\d)$").to_numpy(zero_copy_only=False)
    if has.any() and not has.all():
        i, j = int(np.argmin(has)), int(np.argmax(has))
        raise DataError(
            f"{path}: the file mixes time stamps with and without a UTC offset: line "
            f"{offset + i + 1} {text[i].as_py()!r}, line {offset + j + 1} {text[j].as_py()!r}",
            hint="export every stamp the same way (all with their offset, or all in one zone "
                 "without it and --tz ZONE)")


def _check_zone_switch(path: Path, text: pa.Array, utc: np.ndarray, offset: int) -> None:
    """Stamps that go back in time in UTC exactly where their offset changes."""
    if len(utc) < 2:
        return
    back = np.flatnonzero(utc[1:] < utc[:-1])
    if not back.size:
        return
    k = int(back[0]) + 1
    before, after = (_OFFSET.search(text[x].as_py()) for x in (k - 1, k))
    if before and after and before.group(1) != after.group(1):
        raise DataError(
            f"{path}: the time zone changes at line {offset + k + 1} ({before.group(1)} → "
            f"{after.group(1)}: {text[k - 1].as_py()!r} then {text[k].as_py()!r}) and the "
            "stamps go back in time once converted to UTC: the file mixes time zones",
            hint="export every stamp in one zone (or all in UTC); a daylight-saving change "
                 "keeps the stamps in time order and is fine")


def _sniff_delimiter(path: Path, lines: list[str]) -> str:
    sample = lines[:50]
    best, best_n = None, 0
    for d in _DELIMS:
        counts = {ln.count(d) for ln in sample}
        n = min(counts)
        if len(counts) == 1 and n >= 4 and n > best_n:
            best, best_n = d, n
    if best is None:
        raise DataError(f"{path}: cannot tell the delimiter (tried comma, semicolon, tab, pipe "
                        "with at least 5 columns on every line)",
                        hint="bars need timestamp/date+time, open, high, low, close, volume")
    return best


def _positional_names(path: Path, first: list[str], lines: list[str]) -> list[str]:
    n = len(first)
    if n == 6:
        return ["timestamp", "open", "high", "low", "close", "volume"]
    looks_date = re.fullmatch(r"\d{8}|\d{4}[-/.]\d\d[-/.]\d\d|\d\d[-/.]\d\d[-/.]\d{4}", first[0])
    looks_time = re.fullmatch(r"\d{1,6}|\d{1,2}:\d\d(:\d\d)?(\.\d+)?", first[1])
    if n in (7, 8) and looks_date and looks_time:
        return ["date", "time", "open", "high", "low", "close", "volume", "symbol"][:n]
    if n == 7:
        return ["timestamp", "open", "high", "low", "close", "volume", "symbol"]
    raise DataError(f"{path}: {n} columns and no header line; cannot tell which is which",
                    hint="add a header line (timestamp,open,high,low,close,volume) or map "
                         "columns explicitly")


def _map_columns(path: Path, names: list[str], columns: dict[str, str] | None,
                 has_header: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    lower = {n.lower(): n for n in names}
    for canon, actual in (columns or {}).items():
        key = actual.lower().strip()
        if key not in lower:
            raise DataError(f"{path}: column {actual!r} (for {canon}) not in the header "
                            f"({', '.join(names)})", hint="fix the column mapping")
        out[canon] = lower[key]
    for canon, aliases in ALIASES.items():
        if canon in out:
            continue
        for a in aliases:
            if a in lower and lower[a] not in out.values():
                out[canon] = lower[a]
                break
    if "timestamp" not in out and "date" in out and "time" not in out:
        out["timestamp"] = out.pop("date")  # a single 'date' column holding date and time
    if "timestamp" not in out and "time" in out and "date" not in out:
        out["timestamp"] = out.pop("time")
    need = ["open", "high", "low", "close", "volume"]
    missing = [c for c in need if c not in out]
    if "timestamp" not in out and not ("date" in out and "time" in out):
        missing.insert(0, "timestamp (or date + time)")
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; "
                        f"{'header' if has_header else 'columns'}: {', '.join(names)}",
                        hint="name them timestamp,open,high,low,close,volume or pass a mapping "
                             "(CLI: --column open=Open ...)")
    return out


def _read(path: Path, delim: str, names: list[str], mapping: dict[str, str],
          has_header: bool, decimal: str = ".") -> pa.Table:
    # Read every column as text or float: explicit types stop arrow from guessing per block.
    types: dict[str, pa.DataType] = {}
    for canon, col in mapping.items():
        types[col] = pa.string() if canon in ("timestamp", "date", "time", "symbol") \
            else pa.float64()
    if len(set(names)) != len(names):
        raise DataError(f"{path}: duplicate column names in the header ({', '.join(names)})",
                        hint="rename the columns so each name appears once")
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if has_header else 0,
                                           block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delim),
            convert_options=pacsv.ConvertOptions(column_types=types, decimal_point=decimal,
                                                 include_columns=list(mapping.values()),
                                                 strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True))
    except pa.ArrowInvalid as exc:
        msg = str(exc).splitlines()[0]
        raise DataError(f"{path}: cannot parse the file: {msg}",
                        hint="every data line needs the same columns and numeric prices; "
                             "fix or drop the line arrow names ('Row #N' counts lines)"
                        ) from None


def _timestamps(path: Path, table: pa.Table, mapping: dict[str, str], offset: int
                ) -> tuple[np.ndarray, bool]:
    """Return (ns, aware): naive wall-clock ns (aware=False) or UTC ns (aware=True)."""
    if "timestamp" in mapping:
        text = table.column(mapping["timestamp"])
    else:
        d = pc.utf8_trim_whitespace(table.column(mapping["date"]))
        t = pc.utf8_trim_whitespace(table.column(mapping["time"]))
        # hhmmss written as a number loses its leading zero (93000 = 09:30:00).
        t = pc.if_else(pc.match_substring(t, ":"), t, pc.utf8_lpad(t, width=6, padding="0"))
        text = pc.binary_join_element_wise(d, t, " ")
    text = pc.utf8_trim_whitespace(text.combine_chunks() if isinstance(text, pa.ChunkedArray)
                                   else text)
    if text.null_count:
        i = int(pc.index(pc.is_null(text), True).as_py())
        raise DataError(f"{path}: empty time stamp at line {offset + i + 1}",
                        hint="repair or drop that line")
    first = text[0].as_py()
    if re.fullmatch(r"(19|20)\d{12}", first):  # yyyymmddhhmmss written as one number
        text = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, 8),
                                           pc.utf8_slice_codeunits(text, 8, 14), " ")
        first = text[0].as_py()
    elif re.fullmatch(r"-?\d{9,19}", first):  # epoch numbers
        num = pc.cast(text, pa.int64()).to_numpy()
        mag = np.abs(num[:1000]).max()
        unit = 1 if mag > 1e17 else 1_000 if mag > 1e14 else 1_000_000 if mag > 1e11 else \
            1_000_000_000
        return num * unit, True
    if _OFFSET.search(first):
        try:
            arr = pc.cast(text, pa.timestamp("ns", tz="UTC"))
        except pa.ArrowInvalid:
            _check_offsets(path, text, None, offset)  # some stamps lack their offset?
        else:
            utc = arr.cast(pa.int64()).to_numpy(zero_copy_only=False)
            _check_offsets(path, text, utc, offset)
            return utc, True
    head = text.slice(0, 200)
    try:  # arrow's ISO-8601 parser is the fastest path ('2024-01-02 09:30:00[.123]')
        pc.cast(head, pa.timestamp("ns"))
        parsed = pc.cast(text, pa.timestamp("ns"))
        return parsed.cast(pa.int64()).to_numpy(zero_copy_only=False), False
    except pa.ArrowInvalid:
        # Another format, a bad line the strptime pass below will name, or later stamps
        # that carry an offset (a mixed file: say so rather than "cannot read").
        _check_offsets(path, text, None, offset)
    for fmt in FORMATS:
        probe = pc.strptime(head, format=fmt, unit="ns", error_is_null=True)
        if probe.null_count == 0:
            full = pc.strptime(text, format=fmt, unit="ns", error_is_null=True)
            if full.null_count:
                i = int(pc.index(pc.is_null(full), True).as_py())
                raise DataError(f"{path}: cannot read time stamp {text[i].as_py()!r} at line "
                                f"{offset + i + 1} (format {fmt})",
                                hint="repair or drop that line")
            return full.cast(pa.int64()).to_numpy(zero_copy_only=False), False
    raise DataError(f"{path}: cannot read time stamps like {first!r}",
                    hint="use 'YYYY-MM-DD HH:MM:SS' (or yyyymmdd + hhmmss columns), or "
                         "ISO-8601 with an offset")


def _column(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    return col.combine_chunks().to_numpy(zero_copy_only=False) if col.num_chunks != 1 \
        else col.chunk(0).to_numpy(zero_copy_only=False)


def _symbols(path: Path, table: pa.Table, mapping: dict[str, str], symbol: str | None,
             notes: list[str]) -> pd.Categorical:
    n = table.num_rows
    if symbol:
        if "symbol" in mapping:
            notes.append(f"symbol column replaced by {symbol.upper()!r} as requested")
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8),
                                         categories=[symbol.strip().upper()])
    if "symbol" in mapping:
        col = table.column(mapping["symbol"]).combine_chunks()
        if col.null_count:
            i = int(pc.index(pc.is_null(col), True).as_py())
            raise DataError(f"{path}: empty symbol in {col.null_count} row(s)",
                            hint=f"first at data row {i + 1}; fill it or pass --symbol")
        enc = col.dictionary_encode()
        cats = [str(x) for x in enc.dictionary.to_pylist()]
        return to_categorical(pd.Categorical.from_codes(
            enc.indices.to_numpy(zero_copy_only=False).astype(np.int32), categories=cats))
    guess = guess_root_from_name(path)
    if guess is None:
        raise DataError(f"{path}: no symbol column and the file name names no known "
                        "instrument", hint="pass symbol='MES' (CLI: --symbol MES)")
    notes.append(f"symbol {guess!r} taken from the file name (no symbol column)")
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[guess])


def guess_root_from_name(path: Path) -> str | None:
    """The first token of the file name that is a known root or contract (``MES_1min.csv``)."""
    for token in re.split(r"[^A-Za-z0-9]+", path.name.upper()):
        if token and root_of(token) in INSTRUMENTS:
            return token
    return None
