"""Measurements behind ``scalpdesk bench research``: research power and false positives.

* **Power**: for each planted pattern (``core.datasets.synth_patterns``) at its documented
  strength and for each seed, 120 RTH days of bars (1-minute patterns; 10 days for 1-second
  ones) go through the real training pipeline (walk-forward, 4 folds + holdout, binary label
  over the pattern's horizon, LightGBM defaults, each fold's confidence floor chosen on its
  validation bars — ``train --auto-floor``, core.training.floor — or a fixed floor). A pattern
  counts as **found** on a seed when, pooled over the walk-forward test folds, the UP/DOWN
  predictions at or above the floor (at least 100 bars), held for the label horizon, earn more
  per MES contract after costs than the 95th percentile of coin-flip directions on the same
  bars (one flip per cluster of overlapping horizons), with precision above 50 %. It **pays**
  when, in addition, that value is above $0 after costs.
* **False positives**: the same on pure noise (1-minute bars); the share of seeds "found".
* **Fold time**: one LightGBM fold (fit with early stopping + predicting the validation rows)
  at 436,646 training rows × 49 features of synthetic 1-second bars.

The rule "found" is the traded subset held for the horizon, not the backtest verdict: the backtest adds the
profile's exits, sizing and risk rules, which answer a different question (README → Research).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

FOLD_ROWS = 436_646


@dataclass
class PowerRun:
    """One pattern (or noise) on one seed."""

    pattern: str
    seed: int
    found: bool
    top_dollars: float
    top_p95: float
    top_precision: float
    auc: float
    verdict: str        #: the verdict's label
    verdict_text: str   #: the whole verdict sentence
    seconds: float
    pays: bool = False  #: found, and the traded subset earns more than costs (> $0 per contract)
    trades: int = 0     #: the backtester's trades over the walk-forward folds
    expectancy: float = float("nan")  #: their $ per trade after costs (profile sizing)


def research_profile() -> Any:
    """``topstep_50k_combine`` with exits matched to a 5-minute horizon (stop 8, target 40,
    time stop 5 min). A $50K account, so a half-size step at a low confidence still rounds to
    one contract (on the $1,000 profile it rounds to zero and the backtest sees nothing)."""
    from core.config import load_profile
    p = load_profile("topstep_50k_combine")
    return replace(p, strategy=replace(p.strategy, stop_ticks=8, target_ticks=40,
                                       time_stop_minutes=5))


def run_one(pattern: str | None, seed: int, *, strength: float = 1.0,
            days: int | None = None, floor: float | None = None,
            features: list[str] | None = None) -> PowerRun:
    """Train on one planted pattern (None: noise) and judge "found" (module docstring).

    ``floor``: a fixed confidence floor; None (default) chooses each fold's floor on its
    validation bars (core.training.floor, ``train --auto-floor``). ``features``: fit on these
    columns only (``train --features``); None: every feature of the set.
    """
    from core.datasets import synth_patterns as sp
    from core.training.pipeline import TrainRequest, train

    p = sp.get_pattern(pattern) if pattern else None
    bar = p.bar_seconds if p else 60
    look = p.lookahead_seconds if p else 300
    days = days or (10 if bar == 1 else 120)
    frame, _ = sp.generate_pattern(p, days, seed, strength=strength)
    started = time.perf_counter()
    req = TrainRequest(profile=research_profile(), label_kind="binary", threshold_ticks=0.0,
                       lookahead_seconds=look, folds=4,
                       min_confidence=floor if floor is not None else 0.55,
                       auto_floor=floor is None, features=features)
    out = train(frame, bar, req)
    from core.training.report import beats_coin_flips
    top = out.summary.horizon.get("traded") or {}
    found = beats_coin_flips(top)
    return PowerRun(pattern or "noise", seed, found, float(top.get("dollars", np.nan)),
                    float(top.get("baseline_p95", np.nan)), float(top.get("precision", np.nan)),
                    float(out.summary.auc_mean), out.summary.verdict.split(":")[0],
                    out.summary.verdict, time.perf_counter() - started,
                    pays=found and float(top.get("dollars", np.nan)) > 0,
                    trades=int(out.summary.trades), expectancy=float(out.summary.expectancy))


def fold_seconds(runs: int = 3, rows: int = FOLD_ROWS) -> tuple[list[float], list[int]]:
    """Seconds of one LightGBM fold — fit with early stopping on the edge metric, then
    predict the validation rows — on ``rows`` training rows × 49 features of synthetic
    one-second bars (plus 15 % validation rows), ``runs`` times; and the rounds grown."""
    from core.datasets.synth import generate_rows
    from core.labels import LabelSpec
    from core.ml.lgbm import LightGBMModel
    from core.training.dataset import build_dataset

    val = int(rows * 0.15)
    frame = generate_rows(int((rows + val) * 1.02) + 5_000, seed=0, rth_only=True)
    label = LabelSpec(kind="direction", lookahead_seconds=30, threshold_ticks=3.0, session="rth")
    data = build_dataset(frame, label=label, tick_size=0.25, bar_seconds=1,
                         feature_set="default")
    ok = np.flatnonzero(data.valid)
    tr, va = ok[:rows], ok[rows:rows + val]
    times, rounds = [], []
    for _ in range(runs):
        t = time.perf_counter()
        m = LightGBMModel()
        info = m.fit(data.X[tr], data.y[tr], data.X[va], data.y[va],
                     val_moves=data.move_ticks[va])
        m.predict_proba(data.X[va])
        times.append(time.perf_counter() - t)
        rounds.append(info.iterations)
    return times, rounds


def median(xs: list[float]) -> float:
    """Median of the finite values (NaN for none): a seed whose folds traded no bar has no
    traded-subset value, and one NaN would make ``statistics.median`` meaningless."""
    ok = [x for x in xs if np.isfinite(x)]
    return statistics.median(ok) if ok else float("nan")
