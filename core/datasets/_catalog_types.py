"""Value types returned by :class:`core.datasets.catalog.Catalog` (re-exported there)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import pandas as pd

from core.datasets._catalog_files import bar_label

Values = tuple[float, float, float, float, int, str]


def _utc(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What the catalog holds for one (root, bar size)."""

    root: str
    bar_seconds: int
    rows: int
    first_ns: int
    last_ns: int
    partitions: int
    bytes: int
    contracts: tuple[str, ...]

    @property
    def bar(self) -> str:
        """The bar label (``1s``, ``1m`` …)."""
        return bar_label(self.bar_seconds)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A bar whose timestamp was already stored with different values.

    Values are ``(open, high, low, close, volume, symbol)``.
    """

    ts_ns: int
    existing: Values
    new: Values

    def __str__(self) -> str:
        return f"{_utc(self.ts_ns)}: stored {self.existing}, new {self.new}"


class Conflicts(Sequence[Conflict]):
    """Every conflicting row of an append, stored as arrays (a re-import of another vendor's
    year of 1-second bars may conflict on millions of rows) and turned into
    :class:`Conflict` objects only when indexed.

    ``len()`` is the number of conflicts; ``conflicts[:3]`` gives the first examples.
    """

    __slots__ = ("_ts", "_old", "_new", "_old_sym", "_new_sym")

    def __init__(self, ts: np.ndarray | None = None, old: np.ndarray | None = None,
                 new: np.ndarray | None = None, old_sym: np.ndarray | None = None,
                 new_sym: np.ndarray | None = None) -> None:
        self._ts = np.empty(0, np.int64) if ts is None else ts
        self._old = np.empty((0, 5)) if old is None else old
        self._new = np.empty((0, 5)) if new is None else new
        self._old_sym = np.empty(0, object) if old_sym is None else old_sym
        self._new_sym = np.empty(0, object) if new_sym is None else new_sym

    @staticmethod
    def concat(parts: Sequence[Conflicts]) -> Conflicts:
        """Join the conflicts of several partitions (in order)."""
        if not parts:
            return Conflicts()
        return Conflicts(*(np.concatenate([getattr(p, a) for p in parts])
                           for a in Conflicts.__slots__))

    def __len__(self) -> int:
        return int(self._ts.size)

    def _one(self, i: int) -> Conflict:
        o, n = self._old[i], self._new[i]
        return Conflict(int(self._ts[i]),
                        (float(o[0]), float(o[1]), float(o[2]), float(o[3]), int(o[4]),
                         str(self._old_sym[i])),
                        (float(n[0]), float(n[1]), float(n[2]), float(n[3]), int(n[4]),
                         str(self._new_sym[i])))

    @overload
    def __getitem__(self, i: int) -> Conflict: ...
    @overload
    def __getitem__(self, i: slice) -> list[Conflict]: ...
    def __getitem__(self, i: int | slice) -> Conflict | list[Conflict]:
        if isinstance(i, slice):
            return [self._one(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._one(i % len(self))

    def __iter__(self) -> Iterator[Conflict]:
        return (self._one(j) for j in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Conflicts) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(str(c) for c in self[:3])
        more = f", … {len(self) - 3:,} more" if len(self) > 3 else ""
        return f"Conflicts({len(self):,}: [{head}{more}])"


@dataclass(frozen=True, slots=True)
class AppendReport:
    """What :meth:`Catalog.append` did.

    Attributes:
        root: Instrument root of the entry.
        bar_seconds: Bar size of the entry.
        rows_in: Rows in the frame given.
        rows_added: Rows new to the catalog.
        duplicates_skipped: Rows already stored with identical values (or repeated in the input).
        conflicts: Rows whose timestamp was stored with different values (``len()`` counts
            them, ``conflicts[:3]`` are the first examples).
        overwritten: Conflicting rows replaced (only with ``overwrite=True``; else 0).
        gaps: ``(from_ns, to_ns)`` holes in trading hours between stored and new data — bars
            in ``[from_ns, to_ns)`` are missing and worth backfilling.
        partitions_written: How many month partitions were rewritten.
        months_written: ``YYYY-MM`` of each rewritten partition.
    """

    root: str
    bar_seconds: int
    rows_in: int
    rows_added: int
    duplicates_skipped: int
    conflicts: Conflicts
    overwritten: int
    gaps: tuple[tuple[int, int], ...]
    partitions_written: int
    months_written: tuple[str, ...]

    def summary(self) -> str:
        """A few human-readable lines (used by the CLI)."""
        lines = [f"{self.root} {bar_label(self.bar_seconds)}: {self.rows_in:,} rows in, "
                 f"{self.rows_added:,} added, {self.duplicates_skipped:,} duplicates skipped, "
                 f"{len(self.conflicts):,} conflicts"
                 + (f" ({self.overwritten:,} overwritten)" if self.overwritten else
                    (" (stored values kept)" if len(self.conflicts) else ""))
                 + f"; {self.partitions_written} partition(s) written"]
        lines += [f"  conflict at {c}" for c in self.conflicts[:3]]
        lines += [f"  gap to backfill: {_utc(a)} → {_utc(b)}" for a, b in self.gaps]
        return "\n".join(lines)
