"""Feature benchmarks behind ``scalpdesk bench features``.

* batch: :func:`core.features.compute_features` over N synthetic RTH 1-second rows (users'
  file: 15.8 M RTH rows), in a fresh process so peak memory is the computation's own;
  wall time and CPU time (the machine may be shared: CPU time is the steadier figure).
* stream: per-bar latency of :meth:`core.features.FeatureStream.update` and of a LightGBM
  ``Booster.predict`` on that row (the live hot path), as percentiles over many bars.

Timings use ``time.perf_counter_ns``/``process_time`` (latency timers, not wall-clock time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.bench.data import BENCH_DIR
from core.bench.isolated import peak_rss_bytes, run_in_fresh_process


@dataclass(frozen=True)
class BatchRun:
    """One measured batch computation."""

    rows: int
    features: int
    load_s: float
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    output_bytes: int


@dataclass(frozen=True)
class StreamRun:
    """Per-bar latency percentiles in microseconds."""

    bars: int
    features: int
    update_p50_us: float
    update_p99_us: float
    update_max_us: float
    predict_p50_us: float
    predict_p99_us: float
    total_p50_us: float
    total_p99_us: float


def rth_file(rows: int, seed: int = 0) -> Path:
    """Cached synthetic RTH-only 1-second Parquet file of exactly ``rows`` rows."""
    from core.datasets import synth

    path = BENCH_DIR / f"synth_rth_1s_{rows}_seed{seed}.parquet"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        synth.write_parquet(synth.generate_rows(rows, seed, rth_only=True), path)
    return path


def _load(path: Path):  # noqa: ANN202 - DataFrame, imported lazily
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def measure_batch(path: Path, feature_set: str = "default") -> BatchRun:
    """compute_features over the whole file (this process)."""
    from core.features import compute_features

    t0 = time.perf_counter()
    frame = _load(path)
    t1, c1 = time.perf_counter(), time.process_time()
    X, names = compute_features(frame, feature_set)
    t2, c2 = time.perf_counter(), time.process_time()
    return BatchRun(rows=len(frame), features=len(names), load_s=t1 - t0, wall_s=t2 - t1,
                    cpu_s=c2 - c1, peak_rss_bytes=peak_rss_bytes(), output_bytes=int(X.nbytes))


def measure_stream(path: Path, bars: int = 20_000, feature_set: str = "default",
                   trees: int = 200) -> StreamRun:
    """Feed ``bars`` bars through FeatureStream (+ a LightGBM predict) timing each bar."""
    import lightgbm as lgb

    from core.features import FeatureStream, compute_features

    frame = _load(path)
    warm = 2_000
    frame = frame.iloc[: bars + warm]
    X, names = compute_features(frame.iloc[:warm], feature_set)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, len(X))
    booster = lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1,
                         "num_threads": 1, "num_leaves": 31}, lgb.Dataset(X, y),
                        num_boost_round=trees)
    fs = FeatureStream(feature_set)
    ts = frame["timestamp"].to_numpy().tolist()
    cols = [frame[k].to_numpy(dtype=np.float64).tolist()
            for k in ("open", "high", "low", "close", "volume")]
    o, h, lo, c, v = cols
    row2d = np.empty((1, len(names)), dtype=np.float64)
    up = np.empty(bars)
    pr = np.empty(bars)
    clock = time.perf_counter_ns
    for i in range(len(ts)):
        t0 = clock()
        row = fs.update(ts[i], o[i], h[i], lo[i], c[i], v[i])
        t1 = clock()
        if i >= warm:
            row2d[0] = row
            booster.predict(row2d, num_threads=1)
            t2 = clock()
            up[i - warm] = (t1 - t0) / 1e3
            pr[i - warm] = (t2 - t1) / 1e3
    tot = up + pr
    return StreamRun(bars=bars, features=len(names),
                     update_p50_us=float(np.percentile(up, 50)),
                     update_p99_us=float(np.percentile(up, 99)), update_max_us=float(up.max()),
                     predict_p50_us=float(np.percentile(pr, 50)),
                     predict_p99_us=float(np.percentile(pr, 99)),
                     total_p50_us=float(np.percentile(tot, 50)),
                     total_p99_us=float(np.percentile(tot, 99)))


def run_isolated(kind: str, path: Path, feature_set: str = "default") -> dict:
    """One measurement (``batch`` or ``stream``) in a fresh interpreter, as a dict."""
    return run_in_fresh_process("core.bench.features", f"measure_{kind}", path=str(path),
                                feature_set=feature_set)


__all__ = ["BatchRun", "StreamRun", "measure_batch", "measure_stream", "rth_file",
           "run_isolated"]
