"""Measurements behind ``scalpdesk bench sweep``: trials per second, per-trial overhead, and
the issue's workload (200 trials × 6 folds on a month of 1-minute data).

The workload: 21 trading days of synthetic MES 1-second bars over whole Globex sessions
(``core.datasets.synth``), resampled to 1-minute bars (~28,700 bars; cached under
``.bench/``); the shipped example space ``profiles/sweeps/sweep_example.toml`` (SMA-cross
speeds, stop, target, time stop, max risk per trade), seeded random search, 6 validation
folds plus a held-out test, under :func:`sweep_profile` (the $1k rules with every risk rule
on but the account-ending limits out of reach, so the account trades the whole month). With ``retrain`` each trial refits a LightGBM model on each fold with
swept hyperparameters instead (the heavy case).

Figures per run:

* ``total_s`` — ``run_sweep`` end to end: cluster start, trials, the held-out test,
  analysis, Parquet and the HTML report;
* ``trials_s`` — from the first trial submitted to the last result (what trials/s uses);
* ``compute_ms`` — mean time inside a trial (the backtests themselves, measured in the trial);
* ``overhead_ms`` — per trial, ``trials_s × workers / trials − compute``: scheduling,
  serialisation, the ledger write, Optuna/plan bookkeeping and idle workers at the end.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.bench.backtest import BENCH_DIR

RETRAIN_SPACE = {
    "model.num_leaves": {"low": 8, "high": 64, "step": 8},
    "model.learning_rate": {"low": 0.02, "high": 0.2, "log": True},
    "model.min_data_in_leaf": {"values": [100, 200, 400]},
    "model.num_boost_round": {"values": [100]},
    "risk.min_confidence": {"low": 0.4, "high": 0.6, "step": 0.05},
    "strategy.stop_ticks": {"low": 6, "high": 12, "step": 2},
}


def sweep_profile() -> Any:
    """The $1k rules, every risk rule on, the account-ending limits out of reach.

    Like :func:`core.bench.backtest.bench_profile`, but within the profile loader's rules
    (every trial's profile is re-checked by the loader): the drawdown stop and the kill
    switch equal the (huge) starting balance instead of exceeding it.
    """
    from dataclasses import replace

    from core.config import load_profile

    p = load_profile("account_1k")
    return replace(p, risk=replace(p.risk, starting_balance=1e9, account_drawdown_stop=1e9,
                                   kill_switch_loss=1e9))


def month_of_bars(days: int = 21, seed: int = 0) -> Any:
    """A month of synthetic 1-minute MES bars (cached Parquet; generated on first use)."""
    import pandas as pd

    path = BENCH_DIR / f"sweep_1m_{days}d_seed{seed}.parquet"
    if not path.exists():
        from core.datasets.resample import resample
        from core.datasets.synth import generate

        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        frame = resample(generate(days, seed=seed), 60)
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)
    return pd.read_parquet(path)


@dataclass(frozen=True)
class SweepRun:
    """One measured sweep."""

    workers: int  #: 0 = in this process
    trials: int
    folds: int
    total_s: float
    trials_s: float
    compute_ms: float
    errors: int

    @property
    def trials_per_s(self) -> float:
        """Trials finished per second of the trial phase."""
        return self.trials / self.trials_s if self.trials_s > 0 else float("nan")

    @property
    def overhead_ms(self) -> float:
        """Per trial: wall time × workers not spent inside a trial."""
        return max(1, self.workers) * self.trials_s / self.trials * 1e3 - self.compute_ms


def run_once(bars: Any, *, workers: int, trials: int = 200, folds: int = 6,
             retrain: bool = False, seed: int = 7) -> SweepRun:
    """One sweep of the benchmark workload in a temporary directory (nothing kept)."""
    from core.sweep.context import SweepSettings
    from core.sweep.session import SweepRequest, run_sweep
    from core.sweep.space import load_space, parse_space

    space = parse_space({"params": RETRAIN_SPACE}, source="bench retrain space") if retrain \
        else load_space("sweep_example")
    st = SweepSettings(method="random", trials=trials, folds=folds, seed=seed,
                       source="retrain" if retrain else "sma-cross",
                       min_trades=30)
    marks: dict[str, float] = {}

    def progress(p: Any) -> None:
        now = time.perf_counter()
        if p.phase == "trials":
            marks.setdefault("first", now)
            if p.done >= p.total:
                marks.setdefault("last", now)

    with tempfile.TemporaryDirectory(prefix="scalpdesk-bench-sweep-") as tmp:
        req = SweepRequest(bars=bars, bar_seconds=60.0, profile=sweep_profile(), space=space,
                           settings=st, out=Path(tmp) / "sweep", workers=workers,
                           ledger=Path(tmp) / "ledger.jsonl")
        t0 = time.perf_counter()
        out = run_sweep(req, progress=progress)
        total = time.perf_counter() - t0
    done = [r for r in out.results if r.status != "error"]
    compute = statistics.fmean(r.seconds for r in done) * 1e3 if done else float("nan")
    return SweepRun(workers=workers, trials=len(out.results), folds=folds, total_s=total,
                    trials_s=marks.get("last", t0 + total) - marks.get("first", t0),
                    compute_ms=compute, errors=len(out.errors))


def median(xs: list[float]) -> float:
    """Median of a list of numbers."""
    return float(statistics.median(xs))
