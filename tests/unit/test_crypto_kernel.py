"""Percent brackets, bps slippage, fees by notional, sizes in lots, minimum notional and limits
in % of equity — the kernel's crypto rules, checked against hand arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest import run_backtest
from core.config import ConfigError, profile_from_dict
from core.datasets.synth_crypto import generate_crypto
from core.risk import Approved, Denied, EntryIntent, RiskKernel, risk_arrays
from core.risk import kernel as K
from core.strategy import random_signals
from core.strategy import steps as S
from core.strategy.settings import strategy_array
from tests.unit.crypto_fixtures import BASE, LOOSE_PCT, crypto_profile

T = pd.Timestamp("2024-03-09 10:00", tz="UTC").value    # a Saturday: crypto trades


def test_size_is_in_lots_capped_by_the_balance() -> None:
    rk = RiskKernel(crypto_profile())
    # 0.5 % stop at 40,000 = 200 USDT = 20,000 ticks; 1 lot (0.00001 BTC) risks $0.002.
    # Budget 1 % of 1,000 = $10 → 5,000 lots = 0.05 BTC = $2,000 > the balance: 100 % cap.
    r = rk.check(EntryIntent(T, 1, 0.75, 20_000.0, price=40_000.0))
    assert isinstance(r, Approved) and r.contracts == 2500           # 0.025 BTC = $1,000
    # A 2 % stop: budget allows 1,250 lots ($500), under the cap; 0.5× at 60–70 % confidence.
    assert rk.check(EntryIntent(T, 1, 0.75, 80_000.0, price=40_000.0)).contracts == 1250
    assert rk.check(EntryIntent(T, 1, 0.65, 80_000.0, price=40_000.0)).contracts == 625


def test_an_order_below_the_minimum_notional_is_refused_with_its_own_reason() -> None:
    rk = RiskKernel(crypto_profile(risk={"starting_balance": 100.0}))
    # $100 × 1 % = $1 of risk; a 20 % stop → 12 lots = 0.00012 BTC = $4.80 < $5 minimum.
    d = rk.check(EntryIntent(T, 1, 0.75, 800_000.0, price=40_000.0))
    assert isinstance(d, Denied) and d.code == K.R_MIN_NOTIONAL
    assert d.reason == "below the minimum notional"
    assert K.REASONS[-1] == "below the minimum notional"       # appended at the end
    # A 15 % stop → 16 lots = $6.40: allowed.
    assert rk.check(EntryIntent(T, 1, 0.75, 600_000.0, price=40_000.0)).contracts == 16


def test_crypto_entries_need_a_price() -> None:
    d = RiskKernel(crypto_profile()).check(EntryIntent(T, 1, 0.75, 20_000.0))
    assert isinstance(d, Denied) and "price is required for BTCUSDT" in d.reason
    a = risk_arrays(crypto_profile())
    fs, ist = K.new_state(a.p)
    n, why = K.check_entry(a.p, a.tiers, a.confs, fs, ist, np.int64(T), 0.75, 20_000.0,
                           K.PH_OPEN, 0, 0)
    assert n == 0 and why == K.R_INVALID_INPUT


def test_limits_in_percent_follow_the_equity() -> None:
    a = risk_arrays(crypto_profile())
    fs, ist = K.new_state(a.p)
    assert K.daily_loss_limit(a.p, fs) == pytest.approx(30.0)       # 3 % of 1,000
    fs[K.F_BALANCE] = fs[K.F_PEAK_BAL] = 2000.0
    K.on_day_start(a.p, fs, ist, 19_800)
    assert K.daily_loss_limit(a.p, fs) == pytest.approx(60.0)       # 3 % of the new day's 2,000
    assert K.account_dd_limit(a.p, fs) == pytest.approx(300.0)      # 15 % of the peak
    assert K.max_risk_per_trade(a.p, fs) == pytest.approx(20.0)
    assert a.p[K.P_KILL] == pytest.approx(250.0) and a.p[K.P_MIN_BAL] == pytest.approx(600.0)
    assert K.breached(a.p, fs, 1941.0) == 0
    assert K.breached(a.p, fs, 1940.0) & (1 << K.R_DAILY_LOSS)


def test_percent_brackets_are_whole_ticks_of_the_signal_close() -> None:
    sp = strategy_array(crypto_profile(), 60 * 10**9)
    c = np.array([40_000.0, 40_123.45])
    sd, td = S.bracket_distance(1, 1, c, c, c, np.zeros(0), sp, 0.01)
    assert sd == pytest.approx(200.62) and td == pytest.approx(300.93)   # 0.5 % / 0.75 %, ceil


def test_every_trade_pays_fees_by_notional_slippage_in_bps_and_impact() -> None:
    prof = crypto_profile(risk=LOOSE_PCT)
    bars = generate_crypto(4, seed=2)
    res = run_backtest(bars, random_signals(len(bars), seed=4, rate=0.01, confidence=0.75),
                       profile=prof)
    t = res.trades
    assert len(t) > 20
    q = t["quantity"].to_numpy()
    np.testing.assert_allclose(q, t["contracts"].to_numpy() * 1e-5)
    notional = q * t["entry_price"].to_numpy()
    assert (notional >= 5.0).all()
    fees = 0.001 * notional + 0.001 * q * t["exit_price"].to_numpy()     # maker = taker here
    np.testing.assert_allclose(t["commission"], fees, rtol=1e-9)
    # 1 bp each way (3 bp when the volatility breaker is on), plus impact on market fills.
    base = t["slippage"] - t["impact"]
    market_exit = (t["exit_reason"].astype(str) != "target").to_numpy()
    lo = 1e-4 * (notional + q * t["exit_price"].to_numpy() * market_exit)
    assert (base >= lo * (1 - 1e-9)).all() and (base <= 3 * lo * (1 + 1e-9)).all()
    assert (t["impact"] > 0).all()
    np.testing.assert_allclose(t["net_pnl"], t["gross_pnl"] - t["commission"] - t["slippage"],
                               atol=1e-9)
    for col in ("entry_price", "exit_price"):                      # reference prices on the grid
        ticks = t[col].to_numpy() / 0.01
        assert np.abs(ticks - np.round(ticks)).max() < 1e-6


def test_maker_fee_applies_to_targets_and_limit_entries() -> None:
    prof = crypto_profile(risk=LOOSE_PCT, costs={"maker_fee_pct": 0.02, "taker_fee_pct": 0.1},
                          strategy={"entry_order": "limit"})
    bars = generate_crypto(4, seed=5)
    t = run_backtest(bars, random_signals(len(bars), seed=1, rate=0.01, confidence=0.75),
                     profile=prof).trades
    q, en, ex = t["quantity"].to_numpy(), t["entry_price"].to_numpy(), t["exit_price"].to_numpy()
    target = (t["exit_reason"].astype(str) == "target").to_numpy()
    assert target.any() and (~target).any()
    want = 0.0002 * q * en + np.where(target, 0.0002, 0.001) * q * ex
    np.testing.assert_allclose(t["commission"], want, rtol=1e-9)


def test_risk_floor_with_fees_is_where_equity_touches_the_floor() -> None:
    a = risk_arrays(crypto_profile())
    fs, _ist = K.new_state(a.p)
    lots, entry, ecost = 2500, 40_000.0, 1.2
    lvl, why = K.floor_price(a.p, fs, 1, lots, entry, ecost)
    assert why != K.R_OK
    floor, _w = K.risk_floor(a.p, fs)
    eq = lambda px: fs[K.F_BALANCE] + K.open_pnl_net(a.p, 1.0, lots, entry, 0.0, px, ecost)  # noqa: E731
    assert eq(lvl) <= floor + 1e-6 < eq(lvl + 0.01)


def test_crypto_profiles_must_say_their_bracket_and_slippage_in_percent() -> None:
    raw = {k: dict(v) for k, v in BASE.items()}
    raw["strategy"] = {"bracket": "fixed"}
    raw["costs"] = {k: v for k, v in BASE["costs"].items() if k != "slippage_bps"}
    with pytest.raises(ConfigError) as e:
        profile_from_dict(raw, source="x.toml")
    text = "\n".join(e.value.problems)
    assert "strategy.stop_pct: missing" in text and "costs.slippage_bps: missing" in text
    fut = {k: dict(v) for k, v in BASE.items()}
    fut["profile"] = {"name": "f", "instrument": "MES"}
    with pytest.raises(ConfigError) as e:
        profile_from_dict(fut, source="f.toml")
    assert any("strategy.stop_pct: only for percentage-tick" in p for p in e.value.problems)


def test_percent_limits_are_checked_against_100() -> None:
    with pytest.raises(ConfigError) as e:
        crypto_profile(risk={"max_daily_loss": 150.0, "starting_balance": 50.0})
    assert any("risk.max_daily_loss: must be greater than 0 and below 100" in p
               for p in e.value.problems)


def test_triple_barrier_labels_use_the_percent_bracket() -> None:
    from core.labels import LabelSpec, make_labels

    f = generate_crypto(2, seed=4)
    spec = LabelSpec(kind="triple_barrier", lookahead_seconds=3600, stop_pct=0.3,
                     target_pct=0.45, session=None)
    lab, valid = make_labels(f, spec, tick_size=0.01)
    c, h, lo = (f[k].to_numpy() for k in ("close", "high", "low"))
    i = int(np.flatnonzero(valid & (lab == 1))[0])
    up = c[i] + np.ceil(0.0045 * c[i] / 0.01 - 1e-9) * 0.01
    dn = c[i] - np.ceil(0.003 * c[i] / 0.01 - 1e-9) * 0.01
    j = i + 1 + int(np.argmax((h[i + 1:] >= up - 1e-9) | (lo[i + 1:] <= dn + 1e-9)))
    assert h[j] >= up - 1e-9 and lo[j] > dn            # the target came first
    with pytest.raises(ConfigError, match="both"):
        make_labels(f, LabelSpec(kind="triple_barrier", stop_pct=0.3, session=None), 0.01)


def test_a_crypto_profile_trades_the_bars_own_pair() -> None:
    bars = generate_crypto(2, seed=6, symbol="ETHUSDT")
    res = run_backtest(bars, random_signals(len(bars), seed=2, rate=0.01, confidence=0.75),
                       profile=crypto_profile(risk=LOOSE_PCT))
    assert res.params["instrument"] == "ETHUSDT"
    assert any("trade these ETHUSDT bars" in n for n in res.params["notes"])
    q = res.trades["quantity"].to_numpy()
    assert len(q) and np.abs(q / 1e-4 - np.round(q / 1e-4)).max() < 1e-6    # ETH's lot size
