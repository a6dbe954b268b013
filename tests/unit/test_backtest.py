"""Validation of the backtester (requirements §8) on synthetic paths with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.backtest import Signals, run_backtest
from core.backtest.baseline import random_baseline
from core.backtest.synthetic import random_walk_bars
from core.config import SizeTier
from core.datasets.schema import make_frame
from core.errors import DataError
from core.risk import build_schedule
from core.risk import kernel as K
from core.strategy import random_signals, sma_cross_signals
from tests.unit.backtest_fixtures import LOOSE, profile

ONE_LOT = dict(LOOSE, starting_balance=100_000.0, size_tiers=(SizeTier(0.0, 1, 0.19),))


def test_trend_strategy_on_trending_data_is_positive() -> None:
    bars = random_walk_bars(20_000, seed=7, bar_seconds=60, drift_ticks=0.25, sigma_ticks=2.0)
    # Trend following: stay in until the opposite cross (wide bracket, no time stop).
    prof = profile("account_1k", risk=dict(LOOSE, size_tiers=(SizeTier(0.0, 1, 0.19),)),
                   strategy=dict(time_stop_minutes=None, stop_ticks=60, target_ticks=400))
    res = run_backtest(bars, sma_cross_signals(bars, fast=10, slow=60), profile=prof)
    assert len(res.trades) > 100
    assert res.net_pnl > 0
    by_side = res.trades.groupby("direction")["gross_pnl"].sum()
    assert by_side[1] > 0 > by_side[-1]          # with the trend wins, against it loses


def test_random_entries_have_zero_expectancy_before_costs_and_minus_costs_after() -> None:
    bars = random_walk_bars(60_000, seed=11, bar_seconds=60, sigma_ticks=2.0)
    prof = profile("account_1k", risk=ONE_LOT)
    tr = run_backtest(bars, random_signals(len(bars), seed=5, rate=0.05), profile=prof).trades
    assert len(tr) > 1000
    gross = tr["gross_pnl"].to_numpy()
    se = gross.std(ddof=1) / np.sqrt(len(gross))
    assert abs(gross.mean()) < 3.5 * se                       # ≈ 0 before costs
    costs = (tr["commission"] + tr["slippage"]).to_numpy()
    assert tr["net_pnl"].mean() == pytest.approx(gross.mean() - costs.mean())
    assert abs(tr["net_pnl"].mean() + costs.mean()) < 3.5 * se   # ≈ −costs after


def test_costs_reduce_net_pnl_by_exactly_commission_plus_slippage() -> None:
    bars = random_walk_bars(8_000, seed=3, bar_seconds=60, sigma_ticks=2.0)
    sig = random_signals(len(bars), seed=9, rate=0.03)
    costly = run_backtest(bars, sig, profile=profile("account_1k", risk=ONE_LOT)).trades
    free = run_backtest(bars, sig, profile=profile(
        "account_1k", risk=ONE_LOT,
        costs=dict(commission_round_trip=0.0, slippage_ticks=0.0, slippage_ticks_eth=0.0,
                   slippage_ticks_volatile=0.0))).trades
    assert len(costly) == len(free) > 20
    np.testing.assert_allclose(costly["gross_pnl"], free["gross_pnl"])
    n = costly["contracts"].to_numpy()
    np.testing.assert_allclose(costly["commission"], 0.84 * n)
    market_exit = costly["exit_reason"].astype(str) != "target"   # targets are limits: 0 ticks
    np.testing.assert_allclose(costly["slippage"], (1.0 + market_exit) * 1.25 * n)
    np.testing.assert_allclose(costly["net_pnl"],
                               costly["gross_pnl"] - costly["commission"] - costly["slippage"])
    assert free["net_pnl"].sum() - costly["net_pnl"].sum() == pytest.approx(
        (costly["commission"] + costly["slippage"]).sum())


def test_same_seed_identical_results() -> None:
    bars = random_walk_bars(5_000, seed=4, bar_seconds=60)
    prof = profile("account_1k")
    a = run_backtest(bars, random_signals(len(bars), seed=1, rate=0.02), profile=prof)
    b = run_backtest(bars, random_signals(len(bars), seed=1, rate=0.02), profile=prof)
    pd.testing.assert_frame_equal(a.trades, b.trades)
    pd.testing.assert_frame_equal(a.equity, b.equity)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), cut=st.floats(0.2, 0.8))
def test_changing_bars_after_t_never_changes_trades_before_t(seed: int, cut: float) -> None:
    bars = random_walk_bars(4_000, seed=seed, bar_seconds=60, sigma_ticks=2.0)
    sig = random_signals(len(bars), seed=seed, rate=0.03)
    k = int(len(bars) * cut)
    other = random_walk_bars(4_000, seed=seed + 99, bar_seconds=60, sigma_ticks=2.0)
    changed = bars.copy()
    shift = bars["close"].iloc[k - 1] - other["open"].iloc[k]
    for c in ("open", "high", "low", "close"):
        changed.loc[k:, c] = other[c].iloc[k:].to_numpy() + shift
    prof = profile("account_1k", strategy=dict(bracket="atr"))
    a = run_backtest(bars, sig, profile=prof).trades
    b = run_backtest(changed, sig, profile=prof).trades
    a0, b0 = a[a["exit_bar"] < k - 1], b[b["exit_bar"] < k - 1]
    pd.testing.assert_frame_equal(a0.reset_index(drop=True), b0.reset_index(drop=True))


def _mll_levels(trades: pd.DataFrame, start: float, mll: float) -> pd.Series:
    """Independent MLL: floor per trading day from end-of-day balances, locked at the start."""
    day = trades["exit_time"].dt.tz_convert("America/Chicago")
    td = (day + pd.Timedelta(hours=7)).dt.normalize()       # 17:00 CT belongs to the next day
    eod = start + trades.groupby(td)["net_pnl"].sum().cumsum()
    hi = np.maximum.accumulate(np.concatenate([[start], eod.to_numpy()]))[:-1]
    level = np.minimum(hi - mll, start)
    return pd.Series(level, index=eod.index).reindex(td).set_axis(trades.index)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([0.01, 0.05]),
       sigma=st.sampled_from([1.0, 4.0]),
       name=st.sampled_from(["account_1k", "topstep_50k_combine", "topstep_50k_xfa"]),
       conf=st.sampled_from([0.65, 0.75, 0.95]), mll_binds=st.booleans())
def test_no_risk_limit_is_ever_exceeded(seed: int, rate: float, sigma: float, name: str,
                                        conf: float, mll_binds: bool) -> None:
    prof = profile(name)
    if mll_binds and prof.topstep:   # house limits out of the way: the MLL is the last line
        prof = profile(name, risk=dict(max_daily_loss=1e6, max_daily_drawdown=1e6,
                                       account_drawdown_stop=1e6, kill_switch_loss=1e6),
                       topstep=dict(daily_loss_limit=None))
    bars = random_walk_bars(6_000, seed=seed, bar_seconds=60, sigma_ticks=sigma,
                            rth_only=name == "account_1k")
    res = run_backtest(bars, random_signals(len(bars), seed=seed, rate=rate, confidence=conf),
                       profile=prof, record_equity=False)
    tr = res.trades
    if not len(tr):
        return
    r = prof.risk
    tick_value = 1.25
    # per-trade risk and contract caps
    assert (tr["contracts"] * prof.strategy.stop_ticks * tick_value <= r.max_risk_per_trade).all()
    cap = min(r.max_contracts, max(t.max_contracts for t in r.size_tiers))
    if prof.topstep:
        cap = min(cap, prof.topstep.max_minis * 10)
    assert (tr["contracts"] <= cap).all() and (tr["contracts"] >= 1).all()
    # daily loss: the day's realised loss overshoots only by the last trade's slippage + 1 tick
    sch = build_schedule(prof, tr["entry_time"].min().date() - pd.Timedelta(days=3),
                         tr["exit_time"].max().date() + pd.Timedelta(days=3))
    row = np.searchsorted(sch.close_ns, tr["exit_ns"].to_numpy(), side="right")
    slack = tr["slippage"] + tr["contracts"] * tick_value + 1e-6
    day_pnl = tr.groupby(row)["net_pnl"].cumsum()
    assert (day_pnl >= -(r.max_daily_loss + slack)).all()
    # kill switch / account level
    bal = r.starting_balance + tr["net_pnl"].cumsum()
    assert (bal >= r.starting_balance - r.kill_switch_loss - slack).all()
    if prof.topstep:
        # Liquidation happens a buffer above the MLL: even with slippage the real line holds.
        lvl = _mll_levels(tr, r.starting_balance, prof.topstep.max_loss_limit)
        assert (bal > lvl).all()
    # after a halt, nothing trades
    halts = res.risk_events[res.risk_events["kind"] == "halt"]
    if len(halts):
        assert (tr["entry_time"] <= halts["timestamp"].iloc[0]).all()


@pytest.mark.parametrize("name,start", [
    ("account_1k", "2024-03-07"),          # US DST starts 2024-03-10
    ("account_1k", "2024-10-31"),          # US DST ends 2024-11-03
    ("account_1k", "2024-11-25"),          # Thanksgiving, Black Friday early close
    ("topstep_50k_combine", "2024-03-07"),
    ("topstep_50k_combine", "2024-11-25"),
])
def test_flat_at_the_deadline_every_day(name: str, start: str) -> None:
    prof = profile(name, risk=ONE_LOT, strategy=dict(time_stop_minutes=None, stop_ticks=100,
                                                   target_ticks=400))
    bars = random_walk_bars(8_000, seed=2, bar_seconds=60, rth_only=False, start=start)
    res = run_backtest(bars, random_signals(len(bars), seed=2, rate=0.05), profile=prof)
    tr = res.trades
    assert (tr["exit_reason"].astype(str) == "eod_flatten").sum() >= 3
    sch = build_schedule(prof, start, pd.Timestamp(start) + pd.Timedelta(days=14))
    row = np.searchsorted(sch.open_ns, tr["entry_ns"].to_numpy(), side="right") - 1
    flat = sch.table[row, K.S_FLAT]
    assert (tr["exit_ns"].to_numpy() < flat).all()
    assert (tr["entry_ns"].to_numpy() >= sch.table[row, K.S_ENTRY]).all()
    assert (tr["entry_ns"].to_numpy() < sch.table[row, K.S_NO_NEW]).all()
    if prof.topstep:
        ct = tr["exit_time"].dt.tz_convert("America/Chicago")
        late = (ct.dt.hour * 60 + ct.dt.minute >= 15 * 60 + 10) & (ct.dt.hour < 17)
        assert not late.any()


def _bars(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    ts = [pd.Timestamp(r[0], tz="America/New_York").tz_convert("UTC").value for r in rows]
    o, h, lo, c = (np.array([r[k] for r in rows]) for k in range(1, 5))
    return make_frame(np.array(ts), o, h, lo, c, np.full(len(rows), 10), "MES")


def test_same_bar_stop_and_target_ambiguity_band_and_1s_resolution() -> None:
    bars = _bars([
        ("2025-03-12 10:00", 5000.0, 5000.25, 4999.75, 5000.0),   # signal long at close
        ("2025-03-12 10:01", 5000.0, 5004.0, 4997.0, 5001.0),     # entry; stop AND target hit
        ("2025-03-12 10:02", 5001.0, 5001.25, 5000.75, 5001.0),
    ])
    sig = Signals(np.array([1, 0, 0], np.int8), np.array([0.75, 0, 0]))
    prof = profile("account_1k", strategy=dict(stop_ticks=8, target_ticks=12))
    res = run_backtest(bars, sig, profile=prof)
    assert res.trades["exit_reason"].astype(str).tolist() == ["stop"]
    amb = res.ambiguity
    assert amb.share_affected == 1.0 and amb.trades_affected == 1
    assert amb.pessimistic_pnl < 0 < amb.optimistic_pnl
    # 1-second bars inside the ambiguous minute say the target came first
    one_s = _bars([("2025-03-12 10:01:00", 5000.0, 5001.0, 5000.0, 5001.0),
                   ("2025-03-12 10:01:01", 5001.0, 5003.0, 5001.0, 5003.0),
                   ("2025-03-12 10:01:02", 5003.0, 5003.0, 4997.0, 4997.5)])
    res2 = run_backtest(bars, sig, profile=profile("account_1k", strategy=dict(same_bar="resolve")),
                        bars_1s=one_s)
    assert res2.trades["exit_reason"].astype(str).tolist() == ["target"]
    assert res2.trades["exit_price"].iloc[0] == 5003.0


def test_next_bar_open_entry_and_optimistic_close_entry() -> None:
    bars = _bars([
        ("2025-03-12 10:00", 5000.0, 5000.5, 4999.5, 5000.25),
        ("2025-03-12 10:01", 5001.0, 5001.5, 5000.5, 5001.0),
        ("2025-03-12 10:02", 5001.0, 5001.5, 5000.5, 5001.0),
    ])
    sig = Signals(np.array([1, 0, 0], np.int8), np.array([0.75, 0, 0]))
    real = run_backtest(bars, sig, profile=profile("account_1k")).trades
    assert real["entry_price"].iloc[0] == 5001.0 and real["entry_time"].iloc[0] == pd.Timestamp(
        "2025-03-12 10:01", tz="America/New_York")
    opt = run_backtest(bars, sig, profile=profile("account_1k",
                                                  strategy=dict(fill_mode="optimistic"))).trades
    assert opt["entry_price"].iloc[0] == 5000.25


def test_random_baseline_distribution_and_percentile() -> None:
    bars = random_walk_bars(6_000, seed=8, bar_seconds=60, sigma_ticks=2.0)
    prof = profile("account_1k", risk=ONE_LOT)
    res = run_backtest(bars, random_signals(len(bars), seed=1, rate=0.02), profile=prof)
    b1 = random_baseline(bars, res, prof, n_seeds=20, seed=3)
    b2 = random_baseline(bars, res.trades, prof, n_seeds=20, seed=3)
    np.testing.assert_array_equal(b1.pnls, b2.pnls)
    assert 0.0 <= b1.percentile <= 100.0 and len(b1.pnls) == 20
    assert b1.p05 <= b1.p50 <= b1.p95
    assert "beats" in b1.summary()


def test_bad_input_is_a_clear_error() -> None:
    bars = random_walk_bars(100, seed=1, bar_seconds=60)
    with pytest.raises(DataError, match="one row per bar"):
        run_backtest(bars, random_signals(50, seed=1), profile=profile("account_1k"))
    with pytest.raises(DataError, match="not strictly increasing"):
        run_backtest(bars.iloc[::-1].reset_index(drop=True), random_signals(100, seed=1),
                     profile=profile("account_1k"))
    with pytest.raises(DataError, match="missing column"):
        run_backtest(bars.drop(columns=["high"]), random_signals(100), profile=profile("demo"))
    with pytest.raises(DataError, match="missing column"):
        Signals.from_frame(bars, pd.DataFrame({"timestamp": [1]}))


def test_signals_from_frame_align_by_timestamp() -> None:
    bars = random_walk_bars(100, seed=1, bar_seconds=60)
    f = pd.DataFrame({"timestamp": bars["timestamp"].iloc[[5, 50]].to_numpy(),
                      "direction": [1, -1], "confidence": [0.8, 0.9]})
    s = Signals.from_frame(bars, f)
    assert s.direction[5] == 1 and s.direction[50] == -1 and np.count_nonzero(s.direction) == 2
    assert s.confidence[50] == 0.9
