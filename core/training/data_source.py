"""Where training bars come from: a file/directory, the catalog, or the synthetic generator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError

Progress = Callable[[float], None] | None


def load_bars(data: str | Path, *, bar: str | None = None, symbol: str | None = None,
              catalog: str | Path | None = None, progress: Progress = None
              ) -> tuple[pd.DataFrame, int, str]:
    """Bars of one instrument and bar size, sorted by time.

    Args:
        data: A bar file or directory (read with ``core.datasets.readers.read_bars``), or a
            catalog root symbol such as ``MES`` (then ``bar`` picks the size, default 1s).
        bar: Bar size label for catalog data (``1s``, ``1m``...).
        symbol: Pick this root when the files hold several instruments.
        catalog: Catalog directory (default: the project's).
        progress: Fraction-done callback.

    Returns:
        ``(frame, bar_seconds, description)``.

    Raises:
        DataError: Nothing readable, several instruments or bar sizes without a choice,
            or overlapping files.
    """
    path = Path(data)
    if path.exists():
        from core.datasets.readers import read_bars
        results = read_bars(path, progress=progress)
        if symbol:
            results = [r for r in results if r.root.upper() == symbol.upper()]
            if not results:
                raise DataError(f"{path}: no bars of {symbol.upper()}",
                                hint="check --symbol (or drop it to use what the files hold)")
        roots = sorted({(r.root, r.bar_seconds) for r in results})
        if not results:
            raise DataError(f"{path}: no bar files found", hint="point --data at .parquet/.csv files")
        if len(roots) > 1:
            listed = ", ".join(f"{r} {s}s" for r, s in roots)
            raise DataError(f"{path}: holds several instruments/bar sizes ({listed})",
                            hint="pick one with --symbol ROOT, or point --data at one file")
        frames = [r.frame for r in results]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        if len(frames) > 1:
            frame = frame.sort_values("timestamp", kind="stable", ignore_index=True)
            ts = frame["timestamp"].to_numpy()
            dup = np.flatnonzero(np.diff(ts) == 0)
            if len(dup):
                when = pd.Timestamp(int(ts[dup[0]]), tz="UTC")
                raise DataError(f"{path}: files overlap in time (first duplicate bar {when})",
                                hint="train on one file, or import them into the catalog, "
                                     "which de-duplicates")
            frame["symbol"] = frame["symbol"].astype("category")
        desc = f"{path} ({len(results)} file{'s' if len(results) > 1 else ''})"
        return frame, int(results[0].bar_seconds), desc
    from core.datasets.catalog import Catalog, parse_bar_label
    seconds = parse_bar_label(bar or "1s")
    cat = Catalog(catalog)
    if str(data).upper() != str(data) and "/" in str(data):
        raise DataError(f"{data}: no such file or directory",
                        hint="give a bar file/directory, or a catalog symbol such as MES")
    frame = cat.load(str(data).upper(), seconds)
    return frame, seconds, f"catalog {cat.root} {str(data).upper()} {bar or '1s'}"


def synthetic_bars(days: int, *, seed: int = 0, planted: bool = False, rth_only: bool = True,
                   progress: Progress = None) -> tuple[pd.DataFrame, int, str]:
    """``days`` trading days of synthetic MES 1-second bars (``core.datasets.synth``)."""
    from core.datasets.synth import generate
    frame = generate(days, seed=seed, planted=planted, rth_only=rth_only)
    kind = "planted pattern" if planted else "pure noise"
    return frame, 1, f"synthetic {days} days ({kind}, seed {seed}{', RTH only' if rth_only else ''})"
