"""Where training bars come from: a file/directory, the catalog, or the synthetic generator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError

Progress = Callable[[float], None] | None


def load_bars(data: str | Path, *, bar: str | None = None, symbol: str | None = None,
              catalog: str | Path | None = None, progress: Progress = None,
              model_bar: int | None = None, model_name: str | None = None
              ) -> tuple[pd.DataFrame, int, str]:
    """Bars of one instrument and bar size, sorted by time.

    Args:
        data: A bar file or directory (read with ``core.datasets.readers.read_bars``), or a
            catalog root symbol such as ``MES``.
        bar: Bar size label (``1s``, ``1m``...). For catalog data, default: the only size the
            catalog holds for the symbol, else ``model_bar``; for files it must match the file.
        symbol: Pick this root when the files hold several instruments.
        catalog: Catalog directory (default: the project's).
        progress: Fraction-done callback.
        model_bar: Bar size of the saved model the bars are for (``--update``), if any.
        model_name: That model's name, for messages.

    Returns:
        ``(frame, bar_seconds, description)``.

    Raises:
        DataError: Nothing readable, several instruments or bar sizes without a choice,
            or overlapping files.
        ConfigError: ``bar`` is not a bar size or disagrees with the file or the model.
        FileNotFoundError: ``data`` looks like a file path but does not exist.
    """
    from core.datasets.bars import check_file_bar, choose_bar, looks_like_path

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
        check_file_bar(int(results[0].bar_seconds), bar, source=str(path), model_bar=model_bar,
                       model_name=model_name)
        return frame, int(results[0].bar_seconds), desc
    if looks_like_path(str(data)):
        # "missing.parquet" is a file that is not there, not a catalog symbol.
        raise FileNotFoundError(2, "no such file or directory", str(data))
    from core.datasets.bars import bar_name
    from core.datasets.catalog import Catalog
    cat = Catalog(catalog)
    root = str(data).upper()
    seconds = choose_bar(cat.bar_sizes(root), bar, root=root, where=str(cat.root),
                         model_bar=model_bar, model_name=model_name)
    frame = cat.load(root, seconds)
    return frame, seconds, f"catalog {cat.root} {root} {bar_name(seconds)}"


def synthetic_bars(days: int, *, seed: int = 0, planted: bool = False, rth_only: bool = True,
                   progress: Progress = None) -> tuple[pd.DataFrame, int, str]:
    """``days`` trading days of synthetic MES 1-second bars (``core.datasets.synth``)."""
    from core.datasets.synth import generate
    frame = generate(days, seed=seed, planted=planted, rth_only=rth_only)
    kind = "planted pattern" if planted else "pure noise"
    return frame, 1, f"synthetic {days} days ({kind}, seed {seed}{', RTH only' if rth_only else ''})"
