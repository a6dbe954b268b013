"""The data catalog: imported bars as Parquet, partitioned by bar size, root and month.

Layout (``<catalog>`` defaults to ``data/catalog`` in the project, or ``$SCALPDESK_DATA``)::

    <catalog>/<bar>/<ROOT>/year=YYYY/month=MM/part.parquet      e.g. 1s/MES/year=2024/month=03

Months are UTC calendar months of the bar start. Each part is zstd Parquet with an int64
``timestamp`` (UTC ns), float64 prices, int64 volume (float64 for crypto, whose volume is a
fractional base-asset amount) and a dictionary-encoded ``symbol``;
its footer metadata (key ``scalpdesk``) records the contracts and sources it holds, so
:meth:`Catalog.entries` reads footers only.

Appends rewrite only the months they touch, each through a temporary file in the same
directory and ``os.replace`` — a crash leaves the old partition or the new one, never half
of one. An append that spans several months is not atomic *as a whole*, but re-running it is
safe: identical rows are skipped. One writer per catalog at a time: every write holds the
catalog's lock (:mod:`core.datasets._catalog_lock`); a second writer waits, then is refused.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.datasets import _catalog_files as files
from core.datasets._catalog_files import bar_label, default_root, parse_bar_label
from core.datasets._catalog_lock import write_lock
from core.datasets._catalog_types import AppendReport, CatalogEntry, Conflict, Conflicts
from core.datasets.schema import COLUMNS, NS_PER_SECOND, empty_frame
from core.domain.instruments import root_of
from core.errors import ConfigError, DataError

__all__ = ["AppendReport", "Catalog", "CatalogEntry", "Conflict", "Conflicts", "bar_label",
           "default_root", "parse_bar_label"]

Progress = Callable[[float], None] | None


def _check_root(root: str) -> str:
    name = str(root).strip().upper()
    if not files.ROOT_RE.match(name):
        raise ConfigError(f"invalid instrument root {root!r} for the catalog",
                          hint="use a root symbol such as MES, ES or BTCUSDT")
    return name


def _utc(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


class Catalog:
    """Imported bars on disk, one entry per (instrument root, bar size).

    Args:
        root: Catalog directory; default ``$SCALPDESK_DATA`` or ``data/catalog`` in the project.
        on_wait: Called with a message when a write has to wait for another writer.
        lock_timeout: Seconds a write waits for another writer (default
            ``$SCALPDESK_LOCK_TIMEOUT`` or 600; see :mod:`core.datasets._catalog_lock`).
    """

    def __init__(self, root: Path | str | None = None, *,
                 on_wait: Callable[[str], None] | None = None,
                 lock_timeout: float | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.on_wait = on_wait
        self.lock_timeout = lock_timeout

    def _locked(self, what: str) -> contextlib.AbstractContextManager[None]:
        """The catalog's write lock: one writer at a time, a second one waits or is refused."""
        return write_lock(self.root, what, timeout=self.lock_timeout, on_wait=self.on_wait)

    # ----------------------------------------------------------------- paths
    def _dir(self, root: str, bar_seconds: int) -> Path:
        return self.root / bar_label(bar_seconds) / _check_root(root)

    @staticmethod
    def _partitions(entry_dir: Path) -> dict[int, Path]:
        """Month index → partition file, in time order."""
        out: dict[int, Path] = {}
        if not entry_dir.is_dir():
            return out
        for part in entry_dir.glob(f"year=*/month=*/{files.PART}"):
            try:
                year, month = int(part.parent.parent.name[5:]), int(part.parent.name[6:])
            except ValueError:
                continue
            out[(year - 1970) * 12 + month - 1] = part
        return dict(sorted(out.items()))

    @staticmethod
    def _part_path(entry_dir: Path, month: int) -> Path:
        return (entry_dir / f"year={1970 + month // 12:04d}" / f"month={month % 12 + 1:02d}"
                / files.PART)

    @staticmethod
    def _ts_range(path: Path) -> tuple[int, int, int]:
        """(rows, first_ns, last_ns) of a partition from its footer statistics."""
        md = pq.read_metadata(path)
        lo, hi = [], []
        for i in range(md.num_row_groups):
            st = md.row_group(i).column(0).statistics
            if st is None or not st.has_min_max:
                ts = pq.read_table(path, columns=["timestamp"]).column(0).to_numpy()
                return md.num_rows, int(ts.min()), int(ts.max())
            lo.append(st.min)
            hi.append(st.max)
        return md.num_rows, int(min(lo, default=0)), int(max(hi, default=0))

    def _missing(self, root: str, bar_seconds: int) -> DataError:
        held = [f"{e.root} {e.bar}" for e in self.entries()]
        return DataError(
            f"the catalog at {self.root} has no {root} {bar_label(bar_seconds)} bars",
            hint=(f"it holds: {', '.join(held)}; " if held else "it is empty; ")
            + "import data with `scalpdesk data import` (or set SCALPDESK_DATA to another catalog)")

    @staticmethod
    def _read_partition(path: Path, columns: list[str], filters: list | None) -> pa.Table:
        """One partition as Arrow; a row filter only when the range cuts the month."""
        if filters:
            return pq.read_table(path, columns=columns, filters=filters, partitioning=None)
        return pq.ParquetFile(path).read(columns=columns)

    @staticmethod
    def _read_part(path: Path) -> pd.DataFrame:
        return files.normalise(pq.read_table(path).to_pandas())

    # ----------------------------------------------------------------- public API
    def append(self, frame: pd.DataFrame, *, root: str, bar_seconds: int, source: str = "",
               overwrite: bool = False, min_gap_seconds: int | None = None,
               progress: Progress = None) -> AppendReport:
        """Merge bars into the catalog under its write lock (see :meth:`_append`).

        Raises:
            DataError: As :meth:`_append`, or another writer held the lock too long.
        """
        with self._locked(f"append {root} {bar_label(bar_seconds)} from {source or 'a frame'}"):
            return self._append(frame, root=root, bar_seconds=bar_seconds, source=source,
                                overwrite=overwrite, min_gap_seconds=min_gap_seconds,
                                progress=progress)

    def _append(self, frame: pd.DataFrame, *, root: str, bar_seconds: int, source: str = "",
                overwrite: bool = False, min_gap_seconds: int | None = None,
                progress: Progress = None) -> AppendReport:
        """Merge bars into the catalog, rewriting only the months they touch.

        Identical rows already stored are skipped; a stored timestamp with different values
        is a conflict: reported (every row, as compact arrays) and kept as stored unless
        ``overwrite``. Holes of at least ``min_gap_seconds`` of trading time between the
        stored and the new bars are reported as gaps to backfill.

        Args:
            frame: Canonical bar frame (any order; sorted here).
            root: Instrument root (``MES``); every symbol in ``frame`` must belong to it.
            bar_seconds: Bar size; every timestamp must lie on its grid.
            source: Where the bars came from (recorded in partition metadata).
            overwrite: Replace stored rows that conflict with the new ones.
            min_gap_seconds: Smallest hole reported; default max(30 min, one bar).
            progress: Optional callback receiving the fraction done (0..1).

        Raises:
            DataError: Missing columns, symbols of another root, timestamps off the bar grid,
                or two different bars with the same timestamp in ``frame``.
        """
        root = _check_root(root)
        bar_ns = int(bar_seconds) * NS_PER_SECOND
        label = bar_label(bar_seconds)
        rows_in = len(frame)
        new = files.normalise(frame)
        # A contract code is its own root too (``data import --by-contract``: ESH4 under ESH4).
        foreign = [str(s) for s in new["symbol"].array.categories
                   if root_of(str(s)) != root and str(s).upper() != root]
        if foreign:
            raise DataError(f"symbols {', '.join(foreign[:5])} do not belong to root {root}",
                            hint=f"append them under their own root, not {root}")
        ts = new["timestamp"].to_numpy()
        off = np.flatnonzero(ts % bar_ns)
        if off.size:
            raise DataError(f"{off.size:,} bar(s) are not on the {label} grid, first at "
                            f"{_utc(ts[off[0]])}",
                            hint=f"resample to {label} first, or append under the real bar size")
        new, input_dups = self._dedupe_input(new)
        ts = new["timestamp"].to_numpy()
        entry = self._dir(root, bar_seconds)
        stored = self._partitions(entry)
        months = files.month_index(ts)
        cuts = [0, *(np.flatnonzero(np.diff(months)) + 1).tolist(), len(ts)] if len(ts) else [0]
        dups = overwritten = added = 0
        conflicts: list[Conflicts] = []
        written: list[str] = []
        old_ts: dict[int, np.ndarray] = {}  # month → stored timestamps (sorted)
        new_ts: list[np.ndarray] = []
        for k in range(len(cuts) - 1):
            a, b = cuts[k], cuts[k + 1]
            month = int(months[a])
            chunk = files.take(new, slice(a, b))
            path = self._part_path(entry, month)
            meta: dict[str, object] = {"root": root, "bar_seconds": int(bar_seconds)}
            if month in stored:
                old = self._read_part(stored[month])
                e_ts, n_ts = old["timestamp"].to_numpy(), chunk["timestamp"].to_numpy()
                pos = np.minimum(np.searchsorted(e_ts, n_ts), max(len(e_ts) - 1, 0))
                found = (e_ts[pos] == n_ts) if len(e_ts) else np.zeros(len(n_ts), bool)
                fi = np.flatnonzero(found)
                same = files.rows_equal(chunk, fi, old, pos[fi])
                dups += int(same.sum())
                ci, ce = fi[~same], pos[fi][~same]
                if ci.size:
                    conflicts.append(Conflicts(n_ts[ci], files.values(old, ce),
                                               files.values(chunk, ci), files.symbols(old, ce),
                                               files.symbols(chunk, ci)))
                add_idx = np.flatnonzero(~found)
                parts = [old, files.take(chunk, add_idx)]
                if overwrite and ci.size:
                    keep = np.ones(len(old), dtype=bool)
                    keep[ce] = False
                    parts = [files.take(old, np.flatnonzero(keep)),
                             files.take(chunk, np.concatenate((add_idx, ci)))]
                    overwritten += len(ci)
                old_ts[month] = e_ts
                old_meta = files.read_meta(stored[month])
                prior = old_meta.get("sources", [])
                meta["sources"] = list(prior) if isinstance(prior, list) else []
                changed = bool(add_idx.size) or bool(overwrite and ci.size)
                merged = files.concat_sorted(parts) if changed else old
            else:
                add_idx = np.arange(b - a)
                merged, changed, meta["sources"] = chunk, True, []
            new_ts.append(chunk["timestamp"].to_numpy()[add_idx])
            added += len(add_idx)
            if changed:
                if source and source not in meta["sources"]:  # type: ignore[operator]
                    meta["sources"] = [*meta["sources"], source][-50:]  # type: ignore[misc]
                meta["contracts"] = sorted(set(files.symbols(merged).tolist()))
                self._clean_temps(path.parent)
                files.write_atomic(files.to_table(merged, meta), path)
                written.append(files.month_name(month))
            if progress:
                progress((k + 1) / (len(cuts) - 1))
        touched = set(months[cuts[:-1]].tolist()) if len(ts) else set()
        for month, p in stored.items():
            if month not in touched:  # an untouched month is one stored block: its ends suffice
                _, lo, hi = self._ts_range(p)
                old_ts[month] = np.array([lo, hi], dtype=np.int64)
        gap_ns = max(1800, int(bar_seconds)) * NS_PER_SECOND if min_gap_seconds is None \
            else int(min_gap_seconds) * NS_PER_SECOND
        from core.daycut import is_continuous
        gaps = files.find_gaps([old_ts[m] for m in sorted(old_ts)], new_ts, bar_ns, gap_ns,
                               continuous=is_continuous(root))
        return AppendReport(root, int(bar_seconds), rows_in, added, dups + input_dups,
                            Conflicts.concat(conflicts), overwritten, gaps, len(written),
                            tuple(written))

    @staticmethod
    def _dedupe_input(new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        ts = new["timestamp"].to_numpy()
        rep = np.flatnonzero(ts[1:] == ts[:-1]) + 1
        if not rep.size:
            return new, 0
        same = files.rows_equal(new, rep, new, rep - 1)
        if not same.all():
            i = int(rep[~same][0])
            raise DataError(
                f"the bars to append hold two different bars at {_utc(ts[i])}: "
                f"{files.row_tuple(new, i - 1)} and {files.row_tuple(new, i)}",
                hint="keep one bar per timestamp (e.g. one contract per continuous series)")
        keep = np.ones(len(new), dtype=bool)
        keep[rep] = False
        return files.take(new, np.flatnonzero(keep)), int(rep.size)

    @staticmethod
    def _clean_temps(directory: Path) -> None:
        """Remove temp files a killed writer left behind (one writer at a time)."""
        for tmp in directory.glob(".part-*.tmp") if directory.is_dir() else ():
            tmp.unlink(missing_ok=True)

    def load(self, root: str, bar_seconds: int, *, start: object = None, end: object = None,
             columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Read bars in ``[start, end)`` (UTC; naive times are UTC) as a sorted bar frame.

        Only the month partitions overlapping the range are opened.

        Args:
            root: Instrument root (``MES``).
            bar_seconds: Bar size (1 for ``1s``, 60 for ``1m`` …).
            start: Inclusive start (int ns, ``'2024-03-01'``, datetime, Timestamp) or None.
            end: Exclusive end, same forms, or None.
            columns: Subset of the canonical columns (``timestamp`` is always included).

        Raises:
            DataError: The catalog has no such entry (the message lists what it holds).
            ConfigError: Unknown column, unreadable time, or ``end`` not after ``start``.
        """
        root = _check_root(root)
        parts = self._partitions(self._dir(root, bar_seconds))
        if not parts:
            raise self._missing(root, bar_seconds)
        lo, hi = files.to_ns(start, "start"), files.to_ns(end, "end")
        if lo is not None and hi is not None and hi <= lo:
            raise ConfigError(f"end {_utc(hi)} is not after start {_utc(lo)}",
                              hint="give an end later than the start (end is exclusive)")
        wanted = set(columns) if columns is not None else set(COLUMNS)
        unknown = sorted(wanted - set(COLUMNS))
        if unknown:
            raise ConfigError(f"unknown column(s) {', '.join(unknown)}",
                              hint=f"choose from {', '.join(COLUMNS)}")
        cols = [c for c in COLUMNS if c in wanted or c == "timestamp"]
        filters = ([("timestamp", ">=", lo)] if lo is not None else []) + \
                  ([("timestamp", "<", hi)] if hi is not None else [])
        plan: list[tuple[Path, list | None]] = []
        for month, path in parts.items():
            if (hi is not None and files.month_start_ns(month) >= hi) or \
                    (lo is not None and files.month_start_ns(month + 1) <= lo):
                continue
            whole = (lo is None or lo <= files.month_start_ns(month)) and \
                (hi is None or files.month_start_ns(month + 1) <= hi)
            plan.append((path, None if whole else filters))
        # Whole months know their row count from the footer; at most two edge months need
        # reading first. Then one array per column is allocated and filled month by month, so
        # peak memory is the result plus one month (not an Arrow copy of everything).
        edge = {p: self._read_partition(p, cols, f) for p, f in plan if f}
        sizes = [edge[p].num_rows if f else pq.read_metadata(p).num_rows for p, f in plan]
        total = sum(sizes)
        if not total:
            return empty_frame()[cols]
        dtypes = {c: np.float64 for c in ("open", "high", "low", "close")}
        if "volume" in cols and any(pq.read_schema(path).field("volume").type == pa.float64()
                                    for path, _f in plan):
            dtypes["volume"] = np.float64   # fractional crypto volume
        out = {c: np.empty(total, dtype=dtypes.get(c, np.int64)) for c in cols if c != "symbol"}
        codes = np.empty(total, dtype=np.int32) if "symbol" in cols else None
        categories: dict[str, int] = {}
        at = 0
        for (path, f), n in zip(plan, sizes, strict=True):
            t = edge.pop(path) if f else self._read_partition(path, cols, None)
            if t.num_rows != n:
                raise DataError(f"partition {path} changed while it was being read",
                                hint="do not write to the catalog while loading from it")
            for c in out:
                out[c][at:at + n] = t.column(c).to_numpy()
            if codes is not None:
                j = at
                for chunk in t.column("symbol").chunks:
                    remap = np.array([categories.setdefault(str(v), len(categories))
                                      for v in chunk.dictionary.to_pylist()] or [0],
                                     dtype=np.int32)
                    idx = chunk.indices.to_numpy(zero_copy_only=False)
                    codes[j:j + len(idx)] = remap[idx]
                    j += len(idx)
            at += n
            del t
        frame = {c: out[c] for c in cols if c != "symbol"}
        if codes is not None:
            frame["symbol"] = pd.Categorical.from_codes(codes, categories=list(categories))
        return pd.DataFrame(frame, copy=False)[cols]

    def bar_sizes(self, root: str) -> list[int]:
        """Bar sizes (seconds, ascending) the catalog holds for ``root`` (directories only)."""
        root = _check_root(root)
        out: list[int] = []
        if not self.root.is_dir():
            return out
        for bar_dir in self.root.iterdir():
            try:
                seconds = parse_bar_label(bar_dir.name)
            except ConfigError:
                continue
            if self._partitions(bar_dir / root):
                out.append(seconds)
        return sorted(out)

    def entries(self) -> list[CatalogEntry]:
        """Everything the catalog holds, sorted by root then bar size (footers only)."""
        out: list[CatalogEntry] = []
        if not self.root.is_dir():
            return out
        for bar_dir in self.root.iterdir():
            try:
                bar_seconds = parse_bar_label(bar_dir.name)
            except ConfigError:
                continue
            for entry_dir in bar_dir.iterdir() if bar_dir.is_dir() else ():
                parts = self._partitions(entry_dir)
                if not parts or entry_dir.name.startswith("."):
                    continue
                rows, first, last, size, contracts = 0, None, None, 0, set()
                for path in parts.values():
                    n, lo, hi = self._ts_range(path)
                    rows += n
                    first = lo if first is None else min(first, lo)
                    last = hi if last is None else max(last, hi)
                    size += path.stat().st_size
                    got = files.read_meta(path).get("contracts", [])
                    contracts.update(got if isinstance(got, list) else [])
                out.append(CatalogEntry(entry_dir.name, bar_seconds, rows, int(first or 0),
                                        int(last or 0), len(parts), size,
                                        tuple(sorted(contracts))))
        return sorted(out, key=lambda e: (e.root, e.bar_seconds))

    def remove(self, root: str, bar_seconds: int) -> None:
        """Delete one entry (moved aside first, so a crash never leaves half an entry).

        Raises:
            DataError: No such entry (the message lists what the catalog holds).
        """
        root = _check_root(root)
        entry = self._dir(root, bar_seconds)
        if not entry.is_dir():
            raise self._missing(root, bar_seconds)
        with self._locked(f"remove {root} {bar_label(bar_seconds)}"):
            self._remove_entry(entry, root)

    @staticmethod
    def _remove_entry(entry: Path, root: str) -> None:
        trash = Path(tempfile.mkdtemp(prefix=f".removing-{root}-", dir=entry.parent))
        os.replace(entry, trash / root)
        shutil.rmtree(trash)
        with contextlib.suppress(OSError):
            entry.parent.rmdir()  # drop the bar directory when it is now empty

