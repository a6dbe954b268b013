"""Sweeps on Dask: a scheduler and two workers started as separate processes on loopback.

* the same seed gives the same trials locally and on the cluster (random, Optuna, retrain);
* a worker killed mid-sweep: its trials are rescheduled on the other one and the results
  are those of an undisturbed local run;
* every worker killed: the sweep stops with a consistent ledger, and ``resume`` finishes it
  (in this process) with, again, the undisturbed results.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")
pytest.importorskip("optuna")

from core.config import load_profile  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.sweep.context import SweepSettings  # noqa: E402
from core.sweep.session import SweepRequest, run_sweep  # noqa: E402
from core.sweep.space import parse_space  # noqa: E402
from tests.integration.test_training_dask import ROOT, _wait_for  # noqa: E402
from tests.unit.sweep_fixtures import noise_bars  # noqa: E402

SPACE = parse_space({"params": {"strategy.stop_ticks": {"low": 4, "high": 16, "step": 2},
                                "strategy.target_ticks": {"values": [6, 8, 12, 16]},
                                "signal.fast": {"low": 3, "high": 12},
                                "signal.slow": {"values": [20, 40, 80]}}}, source="space")


def _start_cluster(tmp: Path, workers: int = 2) -> tuple[str, list[subprocess.Popen]]:
    """`dask scheduler` + ``workers`` × `dask worker` (no nanny: a killed worker stays dead)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs: list[subprocess.Popen] = []
    tmp.mkdir(parents=True, exist_ok=True)
    slog = tmp / "scheduler.log"
    with open(slog, "w") as fh:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--dashboard-address", ":0", "--no-show"],
            stdout=fh, stderr=subprocess.STDOUT, cwd=tmp, env=env))
    address = _wait_for(procs[0], r"Scheduler at:\s+(tcp://[\d.]+:\d+)", slog)
    for i in range(workers):
        wlog = tmp / f"worker{i}.log"
        with open(wlog, "w") as fh:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--nworkers", "1", "--no-nanny", "--host", "127.0.0.1",
                 "--dashboard-address", ":0", "--name", f"w{i}"],
                stdout=fh, stderr=subprocess.STDOUT, cwd=tmp, env=env))
        _wait_for(procs[-1], r"(Registered to)", wlog)
    return address, procs


def _stop(procs: list[subprocess.Popen]) -> None:
    # Killed outright: a graceful worker shutdown waits on the scheduler for seconds, and
    # nothing of theirs needs saving.
    for p in procs[::-1]:
        if p.poll() is None:
            p.kill()
    for p in procs[::-1]:
        p.wait(timeout=15)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    address, procs = _start_cluster(tmp_path_factory.mktemp("dask_sweep"))
    try:
        yield address
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return noise_bars(8_000, seed=3)


def _req(bars: pd.DataFrame, out: Path, *, method: str = "random", trials: int = 12,
         source: str = "sma-cross", space: object = SPACE, **kw: object) -> SweepRequest:
    st = SweepSettings(method=method, trials=trials, folds=4, seed=11, min_trades=5,
                       source=source)
    return SweepRequest(bars=bars, bar_seconds=60, profile=load_profile("demo"), space=space,
                        settings=st, out=out, ledger=out.parent / f"{out.name}.jsonl", **kw)


def _same(a: object, b: object) -> None:
    """Same trials, same numbers (``seconds`` is wall time and may differ)."""
    cols = [c for c in a.analysis.frame.columns if c != "seconds"]
    pd.testing.assert_frame_equal(a.analysis.frame[cols], b.analysis.frame[cols])
    assert [t.metrics for t in a.analysis.tests] == [t.metrics for t in b.analysis.tests]
    assert a.analysis.pbo.pbo == b.analysis.pbo.pbo


@pytest.mark.parametrize("method", ["random", "optuna"])
def test_cluster_gives_the_local_results(cluster: str, bars: pd.DataFrame, tmp_path: Path,
                                         method: str) -> None:
    local = run_sweep(_req(bars, tmp_path / "local", method=method, workers=0, batch=4))
    remote = run_sweep(_req(bars, tmp_path / "remote", method=method, cluster=cluster, batch=4))
    assert remote.workers == 2 and remote.pool == cluster
    assert len(remote.results) == 12 and not remote.errors
    _same(local, remote)
    if method == "optuna":
        assert (tmp_path / "remote" / "study.db").exists()  # Optuna's RDB storage (SQLite)
        manifest = json.loads((tmp_path / "remote" / "manifest.json").read_text())
        assert manifest["storage"].startswith("sqlite:///")


def test_retrain_on_the_cluster_gives_the_local_results(cluster: str, bars: pd.DataFrame,
                                                        tmp_path: Path) -> None:
    space = parse_space({"params": {"model.num_leaves": {"values": [4, 8]},
                                    "model.num_boost_round": {"values": [20]},
                                    "risk.min_confidence": {"values": [0.34]}}})
    kw = dict(method="grid", trials=2, source="retrain", space=space)
    local = run_sweep(_req(bars, tmp_path / "local", workers=0, **kw))
    remote = run_sweep(_req(bars, tmp_path / "remote", cluster=cluster, **kw))
    assert len(remote.results) == 2 and all(r.status == "ok" for r in remote.results)
    _same(local, remote)


def test_unreachable_scheduler_is_a_clear_error(bars: pd.DataFrame) -> None:
    from core.sweep.context import build_context
    from core.sweep.runner import DaskPool

    ctx = build_context(bars, 60, load_profile("demo"), SweepSettings(folds=2))
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        DaskPool(ctx, cluster="tcp://127.0.0.1:9", timeout="0.5s")


def test_killed_workers_trials_run_elsewhere_then_resume(bars: pd.DataFrame,
                                                        tmp_path: Path) -> None:
    address, procs = _start_cluster(tmp_path / "cl")
    scheduler, w0, w1 = procs
    try:
        reference = run_sweep(_req(bars, tmp_path / "ref", trials=24, workers=0))

        killed = []

        def kill_one(p: object) -> None:
            if p.done >= 6 and not killed:  # mid-sweep, with trials in flight on both
                os.kill(w1.pid, signal.SIGKILL)
                killed.append(w1.pid)

        out = run_sweep(_req(bars, tmp_path / "one", trials=24, cluster=address),
                        progress=kill_one)
        assert killed and w1.wait(timeout=10) == -signal.SIGKILL
        assert not out.cancelled and not out.errors and len(out.results) == 24
        _same(reference, out)

        # Now lose the last worker too: nothing can run; the user stops the sweep.
        state = {"killed": False}

        def kill_last(p: object) -> None:
            if p.done >= 8 and not state["killed"]:
                os.kill(w0.pid, signal.SIGKILL)
                state["killed"] = True

        part = run_sweep(_req(bars, tmp_path / "two", trials=24, cluster=address),
                         progress=kill_last, should_stop=lambda: state["killed"])
        assert part.cancelled and 8 <= len(part.results) < 24
        lines = (tmp_path / "two" / "trials.jsonl").read_text().splitlines()
        numbers = [json.loads(line)["number"] for line in lines]  # every line whole
        assert len(numbers) == len(set(numbers)) == len(part.results)

        done = run_sweep(_req(bars, tmp_path / "two", trials=24, workers=0, resume=True))
        assert len(done.results) == 24
        _same(reference, done)
    finally:
        _stop(procs)


def test_a_lost_context_is_scattered_again_and_its_trials_resubmitted(cluster: str,
                                                                      bars: pd.DataFrame) -> None:
    """CI found: a worker killed mid-sweep took the only replica of the broadcast context
    (the scheduler's memory manager drops "extra" replicas), so every in-flight trial came
    back as FutureCancelledError "already forgotten" and the sweep stopped with "6 trials in
    a row failed". Losing the context is now repaired: scattered again, trials resubmitted."""
    from core.sweep.context import build_context
    from core.sweep.runner import DaskPool, LocalPool
    from core.sweep.search import planned_points

    st = SweepSettings(method="random", trials=16, folds=2, seed=11, min_trades=5)
    ctx = build_context(bars, 60, load_profile("demo"), st)
    tasks = list(enumerate(planned_points(SPACE, st)))
    want: dict[int, object] = {}
    LocalPool(ctx).run(tasks, lambda r: want.__setitem__(r.number, r.metrics), lambda: False)

    pool = DaskPool(ctx, cluster=cluster)
    got: dict[int, object] = {}
    errors: list[object] = []
    lost = []

    def on_result(res: object) -> None:
        if res.status == "error":
            errors.append(res)
            return
        got[res.number] = res.metrics
        if not lost:   # the context vanishes from the cluster with trials in flight
            pool.client.cancel(pool._ctx, force=True)
            lost.append(True)

    try:
        assert pool.run(tasks, on_result, lambda: False)
    finally:
        pool.close()
    assert lost and not errors
    assert got == want
