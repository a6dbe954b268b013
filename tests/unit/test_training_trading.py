"""The bracket evaluation charges exactly commission + slippage and exits pessimistically."""

from __future__ import annotations

import numpy as np
import pytest

from core.training.trading import BracketSpec, signals_from_proba, simulate_trades, trading_metrics

S = 1_000_000_000
SPEC = BracketSpec(stop_ticks=8, target_ticks=12, time_stop_ns=10 * S, tick_size=0.25,
                   tick_value=1.25, commission=0.84, slippage_rth=1.0, slippage_eth=2.0)


def _bars(rows: list[tuple[float, float, float, float]], seg: list[int] | None = None) -> dict:
    a = np.asarray(rows, dtype=float)
    n = len(a)
    return {"open": a[:, 0], "high": a[:, 1], "low": a[:, 2], "close": a[:, 3],
            "ts": np.arange(n, dtype=np.int64) * S,
            "seg": np.asarray(seg if seg else [0] * n, dtype=np.int64), "rth": np.ones(n, bool)}


def _one(bars: dict, direction: int = 1) -> dict:
    sig = np.zeros(len(bars["open"]), dtype=np.int64)
    sig[0] = direction
    t = simulate_trades(bars, sig, SPEC)
    assert len(t["net"]) == 1
    return {k: v[0] for k, v in t.items()}


def test_target_is_a_limit_fill_with_entry_slippage_only() -> None:
    # Entry at bar 1 open 100 + 1 tick slippage = 100.25; target 12 ticks above = 103.25.
    t = _one(_bars([(100, 100, 100, 100), (100, 100.5, 99.75, 100.25), (100.5, 103.5, 100.25, 103)]))
    assert t["reason"] == 0
    assert t["net"] == pytest.approx(12 * 1.25 - 0.84)  # exactly target minus commission
    assert t["cost"] == pytest.approx(1 * 1.25 + 0.84)


def test_stop_and_target_in_one_bar_is_the_stop() -> None:
    t = _one(_bars([(100, 100, 100, 100), (100, 100.25, 100, 100), (100, 104, 97, 100)]))
    assert t["reason"] == 1
    # Stop 8 ticks below the slipped entry, plus 1 tick exit slippage and commission.
    assert t["net"] == pytest.approx(-(8 + 1) * 1.25 - 0.84)


def test_short_gap_through_stop_fills_at_the_open() -> None:
    t = _one(_bars([(100, 100, 100, 100), (100, 100, 99.75, 100), (105, 105, 104, 104.5)]), -1)
    assert t["reason"] == 1
    # Short entry 99.75 (100 − 1 tick); gap open 105 → fill 105 + 1 tick.
    assert t["net"] == pytest.approx(-(105.25 - 99.75) / 0.25 * 1.25 - 0.84)


def test_time_stop_and_session_end() -> None:
    flat = [(100, 100.25, 99.75, 100)] * 15
    t = _one(_bars(flat))
    assert t["reason"] == 2  # 10 s time stop, market exit with slippage both ways
    assert t["net"] == pytest.approx(-2 * 1.25 - 0.84)
    t = _one(_bars(flat[:5], seg=[0, 0, 0, 1, 1]))
    assert t["reason"] == 3


def test_metrics_baseline_and_signals() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    close = 100 + np.cumsum(rng.choice([-0.25, 0, 0.25], size=n))
    bars = {"open": close, "high": close + 0.25, "low": close - 0.25, "close": close,
            "ts": np.arange(n, dtype=np.int64) * S, "seg": np.zeros(n, np.int64),
            "rth": np.ones(n, bool)}
    sig = rng.choice([-1, 0, 0, 0, 1], size=n)
    m = trading_metrics(bars, sig, SPEC)
    assert m.trades > 100 and m.counts
    assert m.expectancy < m.expectancy_gross  # costs are charged
    assert np.isfinite(m.baseline_expectancy) and sum(m.by_exit.values()) == m.trades
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.1, 0.25, 0.65]])
    d, c = signals_from_proba(proba, np.array([-1, 0, 1]), 0.6)
    assert d.tolist() == [-1, 0, 1] and c.tolist() == [0.7, 0.0, 0.65]   # below the floor: no signal
