"""File-level helpers of the data catalog: names, atomic partition writes, row matching.

Kept apart from :mod:`core.datasets.catalog` so each module stays short; not public API.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from core.datasets.resample import session_ids
from core.datasets.schema import COLUMNS, NS_PER_SECOND
from core.errors import ConfigError, DataError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PART = "part.parquet"
META_KEY = b"scalpdesk"
ROOT_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
_LABEL_RE = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
VALUE_COLS = ("open", "high", "low", "close", "volume")

SCHEMA = pa.schema([("timestamp", pa.int64()), ("open", pa.float64()), ("high", pa.float64()),
                    ("low", pa.float64()), ("close", pa.float64()), ("volume", pa.int64()),
                    ("symbol", pa.dictionary(pa.int32(), pa.string()))])


def default_root() -> Path:
    """``$SCALPDESK_DATA`` if set, else ``data/catalog`` inside the project checkout."""
    env = os.environ.get("SCALPDESK_DATA")
    return Path(env).expanduser() if env else PROJECT_ROOT / "data" / "catalog"


def bar_label(seconds: int) -> str:
    """Directory name of a bar size: 1 → ``1s``, 60 → ``1m``, 3600 → ``1h``, 86400 → ``1d``.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, np.integer)) or seconds <= 0:
        raise ConfigError(f"bar size must be a positive number of seconds, got {seconds!r}",
                          hint="e.g. bar_seconds=1 for 1-second bars, 60 for 1-minute bars")
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_bar_label(label: str) -> int:
    """Inverse of :func:`bar_label` (``'5m'`` → 300)."""
    m = _LABEL_RE.match(label)
    if not m:
        raise ConfigError(f"not a bar label: {label!r}", hint="use e.g. 1s, 5s, 1m, 15m, 1h")
    return int(m.group(1)) * _UNIT[m.group(2)]


def write_table(table: pa.Table, path: str) -> None:
    """Write one partition file (separate so tests can make it fail mid-write)."""
    # Delta-encoded timestamps (sorted, near-regular) halve a 1-second month on disk; prices,
    # volume and symbol repeat a lot, so they stay dictionary-encoded.
    pq.write_table(table, path, compression="zstd", write_statistics=True,
                   use_dictionary=[c for c in COLUMNS if c != "timestamp"],
                   column_encoding={"timestamp": "DELTA_BINARY_PACKED"})


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` via a temp file in the same directory and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write_table(table, tmp)
        with open(tmp, "rb+") as fh:  # durable before it becomes visible
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def to_ns(value: object, name: str) -> int | None:
    """A time argument (int ns, str, datetime, Timestamp; naive = UTC) as UTC ns."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read {name}={value!r} as a time",
                          hint="use e.g. '2024-03-01', '2024-03-01T14:30Z' or int ns") from exc
    if stamp.tzinfo is None:  # naive times are UTC, like everything stored
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value)


def month_index(ts: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (UTC) of each timestamp."""
    return ts.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def month_name(month: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{1970 + month // 12:04d}-{month % 12 + 1:02d}"


def month_start_ns(month: int) -> int:
    """UTC ns of the first instant of a month index."""
    return int(np.datetime64(month_name(month), "M").astype("datetime64[ns]").astype(np.int64))


def read_meta(path: Path) -> dict[str, object]:
    """The ``scalpdesk`` footer metadata of a partition (empty when absent)."""
    meta = pq.read_schema(path).metadata or {}
    try:
        return json.loads(meta.get(META_KEY, b"{}"))
    except ValueError:
        return {}


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes, sorted by timestamp, categorical symbol with no missing values."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"bar frame lacks column(s) {', '.join(missing)}",
                        hint="import through a reader (scalpdesk data import) or build frames "
                             "with core.datasets.schema.make_frame")
    sym = frame["symbol"]
    cat = sym.array if isinstance(sym.dtype, pd.CategoricalDtype) else pd.Categorical(sym)
    if len(cat) and cat.codes.min() < 0:
        row = int(np.flatnonzero(cat.codes < 0)[0])
        raise DataError(f"row {row} has no symbol",
                        hint="fill the symbol column (root or contract)")
    out = pd.DataFrame({
        "timestamp": frame["timestamp"].to_numpy(dtype=np.int64),
        **{c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")},
        "volume": frame["volume"].to_numpy(dtype=_vol_dtype(frame["volume"])),
        "symbol": compact(cat),
    }, copy=False)  # no block consolidation: a 33 M-row copy per frame otherwise
    ts = out["timestamp"].to_numpy()
    if len(ts) > 1 and np.any(ts[1:] < ts[:-1]):
        out = take(out, np.argsort(ts, kind="stable"))
    return out


def _vol_dtype(vol: pd.Series) -> type:
    """float64 keeps fractional crypto volume (base-asset amounts); anything else is int64."""
    return np.float64 if vol.dtype.kind == "f" else np.int64


def compact(cat: pd.Categorical) -> pd.Categorical:
    """Drop unused categories (pandas' own version hashes every row, far slower at 33 M)."""
    codes = np.asarray(cat.codes)
    counts = np.bincount(codes.astype(np.intp), minlength=len(cat.categories)) if codes.size \
        else np.zeros(len(cat.categories), np.intp)
    used = np.flatnonzero(counts)
    if used.size == len(cat.categories):
        return cat
    remap = np.full(len(cat.categories), -1, dtype=np.int32)
    remap[used] = np.arange(used.size, dtype=np.int32)
    return pd.Categorical.from_codes(remap[codes], categories=cat.categories[used])


def symbols(df: pd.DataFrame, idx: np.ndarray | None = None) -> np.ndarray:
    """Symbol strings (object array) of ``df`` rows ``idx`` (all rows when None)."""
    cat = df["symbol"].array
    cats = np.asarray([str(c) for c in cat.categories] + [""], dtype=object)
    return cats[cat.codes if idx is None else cat.codes[idx]]


def take(df: pd.DataFrame, idx: np.ndarray | slice) -> pd.DataFrame:
    """Rows ``idx`` of a catalog frame as a new frame with a RangeIndex."""
    out = {c: df[c].to_numpy()[idx] for c in COLUMNS[:-1]}
    cat = df["symbol"].array
    out["symbol"] = pd.Categorical.from_codes(cat.codes[idx], categories=cat.categories)
    return pd.DataFrame(out, copy=False)


def concat_sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate catalog frames (symbols may differ) and sort stably by timestamp."""
    parts = [p for p in parts if len(p)] or parts[:1]
    sym = union_categoricals([p["symbol"].array for p in parts])
    df = pd.DataFrame({**{c: np.concatenate([p[c].to_numpy() for p in parts])
                          for c in COLUMNS[:-1]}, "symbol": sym}, copy=False)
    return take(df, np.argsort(df["timestamp"].to_numpy(), kind="stable"))


def rows_equal(a: pd.DataFrame, ia: np.ndarray, b: pd.DataFrame, ib: np.ndarray) -> np.ndarray:
    """Whether rows ``a[ia]`` and ``b[ib]`` hold identical values (pairwise)."""
    eq = np.ones(len(ia), dtype=bool)
    for c in VALUE_COLS:
        eq &= a[c].to_numpy()[ia] == b[c].to_numpy()[ib]
    # Compare symbols as codes: map a's categories onto b's (-1 where b lacks the symbol).
    ca, cb = a["symbol"].array, b["symbol"].array
    b_index = {str(c): i for i, c in enumerate(cb.categories)}
    a_to_b = np.array([b_index.get(str(c), -1) for c in ca.categories] or [-1], dtype=np.int64)
    return eq & (a_to_b[np.asarray(ca.codes)[ia]] == np.asarray(cb.codes)[ib])


def values(df: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    """(n, 5) float array of open, high, low, close, volume of rows ``idx``."""
    return np.column_stack([df[c].to_numpy()[idx].astype(np.float64) for c in VALUE_COLS]) \
        if len(idx) else np.empty((0, 5))


def row_tuple(df: pd.DataFrame, i: int) -> tuple[float, float, float, float, float, str]:
    """One row's values as a plain tuple (for conflict examples)."""
    v = df["volume"].iat[i]
    return (float(df["open"].iat[i]), float(df["high"].iat[i]), float(df["low"].iat[i]),
            float(df["close"].iat[i]), float(v) if df["volume"].dtype.kind == "f" else int(v),
            str(symbols(df, np.array([i]))[0]))


def to_table(df: pd.DataFrame, meta: dict[str, object]) -> pa.Table:
    """Arrow table in the partition schema, with ``meta`` as footer metadata."""
    cat = compact(df["symbol"].array)
    sym = pa.DictionaryArray.from_arrays(pa.array(cat.codes.astype(np.int32)),
                                         pa.array([str(c) for c in cat.categories], pa.string()))
    arrays = [pa.array(df[c].to_numpy()) for c in COLUMNS[:-1]] + [sym]
    schema = SCHEMA
    if df["volume"].dtype.kind == "f":   # crypto: fractional base-asset volume
        schema = schema.set(schema.get_field_index("volume"), pa.field("volume", pa.float64()))
    schema = schema.with_metadata({META_KEY: json.dumps(meta).encode()})
    return pa.Table.from_arrays(arrays, schema=schema)


def trading_ns(a: int, b: int, continuous: bool = False) -> int:
    """Approximate trading time inside ``[a, b)`` (sampled on a minute grid; all of it for a
    24/7 market)."""
    if continuous:
        return max(b - a, 0)
    minute = 60 * NS_PER_SECOND
    step = max(minute, -(-(b - a) // 2_000_000 // minute) * minute)  # ≤ 2 M samples
    grid = np.arange(a, b, step, dtype=np.int64)
    return int(np.count_nonzero(session_ids(grid) >= 0)) * step


def find_gaps(old_ts: Sequence[np.ndarray], new_ts: Sequence[np.ndarray], bar_ns: int,
              gap_ns: int, continuous: bool = False) -> tuple[tuple[int, int], ...]:
    """Holes with at least ``gap_ns`` of trading time between stored and new bars.

    Args:
        old_ts: Stored timestamps, pieces in time order (concatenation is sorted).
        new_ts: Newly added timestamps, pieces in time order, none equal to a stored one.
        bar_ns: Bar size; a hole starts one bar after the bar before it.
        gap_ns: Smallest trading time inside a hole worth reporting.
        continuous: The market trades 24/7 (every hour of a hole is trading time).
    """
    old = np.concatenate(old_ts) if old_ts else np.empty(0, np.int64)
    new = np.concatenate(new_ts) if new_ts else np.empty(0, np.int64)
    if not old.size or not new.size:
        return ()
    # Both are sorted: merge by position instead of sorting the union (66 M rows at worst).
    pos = np.searchsorted(old, new)
    first_of_run = np.r_[True, pos[1:] != pos[:-1]]  # a stored bar sits before new[j]
    last_of_run = np.r_[pos[1:] != pos[:-1], True]  # a stored bar sits after new[j]
    before = np.flatnonzero(first_of_run & (pos > 0))
    after = np.flatnonzero(last_of_run & (pos < old.size))
    pairs = np.concatenate((np.column_stack((old[pos[before] - 1], new[before])),
                            np.column_stack((new[after], old[pos[after]]))))
    pairs = pairs[pairs[:, 1] - pairs[:, 0] - bar_ns >= gap_ns]
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    out = []
    for a, b in pairs.tolist():
        if trading_ns(a + bar_ns, b, continuous) >= gap_ns:
            out.append((a + bar_ns, b))
    return tuple(out)
