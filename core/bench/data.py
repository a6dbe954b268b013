"""Data-layer benchmarks behind ``scalpdesk bench data``.

Each measured run happens in a fresh subprocess so that its peak memory (``ru_maxrss``) is
the pipeline's own and not the generator's or an earlier run's. Timings use
``time.perf_counter`` (a latency timer, not wall-clock time).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.bench.isolated import peak_rss_bytes, run_in_fresh_process

#: Where generated benchmark inputs are cached between runs (reused when present).
BENCH_DIR = Path(os.environ.get("SCALPDESK_BENCH_DIR", ".bench"))


@dataclass(frozen=True)
class DataRun:
    """One measured run of the 1-second pipeline (seconds; bytes)."""

    rows: int
    load_s: float
    validate_s: float
    rth_filter_s: float
    rth_rows: int
    resample_1m_s: float
    minute_rows: int
    peak_rss_bytes: int

    @property
    def load_validate_rth_s(self) -> float:
        """The issue's first figure: load + validate + RTH filter."""
        return self.load_s + self.validate_s + self.rth_filter_s


@dataclass(frozen=True)
class CsvRun:
    """One measured import of a 1-minute CSV."""

    lines: int
    import_s: float
    validate_s: float
    peak_rss_bytes: int


def synth_file(rows: int, seed: int = 0, progress: Callable[[float], None] | None = None) -> Path:
    """Return a cached synthetic 1-second Parquet file of about ``rows`` rows (generate if missing)."""
    from core.datasets import synth

    path = BENCH_DIR / f"synth_1s_{rows}_seed{seed}.parquet"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        frame = synth.generate_rows(rows, seed, progress=progress)
        synth.write_parquet(frame, path)
    return path


def csv_file(lines: int, seed: int = 0) -> Path:
    """Return a cached 1-minute CSV (naive US/Eastern stamps) of ``lines`` data lines.

    Every minute of every Globex session from 2019-05-01 onwards is filled with a random walk
    on the 0.25 tick grid until ``lines`` rows exist (2.33 M lines ≈ 6.5 years, like the users'
    file).
    """
    import pandas as pd

    from core import calendar

    path = BENCH_DIR / f"minute_{lines}_seed{seed}.csv"
    if path.exists():
        return path
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    years = max(1, int(lines / 350_000) + 2)
    sess = calendar.sessions("2019-05-01", f"{2019 + years}-12-31")
    starts = sess["open_ns"].to_numpy(np.int64)
    counts = ((sess["close_ns"].to_numpy(np.int64) - starts) // 60_000_000_000).astype(np.int64)
    ends = np.cumsum(counts)
    keep = int(np.searchsorted(ends, lines) + 1)
    starts, counts = starts[:keep], counts[:keep]
    offs = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    ts = (np.repeat(starts, counts) + offs * 60_000_000_000)[:lines]
    rng = np.random.default_rng(seed)
    steps = rng.integers(-2, 3, size=lines)
    close = 2900.0 + np.cumsum(steps) * 0.25
    close = np.maximum(close, 100.0)
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) + rng.integers(0, 3, size=lines) * 0.25
    low = np.minimum(open_, close) - rng.integers(0, 3, size=lines) * 0.25
    vol = rng.integers(1, 500, size=lines)
    local = pd.to_datetime(ts, utc=True).tz_convert("America/New_York").tz_localize(None)
    df = pd.DataFrame({"timestamp": local.strftime("%Y-%m-%d %H:%M:%S"), "open": open_,
                       "high": high, "low": low, "close": close, "volume": vol})
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False, float_format="%.2f")
    os.replace(tmp, path)
    return path


def measure_pipeline(path: Path) -> DataRun:
    """Load → validate → RTH filter → resample to 1 minute, timing each step (this process)."""
    path = Path(path)
    from core.datasets.frames import rth_rows
    from core.datasets.readers import read_bars
    from core.datasets.resample import resample
    from core.datasets.validate import validate

    t0 = time.perf_counter()
    result = read_bars(path)[0]
    t1 = time.perf_counter()
    report = validate(result.frame, source=str(path), bar_seconds=result.bar_seconds,
                      check_gaps=True)
    report.raise_if_errors()
    t2 = time.perf_counter()
    rth = rth_rows(result.frame)  # column-wise: no int64 indexer, no block temporaries
    t3 = time.perf_counter()
    minute = resample(result.frame, 60, source_seconds=1)
    t4 = time.perf_counter()
    return DataRun(rows=len(result.frame), load_s=t1 - t0, validate_s=t2 - t1,
                   rth_filter_s=t3 - t2, rth_rows=len(rth), resample_1m_s=t4 - t3,
                   minute_rows=len(minute), peak_rss_bytes=peak_rss_bytes())


def measure_csv(path: Path) -> CsvRun:
    """Import (read + validate) a 1-minute CSV, timing each step (this process)."""
    path = Path(path)
    from core.datasets.readers import read_bars
    from core.datasets.validate import validate

    t0 = time.perf_counter()
    result = read_bars(path, symbol="MES")[0]
    t1 = time.perf_counter()
    validate(result.frame, source=str(path), bar_seconds=result.bar_seconds).raise_if_errors()
    t2 = time.perf_counter()
    return CsvRun(lines=len(result.frame), import_s=t1 - t0, validate_s=t2 - t1,
                  peak_rss_bytes=peak_rss_bytes())


def run_isolated(kind: str, path: Path) -> dict:
    """Run ``measure_<kind>`` on ``path`` in a fresh interpreter; its fields as a dict."""
    return run_in_fresh_process("core.bench.data", f"measure_{kind}", path=str(path))


def median_of(runs: list[dict]) -> dict:
    """Field-wise median of several runs (ints stay ints)."""
    keys = runs[0].keys()
    out = {}
    for k in keys:
        vals = [r[k] for r in runs]
        med = statistics.median(vals)
        out[k] = int(med) if isinstance(vals[0], int) else med
    return out


__all__ = ["BENCH_DIR", "CsvRun", "DataRun", "csv_file", "measure_csv",
           "measure_pipeline", "median_of", "run_isolated", "synth_file"]
