"""The compiled loop equals the per-event path (every bar, kernels called one event at a time)
on trades, risk events and denials, under every fill setting and every strategy convention."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.backtest import run_backtest
from core.backtest.reference import run_reference_full
from core.backtest.synthetic import random_walk_bars
from core.datasets.synth_crypto import generate_crypto
from core.risk import risk_arrays
from core.strategy import random_signals
from tests.unit.backtest_fixtures import LOOSE, profile
from tests.unit.crypto_fixtures import LOOSE_PCT, crypto_profile


def _same(a, b) -> None:  # noqa: ANN001
    assert len(a) == len(b)
    num = a.select_dtypes("number").columns
    np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=0, atol=1e-9)
    assert (a["exit_reason"].astype(str).to_numpy() == b["exit_reason"].astype(str).to_numpy()).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rate=st.sampled_from([0.005, 0.02, 0.08]),
    name=st.sampled_from(["account_1k", "topstep_50k_combine", "topstep_50k_xfa"]),
    fill=st.sampled_from(["realistic", "optimistic", "conservative"]),
    same_bar=st.sampled_from(["pessimistic", "optimistic", "resolve"]),
    bracket=st.sampled_from(["fixed", "atr", "structure"]),
    be=st.sampled_from([None, 2, 6]),
    time_stop=st.sampled_from([None, 3.0, 30.0]),
    entry=st.sampled_from(["market", "limit"]),
    opposite=st.sampled_from(["reverse", "exit", "ignore"]),
    cooldown=st.sampled_from([0, 1, 3]),
    stop_fill=st.sampled_from(["stop_market", "at_stop"]),
    anchor=st.sampled_from(["reference", "fill"]),
    sigma=st.sampled_from([1.0, 3.0, 6.0]),
    loose=st.booleans(),
    continuous=st.booleans(),
    slip=st.sampled_from(["fixed", "session", "volatility"]),
)
def test_loop_matches_reference(seed: int, rate: float, name: str, fill: str, same_bar: str,
                                bracket: str, be: int | None, time_stop: float | None,
                                entry: str, opposite: str, cooldown: int, stop_fill: str,
                                anchor: str, sigma: float, slip: str, loose: bool,
                                continuous: bool) -> None:
    rth_only = name == "account_1k"
    bars = random_walk_bars(2500, seed=seed, bar_seconds=60, rth_only=rth_only,
                            sigma_ticks=sigma, start="2024-03-07")   # spans the US DST change
    one_s = random_walk_bars(4000, seed=seed + 1, bar_seconds=1, rth_only=rth_only,
                             sigma_ticks=sigma, start="2024-03-07") if same_bar == "resolve" else None
    sig = random_signals(len(bars), seed=seed, rate=rate,
                         confidence=float(np.random.default_rng(seed).choice([0.65, 0.75, 0.95])))
    prof = profile(name, strategy=dict(fill_mode=fill, same_bar=same_bar, bracket=bracket,
                                       breakeven_after_ticks=be, time_stop_minutes=time_stop,
                                       entry_order=entry, on_opposite=opposite, stop_fill=stop_fill,
                                       bracket_anchor=anchor,
                                       cooldown_bars=cooldown, slippage_model=slip, stop_ticks=6,
                                       target_ticks=9),
                   risk=LOOSE if loose else None,
                   schedule=dict(sessions="continuous", daily_cut="17:00") if continuous else None)
    res = run_backtest(bars, sig, profile=prof, bars_1s=one_s)
    ref = run_reference_full(bars, sig, profile=prof, bars_1s=one_s)
    _same(res.trades, ref.trades)
    _same_events_and_denials(res, ref, bars)
    _fills_on_tick_grid(res.trades)
    _equity_is_marked_to_market(res, bars, prof)


def _same_events_and_denials(res, ref, bars) -> None:  # noqa: ANN001
    """Risk events (bar, reason, balance) and denials by reason agree exactly."""
    ts = bars["timestamp"].to_numpy(np.int64)
    ev = res.risk_events
    got = list(zip(np.searchsorted(ts, ev["timestamp"].astype("int64").to_numpy()),
                   ev["code"].tolist(), np.round(ev["balance"].to_numpy(float), 6)))
    want = [(i, c, round(b, 6)) for i, c, b in ref.events]
    assert got == want
    assert res.params["denials"] == ref.denials


def _fills_on_tick_grid(trades) -> None:  # noqa: ANN001
    """Every fill price (before slippage, which is booked in money) is a real MES price."""
    for col in ("entry_price", "exit_price"):
        ticks = trades[col].to_numpy(float) / 0.25
        assert np.abs(ticks - np.round(ticks)).max(initial=0.0) < 1e-6, col


def _equity_is_marked_to_market(res, bars, prof) -> None:  # noqa: ANN001
    """Equity = balance before the trade + open P&L net of commission on every bar held.

    Checks the fast paths (flat skip and hold skip) write the same curve the full path would.
    """
    eq = res.equity["equity"].to_numpy()
    c = bars["close"].to_numpy()
    bal = prof.risk.starting_balance
    pv = 1.25 / 0.25
    prev_exit = 0
    for t in res.trades.itertuples():
        flat = eq[prev_exit + 1:t.entry_bar]
        np.testing.assert_allclose(flat, bal, rtol=0, atol=1e-6)
        held = slice(t.entry_bar + 1, t.exit_bar)
        want = bal + (t.direction * (c[held] - t.entry_price) * pv * t.contracts
                      - prof.costs.commission_round_trip * t.contracts - t.entry_slippage)
        np.testing.assert_allclose(eq[held], want, rtol=0, atol=1e-6)
        bal += t.net_pnl
        prev_exit = t.exit_bar
    assert eq[-1] == pytest.approx(bal)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rate=st.sampled_from([0.005, 0.02, 0.08]),
    fill=st.sampled_from(["realistic", "optimistic", "conservative"]),
    same_bar=st.sampled_from(["pessimistic", "optimistic"]),
    bracket=st.sampled_from(["fixed", "atr", "structure"]),
    stop=st.sampled_from([(0.2, 0.3), (0.5, 0.75), (5.0, 2.0)]),
    entry=st.sampled_from(["market", "limit"]),
    opposite=st.sampled_from(["reverse", "exit", "ignore"]),
    stop_fill=st.sampled_from(["stop_market", "at_stop"]),
    anchor=st.sampled_from(["reference", "fill"]),
    impact=st.sampled_from([0.0, 10.0, 200.0]),
    fees=st.sampled_from([(0.1, 0.1), (0.02, 0.075), (0.0, 0.0)]),
    capital=st.sampled_from([40.0, 1000.0, 100_000.0]),
    loose=st.booleans(),
    cut=st.sampled_from(["00:00", "17:00"]),
)
def test_loop_matches_reference_crypto(seed: int, rate: float, fill: str, same_bar: str,
                                       bracket: str, stop: tuple[float, float], entry: str,
                                       opposite: str, stop_fill: str, anchor: str,
                                       impact: float, fees: tuple[float, float], capital: float,
                                       loose: bool, cut: str) -> None:
    """Crypto: lots of the lot size, % brackets, bps slippage, market impact, maker/taker fees,
    the minimum notional (tiny capital), limits in % of equity, a 24/7 day cut."""
    bars = generate_crypto(2, seed=seed, start="2024-03-09", daily_vol=0.04)
    sig = random_signals(len(bars), seed=seed, rate=rate,
                         confidence=float(np.random.default_rng(seed).choice([0.65, 0.75, 0.95])))
    prof = crypto_profile(
        strategy=dict(fill_mode=fill, same_bar=same_bar, bracket=bracket, stop_pct=stop[0],
                      target_pct=stop[1], entry_order=entry, on_opposite=opposite,
                      stop_fill=stop_fill, bracket_anchor=anchor),
        costs=dict(impact_bps=impact, maker_fee_pct=fees[0], taker_fee_pct=fees[1]),
        risk=dict(LOOSE_PCT if loose else {}, starting_balance=capital),
        schedule=dict(daily_cut=cut))
    res = run_backtest(bars, sig, profile=prof)
    ref = run_reference_full(bars, sig, profile=prof)
    _same(res.trades, ref.trades)
    _same_events_and_denials(res, ref, bars)
    ticks = res.trades[["entry_price", "exit_price"]].to_numpy(float) / 0.01
    assert np.abs(ticks - np.round(ticks)).max(initial=0.0) < 1e-6
    p = risk_arrays(prof).p
    notional = res.trades["quantity"].to_numpy() * res.trades["entry_price"].to_numpy()
    assert (notional >= 5.0 - 1e-9).all()                               # minimum notional
    from core.risk import kernel as K
    assert p[K.P_MAX_NOTIONAL] == 1.0
