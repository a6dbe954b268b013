"""The capital table: the same signals at several starting capitals, minimum-notional edge
cases at the exact boundary, the notional cap, impact growing with size, $-profile scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.capital import capital_table, parse_capitals, scale_profile
from core.config import ConfigError, load_profile
from core.datasets.schema import make_frame
from core.datasets.synth_crypto import generate_crypto
from core.strategy import random_signals
from core.strategy.signals import Signals
from tests.unit.crypto_fixtures import LOOSE_PCT, crypto_profile


def flat_bars(days: int = 2, price: float = 50_000.0) -> pd.DataFrame:
    """Constant-price one-minute BTCUSDT bars: every entry fills at exactly ``price``."""
    n = days * 1440
    ts = pd.Timestamp("2024-03-09", tz="UTC").value + np.arange(n, dtype=np.int64) * 60 * 10**9
    px = np.full(n, price)
    return make_frame(ts, px, px + 0.5, px - 0.5, px, np.full(n, 10.0), "BTCUSDT")


def every(n: int, k: int, conf: float = 0.75) -> Signals:
    d = np.zeros(n, np.int8)
    d[::k] = 1
    d[0] = 0
    return Signals(direction=d, confidence=np.where(d != 0, conf, 0.0), name="every")


def test_minimum_notional_boundary_is_inclusive() -> None:
    # At 50,000 one lot (0.00001 BTC) is worth $0.50. A 20 % stop risks $0.10 a lot; 1 % of
    # $100 buys exactly 10 lots = $5.00, the minimum: allowed. $99.99 buys 9 lots = $4.50.
    bars = flat_bars()
    sig = every(len(bars), 120)
    free = {"maker_fee_pct": 0.0, "taker_fee_pct": 0.0, "slippage_bps": 0.0,
            "slippage_bps_volatile": 0.0, "impact_bps": 0.0}   # the balance stays exactly put
    prof = crypto_profile(risk=LOOSE_PCT, costs=free,
                          strategy={"stop_pct": 20.0, "target_pct": 30.0, "time_stop_minutes": 30.0})
    tab = capital_table(bars, sig, prof, [99.99, 100.0]).frame.set_index("capital")
    entries = int((sig.direction != 0).sum())
    assert tab.loc[99.99, "trades"] == 0 and tab.loc[99.99, "skipped_min_size"] == entries
    assert tab.loc[99.99, "verdict"] == "too few trades"
    assert tab.loc[100.0, "trades"] == entries and tab.loc[100.0, "skipped_min_size"] == 0


def test_trades_below_one_lot_count_as_skipped_too() -> None:
    bars = flat_bars()
    sig = every(len(bars), 240)
    prof = crypto_profile(risk=dict(LOOSE_PCT, max_risk_per_trade=0.01),
                          strategy={"stop_pct": 49.0, "target_pct": 60.0})
    row = capital_table(bars, sig, prof, [10.0]).frame.iloc[0]
    assert row["trades"] == 0 and row["skipped_min_size"] == int((sig.direction != 0).sum())


def test_position_value_never_exceeds_the_balance_and_costs_add_up() -> None:
    bars = flat_bars()
    sig = every(len(bars), 120)
    prof = crypto_profile(risk=LOOSE_PCT, strategy={"stop_pct": 0.5, "target_pct": 0.75,
                                                    "time_stop_minutes": 30.0},
                          costs={"impact_bps": 0.0})
    from core.backtest import run_backtest
    from core.backtest.capital import scale_profile as scale
    for cap in (100.0, 1000.0):
        t = run_backtest(bars, sig, profile=scale(prof, cap)).trades
        notional = (t["quantity"] * t["entry_price"]).to_numpy()
        balance = cap + np.r_[0.0, np.cumsum(t["net_pnl"].to_numpy())[:-1]]
        # 100 % of the balance before the trade, rounded down to a lot ($0.50 at 50,000)
        assert (notional <= balance + 1e-9).all() and (notional > balance - 0.5).all()
    tab = capital_table(bars, sig, prof, [100.0, 1000.0]).frame
    # Flat prices: every trade loses exactly its fees (0.1 % × 2) and slippage (1 bp × 2).
    for _, r in tab.iterrows():
        assert r["fees"] == pytest.approx(10 * r["slippage"], rel=1e-9)   # 0.2 % vs 2 bp
        assert r["net_pnl"] == pytest.approx(-(r["fees"] + r["slippage"]), rel=1e-9)
        assert r["fees"] / r["trades"] == pytest.approx(0.002 * r["capital"], rel=0.05)
        assert r["return_pct"] == pytest.approx(100 * r["net_pnl"] / r["capital"])


def test_market_impact_grows_with_the_order_size() -> None:
    bars = generate_crypto(3, seed=8)
    sig = random_signals(len(bars), seed=8, rate=0.01, confidence=0.75)
    tab = capital_table(bars, sig, crypto_profile(risk=LOOSE_PCT),
                        [1000.0, 100_000.0]).frame.set_index("capital")
    share = tab["impact"] / (tab["fees"] + tab["slippage"])
    assert share.loc[100_000.0] > 5 * share.loc[1000.0] > 0


def test_dollar_profiles_scale_their_limits_and_topstep_is_refused() -> None:
    p = scale_profile(load_profile("account_1k"), 2000.0)
    assert (p.risk.starting_balance, p.risk.max_daily_loss, p.risk.min_balance) == (2000, 100, 1400)
    assert [t.min_balance for t in p.risk.size_tiers][:2] == [1400.0, 2000.0]
    assert scale_profile(crypto_profile(), 5000.0).risk.max_daily_loss == 3.0   # % stays %
    with pytest.raises(ConfigError, match="account size"):
        scale_profile(load_profile("topstep_50k_combine"), 1000.0)


def test_parse_capitals() -> None:
    assert parse_capitals("100,1000, 10k,1e5,100") == [100.0, 1000.0, 10_000.0, 100_000.0]
    for bad in ("", "abc", "-5", "0", "1e12"):
        with pytest.raises(ConfigError):
            parse_capitals(bad)
