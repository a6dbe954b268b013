"""Statistics, intervals, deflated Sharpe, ledger, Combine Monte Carlo and the verdict."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.backtest.bootstrap import bootstrap_expectancy, bootstrap_profit_factor
from core.backtest.dsr import deflated_sharpe, expected_max_sharpe, probabilistic_sharpe
from core.backtest.ledger import append_trial, read_trials, trial_summary
from core.backtest.montecarlo import CombineRules, combine_pass_probability
from core.backtest.stats import compute_stats, daily_pnl, drawdown, per_day_table, profit_factor
from core.backtest.verdict import make_verdict
from core.clock import SimClock

NS_MIN = 60_000_000_000
# 2024-03-04 (Monday) 14:30 UTC = 09:30 ET
MON_0930 = int(pd.Timestamp("2024-03-04 14:30", tz="UTC").value)


def make_trades(net: list[float], *, spacing_min: int = 10, per_day: int = 6) -> pd.DataFrame:
    """Trades ``spacing_min`` apart, ``per_day`` per RTH morning on consecutive weekdays."""
    rows = []
    for i, pnl in enumerate(net):
        day, k = divmod(i, per_day)
        day_offset = pd.offsets.BDay(day)
        entry = int((pd.Timestamp(MON_0930, tz="UTC") + day_offset).value) + k * spacing_min * NS_MIN
        rows.append({
            "entry_time": entry, "exit_time": entry + 5 * NS_MIN, "direction": 1,
            "entry_price": 5000.0, "exit_price": 5000.0 + pnl / 5.0, "contracts": 1,
            "gross_pnl": pnl + 1.84, "commission": 0.84, "slippage": 1.0, "net_pnl": pnl,
            "exit_reason": "target" if pnl > 0 else "stop", "model_confidence": 0.7,
            "predicted_class": 1, "mfe": max(pnl, 0.0), "mae": min(pnl, 0.0), "risk": 10.0,
        })
    return pd.DataFrame(rows)


def equity_from(trades: pd.DataFrame, start: float = 1000.0) -> pd.DataFrame:
    ts = trades["exit_time"].to_numpy(np.int64)
    eq = start + np.cumsum(trades["net_pnl"].to_numpy(float))
    return pd.DataFrame({"timestamp": np.concatenate([[ts[0] - NS_MIN], ts]),
                         "equity": np.concatenate([[start], eq])})


def test_basic_metrics_by_hand() -> None:
    trades = make_trades([10, -5, 10, -5, -5, 20])
    s = compute_stats(trades, equity_from(trades), starting_balance=1000)
    assert s.trades == 6
    assert s.net_pnl == pytest.approx(25)
    assert s.win_rate == pytest.approx(0.5)
    assert s.profit_factor == pytest.approx(40 / 15)
    assert s.expectancy == pytest.approx(25 / 6)
    assert (s.largest_win, s.largest_loss) == (20, -5)
    assert (s.max_win_streak, s.max_loss_streak) == (1, 2)
    assert s.commission == pytest.approx(6 * 0.84) and s.slippage == pytest.approx(6.0)
    assert s.gross_pnl - s.commission - s.slippage == pytest.approx(s.net_pnl)
    assert s.return_per_dollar_risked == pytest.approx(25 / 60)
    assert s.max_drawdown.depth == pytest.approx(10)  # 1015 → 1005
    assert s.exit_reasons == {"target": 3, "stop": 3}
    assert set(s.pnl_by_hour) == {9, 10}  # entries 09:30–10:20 ET


def test_daily_grouping_uses_trading_days() -> None:
    trades = make_trades([1.0] * 12, per_day=6)
    d = daily_pnl(trades)
    assert list(d.values) == [6.0, 6.0]
    assert list(d.index.strftime("%Y-%m-%d")) == ["2024-03-04", "2024-03-05"]
    assert per_day_table(trades)["trades"].tolist() == [6, 6]


def test_empty_trades_do_not_crash() -> None:
    empty = make_trades([]) if False else pd.DataFrame(columns=list(make_trades([1]).columns))
    s = compute_stats(empty, pd.DataFrame({"timestamp": [], "equity": []}), starting_balance=1000)
    assert s.trades == 0 and math.isnan(s.win_rate)
    assert s.to_dict()["win_rate"] is None


def test_drawdown_recovery_and_duration() -> None:
    ts = np.arange(6) * 86_400 * 1_000_000_000
    eq = pd.DataFrame({"timestamp": ts, "equity": [100, 110, 90, 95, 111, 105]})
    dd = drawdown(eq)
    assert dd.depth == pytest.approx(20) and dd.depth_pct == pytest.approx(20 / 110)
    assert dd.peak_ns == ts[1] and dd.trough_ns == ts[2] and dd.recovery_ns == ts[4]
    assert dd.duration_days == pytest.approx(3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False, allow_subnormal=False), min_size=5, max_size=60))
def test_bootstrap_interval_contains_estimate(xs: list[float]) -> None:
    ci = bootstrap_expectancy(np.array(xs), n_boot=300, seed=1)
    assert ci.low - 1e-9 <= ci.estimate <= ci.high + 1e-9
    pf = bootstrap_profit_factor(np.array(xs), n_boot=300, seed=1)
    assert pf.estimate == profit_factor(np.array(xs)) or math.isnan(pf.estimate)


def test_bootstrap_is_seeded() -> None:
    x = np.random.default_rng(0).normal(0, 5, 200)
    assert bootstrap_expectancy(x, seed=3) == bootstrap_expectancy(x, seed=3)


def test_deflated_sharpe_falls_with_trials() -> None:
    r = np.random.default_rng(1).normal(0.1, 1.0, 500)
    one = deflated_sharpe(r, n_trials=1)
    many = deflated_sharpe(r, n_trials=1000)
    assert 0 <= many < one <= 1
    assert probabilistic_sharpe(r) == pytest.approx(one)
    assert expected_max_sharpe(1, 0.01) == 0 and expected_max_sharpe(100, 0.01) > 0


def test_ledger_roundtrip_and_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    for i, sr in enumerate([0.1, 0.2, 0.3]):
        append_trial({"strategy": "x", "data_hash": "h", "sharpe_per_period": sr, "i": np.int64(i)},
                     path=path, clock=SimClock(123))
    with path.open("a") as fh:
        fh.write('{"torn": ')  # a crash mid-write must not hide earlier trials
    assert len(read_trials(path)) == 3
    summary = trial_summary(path, data_hash="h")
    assert summary.n_trials == 3 and summary.sr_variance == pytest.approx(0.01)
    assert trial_summary(tmp_path / "missing.jsonl").n_trials == 1


def test_combine_monte_carlo_extremes() -> None:
    rules = CombineRules(starting_balance=50_000, profit_target=3_000, max_loss_limit=2_000)
    sure_win = combine_pass_probability(np.full(30, 400.0), rules, n_paths=500)
    assert sure_win.p_pass == 1.0 and sure_win.median_days_to_pass == 8
    sure_loss = combine_pass_probability(np.full(30, -300.0), rules, n_paths=500)
    assert sure_loss.p_fail == 1.0
    # Consistency: one huge day then nothing → the target is reached but the rule blocks the pass.
    lumpy = CombineRules(50_000, 3_000, 2_000, consistency_pct=0.5)
    out = combine_pass_probability(np.array([3_500.0] + [0.0] * 29), lumpy, n_paths=300,
                                   block_days=30, horizon_days=30)
    assert out.p_pass == 0.0 and out.p_open == 1.0


def test_combine_mll_trails_and_locks() -> None:
    rules = CombineRules(starting_balance=50_000, profit_target=10_000, max_loss_limit=2_000)
    # +2,500 then −2,400: the floor locked at 50,000, so 50,100 survives...
    path = np.array([2_500.0, -2_400.0, 0, 0, 0])
    out = combine_pass_probability(path, rules, n_paths=1, block_days=5, horizon_days=5, seed=0)
    assert out.p_fail == 0.0
    # ...but touching it fails (touching counts as a breach).
    out = combine_pass_probability(np.array([2_500.0, -2_500.0, 0, 0, 0]), rules, n_paths=1,
                                   block_days=5, horizon_days=5)
    assert out.p_fail == 1.0


def test_verdicts() -> None:
    losing = make_trades(list(np.random.default_rng(2).normal(-2.0, 5.0, 300)))
    s = compute_stats(losing, equity_from(losing), starting_balance=1000)
    v = make_verdict(s, bootstrap_expectancy(losing["net_pnl"].to_numpy()), baseline_percentile=40)
    assert v.label == "no edge after costs" and "per trade after costs" in v.text()
    few = make_trades([5.0] * 20)
    s2 = compute_stats(few, equity_from(few), starting_balance=1000)
    # 20 identical trades: the interval has no width, so there is nothing to judge yet.
    v2 = make_verdict(s2, bootstrap_expectancy(few["net_pnl"].to_numpy()))
    assert v2.label == "too few trades" and "below the minimum of 100" in v2.headline
    good = make_trades(list(np.random.default_rng(3).normal(3.0, 5.0, 400)))
    s3 = compute_stats(good, equity_from(good), starting_balance=1000)
    ci = bootstrap_expectancy(good["net_pnl"].to_numpy())
    assert make_verdict(s3, ci, baseline_percentile=99, deflated_sharpe=0.99).label == "possible edge"
    assert make_verdict(s3, ci, baseline_percentile=60).label == "inconclusive"
    flip = make_verdict(s3, ci, baseline_percentile=99, ambiguity=(-10.0, 50.0, 0.3))
    assert flip.label == "inconclusive" and any("intrabar" in w for w in flip.warnings)


def test_profit_factor_of_huge_wins_over_tiny_losses_is_inf_without_warnings() -> None:
    """CI printed "overflow encountered in divide" for a hypothesis example of this shape."""
    import warnings
    x = np.array([1e300, -1e-300, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert profit_factor(x) == math.inf
        pf = bootstrap_profit_factor(x, n_boot=50, seed=1)
    assert pf.estimate == math.inf and pf.high == math.inf
