"""Training's per-fold trading evaluation IS the backtester: same bars and signals → same trades.

There is no second fill engine: a fold's test period and its signals go to
``core.backtest.run_backtest`` under the profile, so the profile's sizing, risk rules and
end-of-day schedule apply in ``scalpdesk train`` exactly as in ``scalpdesk backtest``.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.backtest import run_backtest
from core.config import Profile, load_profile
from core.strategy.signals import Signals, direction_from_proba
from core.training.dataset import Dataset
from core.training.runner import TrainSpec, predict_rows, run_fold
from core.training.splits import walk_forward_auto
from core.training.trading import (bar_frame, denial_text, metrics_from_trades, period_signals,
                                   random_directions, trading_metrics, training_profile)

S = 1_000_000_000
CLASSES = np.array([-1, 0, 1])


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile("demo")


def _et(day: str, hhmm: str) -> int:
    """UTC ns of an America/New_York wall time."""
    return pd.Timestamp(f"{day} {hhmm}", tz="America/New_York").tz_convert("UTC").value


def _walk(n: int, start_ns: int, step_s: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 4800 + np.cumsum(rng.choice([-0.5, -0.25, 0.0, 0.25, 0.5], size=n))
    return {"ts": start_ns + np.arange(n, dtype=np.int64) * step_s * S, "open": close,
            "high": close + 0.5, "low": close - 0.5, "close": close, "volume": np.full(n, 100.0)}


def _proba(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet([1.0, 1.0, 1.0], size=n)


def test_evaluation_equals_the_backtester_on_the_same_bars_and_signals(profile: Profile) -> None:
    # 1-minute bars over a full RTH day; only some rows are "scored" (the rest: no signal).
    bars = _walk(390, _et("2024-03-12", "09:30"), 60, seed=1)
    rows = np.arange(5, 380, 2)
    proba = _proba(len(rows), seed=2)
    sig = period_signals(proba, CLASSES, rows, 390, profile.risk.min_confidence)
    m = trading_metrics(bar_frame(bars), sig, profile, seed=4)

    d, c, _ = direction_from_proba(proba, CLASSES, min_confidence=profile.risk.min_confidence)
    direction, conf = np.zeros(390, np.int8), np.zeros(390)
    direction[rows], conf[rows] = d, c
    frame = pd.DataFrame({"timestamp": bars["ts"], **{x: bars[x] for x in
                                                      ("open", "high", "low", "close", "volume")}})
    res = run_backtest(frame, Signals(direction, conf), profile=profile, record_equity=False)
    tr = res.trades
    assert m.trades == len(tr) > 0
    assert m.net_pnl == pytest.approx(tr["net_pnl"].sum(), abs=1e-9)
    assert m.expectancy == pytest.approx(tr["net_pnl"].mean(), abs=1e-9)
    assert m.expectancy_gross == pytest.approx(tr["gross_pnl"].mean(), abs=1e-9)
    assert m.costs == pytest.approx((tr["commission"] + tr["slippage"]).sum(), abs=1e-9)
    assert m.by_exit == tr["exit_reason"].astype(str).value_counts().to_dict()
    assert m.denials == res.params["denials"]
    assert m.expectancy < m.expectancy_gross  # costs are charged
    assert m.counts == (m.trades >= 100) and np.isfinite(m.baseline_expectancy)
    assert sum(m.by_exit.values()) == m.trades


def _dataset(n: int = 6000, seed: int = 0) -> Dataset:
    """A small learnable dataset of 1-s bars inside RTH (no feature machinery needed)."""
    rng = np.random.default_rng(seed)
    bars = _walk(n, _et("2024-03-12", "10:00"), 1, seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    z = X[:, 0] + rng.normal(size=n)
    y = np.where(z > 0.7, 1, np.where(z < -0.7, -1, 0)).astype(np.int64)
    valid = np.ones(n, dtype=bool)
    valid[::50] = False  # e.g. labels cut by a session break: scored rows are not all rows
    return Dataset(X=X, y=y, valid=valid, ts=bars["ts"], bars=bars, move_ticks=rng.normal(size=n),
                   feature_names=[f"f{i}" for i in range(5)], bar_seconds=1)


def test_fitted_fold_trading_equals_run_backtest_on_its_test_period(profile: Profile) -> None:
    data = _dataset()
    fold = walk_forward_auto(data.ts, 2, purge_ns=10 * S)[0]
    spec = TrainSpec(model_params={"num_boost_round": 30}, seed=3, min_confidence=0.45,
                     profile=profile)
    r = run_fold(fold, data, spec, keep_model=True)
    assert r.trading is not None and r.trading.trades > 0

    # What `scalpdesk backtest` does with the same model on the same bars.
    te = fold.test[data.valid[fold.test]]
    lo, hi = int(fold.test.min()), int(fold.test.max()) + 1
    proba = r.calibrator.apply(predict_rows(r.model, data.X, te))
    d, c, _ = direction_from_proba(proba, r.model.classes, np.ones(len(te), bool),
                                   min_confidence=0.45)
    direction, conf = np.zeros(hi - lo, np.int8), np.zeros(hi - lo)
    direction[te - lo], conf[te - lo] = d, c
    frame = pd.DataFrame({"timestamp": data.ts[lo:hi], "open": data.bars["open"][lo:hi],
                          "high": data.bars["high"][lo:hi], "low": data.bars["low"][lo:hi],
                          "close": data.bars["close"][lo:hi], "volume": data.bars["volume"][lo:hi]})
    prof = replace(profile, risk=replace(profile.risk, min_confidence=0.45))
    tr = run_backtest(frame, Signals(direction, conf), profile=prof, record_equity=False).trades
    assert r.trading.trades == len(tr)
    assert r.trading.net_pnl == pytest.approx(tr["net_pnl"].sum(), abs=1e-9)
    assert r.trading.expectancy == pytest.approx(tr["net_pnl"].mean(), abs=1e-9)


def _flat_day(day: str) -> dict[str, np.ndarray]:
    """Quiet 1-minute bars 15:00–16:45 ET: no stop or target is ever touched."""
    n = 106
    px = np.full(n, 4800.0)
    return {"ts": _et(day, "15:00") + np.arange(n, dtype=np.int64) * 60 * S, "open": px,
            "high": px + 0.25, "low": px - 0.25, "close": px, "volume": np.full(n, 100.0)}


def _one_signal(bars: dict[str, np.ndarray], hhmm: str, day: str, conf: float) -> Signals:
    i = int(np.searchsorted(bars["ts"], _et(day, hhmm)))
    p = np.array([[(1 - conf) / 2, (1 - conf) / 2, conf]])
    return period_signals(p, CLASSES, np.array([i]), len(bars["ts"]), 0.6)


def test_profile_schedule_and_sizing_apply_in_training(profile: Profile) -> None:
    day = "2024-03-12"
    bars = _flat_day(day)
    prof = replace(profile, strategy=replace(profile.strategy, time_stop_minutes=None))
    # A long held into the end-of-day schedule is flattened by it (the backtester's name),
    # not closed by a private engine's "session end".
    m = trading_metrics(bar_frame(bars), _one_signal(bars, "15:50", day, 0.75), prof)
    assert m.trades == 1 and m.by_exit == {"eod_flatten": 1}, m.by_exit
    # The profile sizes the trade: 0.75 confidence → 2 contracts at $1,000, 0.65 → 1, so
    # the same flat trade costs exactly twice as much.
    one = trading_metrics(bar_frame(bars), _one_signal(bars, "15:50", day, 0.65), prof)
    assert one.trades == 1 and m.costs == pytest.approx(2 * one.costs)
    # An entry signal after no_new_entries_at (16:15) is refused by the schedule.
    late = trading_metrics(bar_frame(bars), _one_signal(bars, "16:20", day, 0.75), prof)
    assert late.trades == 0
    assert sum(v for k, v in late.denials.items() if "no new entries" in k) == 1, late.denials
    assert "1 entry skipped: no new entries" in denial_text(late.denials)


def test_min_confidence_override_reaches_the_backtester(profile: Profile) -> None:
    assert training_profile(profile, profile.risk.min_confidence) is profile
    low = training_profile(profile, 0.52)
    assert low.risk.min_confidence == 0.52 and low.strategy == profile.strategy
    spec = TrainSpec(profile=low, min_confidence=0.52)
    assert pickle.loads(pickle.dumps(spec)) == spec  # shipped to Dask workers


def test_random_baseline_keeps_signal_bars_and_confidence() -> None:
    d = np.array([0, 1, 0, -1, 1, 0], np.int8)
    c = np.array([0.0, 0.7, 0.9, 0.8, 0.65, 0.0])
    r = random_directions(Signals(d, c), np.random.default_rng(0))
    assert ((r.direction != 0) == (d != 0)).all() and set(r.direction[d != 0]) <= {-1, 1}
    assert r.confidence is c  # same sizing; a flat (exit) signal stays a flat signal


def test_metrics_from_an_empty_trades_table() -> None:
    empty = pd.DataFrame({k: pd.Series(dtype=float) for k in
                          ("net_pnl", "gross_pnl", "commission", "slippage")})
    empty["exit_reason"] = pd.Series(dtype=str)
    m = metrics_from_trades(empty, {"size rounds to zero": 12}, float("nan"))
    assert m.trades == 0 and not m.counts and np.isnan(m.expectancy) and m.net_pnl == 0.0
    assert denial_text(m.denials) == "12 entries skipped: size rounds to zero"
    assert m.to_dict()["denials"] == {"size rounds to zero": 12}
