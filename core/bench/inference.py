"""Measurements behind ``scalpdesk bench inference`` (latency per bar, one training fold).

Latency is the live path end to end: a model directory written by the training pipeline is
loaded into :class:`~core.ml.predictor.StreamingPredictor`, warmed up on history, then fed
bars one at a time — streaming features + model + calibration + Prediction — timed with
``time.perf_counter_ns`` per bar.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Progress = Callable[[float], None] | None

#: Small training settings: latency depends on the model's size, not on how well it learned.
BENCH_PARAMS: dict[str, dict[str, Any]] = {
    "lightgbm": {},  # the production defaults (early-stopped, up to 400 rounds)
    "ff": {"epochs": 1},
    "lstm": {"epochs": 1, "window": 32},
    "tcn": {"epochs": 1, "window": 32},
    "transformer": {"epochs": 1, "window": 100},  # requirements §6: last 100–500 bars
}


@dataclass
class LatencyRun:
    """Per-bar latency of one run (microseconds)."""

    kind: str
    bars: int
    p50_us: float
    p99_us: float
    max_us: float
    features_p50_us: float


def train_bench_model(kind: str, frame: Any, directory: Path, *, params: dict[str, Any] | None = None
                      ) -> Path:
    """Train ``kind`` with the real pipeline (1 fold + holdout) and save it under ``directory``."""
    from core.config import load_profile
    from core.training.pipeline import TrainRequest, train

    req = TrainRequest(profile=load_profile("demo"), model_kind=kind, folds=1,
                       model_params=params if params is not None else BENCH_PARAMS[kind])
    out = train(frame, 1, req, name=f"bench_{kind}", models_dir=directory)
    assert out.path is not None
    return out.path


def measure_latency(model_dir: Path, frame: Any, *, warm: int, bars: int) -> LatencyRun:
    """Warm a predictor up on ``frame[:warm]``, then time ``bars`` single-bar updates."""
    from core.features import FeatureStream
    from core.ml.predictor import StreamingPredictor

    pred = StreamingPredictor(model_dir)
    pred.warm_up(frame.iloc[:warm])
    cols = [frame[c].to_numpy() for c in ("timestamp", "open", "high", "low", "close", "volume")]
    ts, o, h, l, c, v = (x[warm: warm + bars] for x in cols)
    lat = np.empty(len(ts), dtype=np.int64)
    for i in range(len(ts)):
        t0 = time.perf_counter_ns()
        pred.update(int(ts[i]), float(o[i]), float(h[i]), float(l[i]), float(c[i]), float(v[i]))
        lat[i] = time.perf_counter_ns() - t0
    # Features alone, same bars, for the split of the cost.
    fs = FeatureStream(pred.bundle.config["feature_set"])
    fs.warm_up(frame.iloc[:warm])
    flat = np.empty(len(ts), dtype=np.int64)
    for i in range(len(ts)):
        t0 = time.perf_counter_ns()
        fs.update(int(ts[i]), float(o[i]), float(h[i]), float(l[i]), float(c[i]), float(v[i]))
        flat[i] = time.perf_counter_ns() - t0
    us = lat / 1e3
    return LatencyRun(kind=pred.bundle.config["kind"], bars=len(us),
                      p50_us=float(np.percentile(us, 50)), p99_us=float(np.percentile(us, 99)),
                      max_us=float(us.max()), features_p50_us=float(np.percentile(flat / 1e3, 50)))


def latency_bench(kinds: list[str], *, bars: int = 2000, runs: int = 3, days: int = 2,
                  progress: Progress = None) -> dict[str, list[LatencyRun]]:
    """Train each kind once on synthetic RTH bars, then measure ``runs`` times each."""
    from core.datasets.synth import generate

    frame = generate(days, seed=3, rth_only=True)
    warm = len(frame) - bars - 1
    if warm < 1000:
        raise ValueError(f"{days} days give too few bars for {bars} measured bars")
    out: dict[str, list[LatencyRun]] = {}
    with tempfile.TemporaryDirectory(prefix="scalpdesk-bench-") as tmp:
        for i, kind in enumerate(kinds):
            path = train_bench_model(kind, frame.iloc[:warm], Path(tmp))
            out[kind] = [measure_latency(path, frame, warm=warm, bars=bars) for _ in range(runs)]
            if progress:
                progress((i + 1) / len(kinds))
    return out


@dataclass
class FoldRun:
    """One LightGBM walk-forward fold on a month of 1-second bars."""

    rows: int
    features: int
    train_rows: int
    features_s: float
    labels_s: float
    fold_s: float
    threads: int
    best_iteration: int


def fold_bench(*, days: int = 21, threads: int = 2, seed: int = 5, frame: Any = None) -> FoldRun:
    """Time features + labels and one LightGBM fold (80 % train, 10 % val, 10 % test).

    The fold's time includes backtesting its test period under the demo profile.
    """
    from core.config import load_profile
    from core.datasets.synth import generate
    from core.features import compute_features
    from core.labels import LabelSpec, make_labels
    from core.training.dataset import build_dataset, purge_ns
    from core.training.runner import TrainSpec, run_fold
    from core.training.splits import make_folds

    if frame is None:
        frame = generate(days, seed=seed, rth_only=True)
    label = LabelSpec(kind="direction", lookahead_seconds=30, threshold_ticks=3, session="rth")
    t0 = time.perf_counter()
    compute_features(frame, "default")
    t1 = time.perf_counter()
    make_labels(frame, label, 0.25)
    t2 = time.perf_counter()
    data = build_dataset(frame, label=label, tick_size=0.25, bar_seconds=1)
    ts = data.ts
    n = len(ts)
    b = [int(ts[0]), int(ts[int(n * 0.8)]), int(ts[int(n * 0.9)]), int(ts[-1]) + 1]
    fold = make_folds(ts, [tuple(b)], None, purge_ns=purge_ns(label, 1), embargo_ns=0)[0]
    prof = load_profile("demo")
    spec = TrainSpec(model_kind="lightgbm", num_threads=threads, profile=prof)
    t3 = time.perf_counter()
    res = run_fold(fold, data, spec)
    t4 = time.perf_counter()
    return FoldRun(rows=n, features=data.X.shape[1], train_rows=res.rows["train"],
                   features_s=t1 - t0, labels_s=t2 - t1, fold_s=t4 - t3, threads=threads,
                   best_iteration=res.fit.best_iteration)
