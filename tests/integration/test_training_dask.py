"""Folds on Dask: a scheduler and two workers started as separate processes on loopback
give exactly the numbers of a local run (seeded, fixed thread count)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from core.config import load_profile  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.training.runner import TrainSpec, run_folds  # noqa: E402
from core.training.dataset import Dataset  # noqa: E402
from core.training.splits import walk_forward_auto  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
S = 1_000_000_000


def _wait_for(proc: subprocess.Popen, pattern: str, log: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        m = re.search(pattern, text)
        if m:
            return m.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early:\n{text}")
        time.sleep(0.2)
    raise TimeoutError(f"no {pattern!r} in {log}:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`dask scheduler` + 2 `dask worker` processes on 127.0.0.1 (killed in the finalizer)."""
    tmp = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs: list[subprocess.Popen] = []
    try:
        slog = tmp / "scheduler.log"
        with open(slog, "w") as fh:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                 "--port", "0", "--dashboard-address", ":0", "--no-show"],
                stdout=fh, stderr=subprocess.STDOUT, cwd=tmp, env=env))
        address = _wait_for(procs[0], r"Scheduler at:\s+(tcp://[\d.]+:\d+)", slog)
        for i in range(2):
            wlog = tmp / f"worker{i}.log"
            with open(wlog, "w") as fh:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address,
                     "--nthreads", "1", "--nworkers", "1", "--no-nanny", "--host", "127.0.0.1",
                     "--dashboard-address", ":0", "--name", f"w{i}"],
                    stdout=fh, stderr=subprocess.STDOUT, cwd=tmp, env=env))
            _wait_for(procs[-1], r"(Registered to)", wlog)
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs[::-1]:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def _dataset(n: int = 6000, seed: int = 0) -> Dataset:
    """A small learnable dataset (no features/labels machinery needed for this test)."""
    rng = np.random.default_rng(seed)
    # 1-s bars from 10:00 ET on a Tuesday: inside the profile's trading hours.
    start = pd.Timestamp("2024-03-12 14:00", tz="UTC").value
    ts = start + np.arange(n, dtype=np.int64) * S
    close = 4800 + np.cumsum(rng.choice([-0.25, 0.0, 0.25], size=n))
    X = rng.normal(size=(n, 5)).astype(np.float32)
    z = X[:, 0] + rng.normal(size=n)
    y = np.where(z > 0.7, 1, np.where(z < -0.7, -1, 0)).astype(np.int64)
    bars = {"ts": ts, "open": close, "high": close + 0.25, "low": close - 0.25, "close": close,
            "volume": np.full(n, 10.0)}
    return Dataset(X=X, y=y, valid=np.ones(n, dtype=bool), ts=ts, bars=bars,
                   move_ticks=rng.normal(size=n), feature_names=[f"f{i}" for i in range(5)],
                   bar_seconds=1)


def _spec() -> TrainSpec:
    return TrainSpec(model_kind="lightgbm", model_params={"num_boost_round": 40}, seed=3,
                     min_confidence=0.4, profile=load_profile("demo"))


def _numbers(results: list) -> list[tuple]:
    return [(r.number, r.is_holdout, r.metrics.log_loss, r.metrics.auc, r.metrics.confusion,
             r.trading.trades, r.trading.net_pnl, str(r.trading.baseline_expectancy),  # NaN-safe
             r.trading.denials, r.fit.best_iteration) for r in results]


def test_dask_cluster_gives_identical_results(scheduler: str) -> None:
    data = _dataset()
    folds = walk_forward_auto(data.ts, 3, purge_ns=10 * S)
    local = run_folds(folds, data, _spec())
    remote = run_folds(folds, data, _spec(), cluster=scheduler)
    assert _numbers(local) == _numbers(remote)
    assert sum(r.trading.trades for r in local) > 0  # the backtester traded on the workers too
    assert remote[-1].is_holdout and remote[-1].model is not None  # the model to save
    p_local = local[-1].model.predict_proba(data.X[:50])
    np.testing.assert_array_equal(remote[-1].model.predict_proba(data.X[:50]), p_local)


def test_unreachable_scheduler_is_a_clear_error() -> None:
    data = _dataset(2000)
    folds = walk_forward_auto(data.ts, 1, purge_ns=S)
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        run_folds(folds, data, _spec(), cluster="tcp://127.0.0.1:9")
