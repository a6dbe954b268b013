"""The data's instrument prices the backtest (issue 11, found 3): ES bars under a MES profile
are worth $50 a point, not $5, with a note naming both; train and backtest agree."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.backtest import run_backtest
from core.backtest.synthetic import random_walk_bars
from core.config import load_profile
from core.strategy.builtin import random_signals


def _as(bars: pd.DataFrame, symbol: str) -> pd.DataFrame:
    out = bars.copy()
    out["symbol"] = symbol
    return out


def test_es_bars_under_a_mes_profile_are_priced_as_es() -> None:
    """Failed before: the ES run's gross P&L equalled the MES run's ($1.25 a tick)."""
    bars = random_walk_bars(390 * 3, seed=4, bar_seconds=60, sigma_ticks=3)
    prof = load_profile("topstep_50k_combine")
    sig = random_signals(len(bars), seed=2, rate=0.02, confidence=0.9)
    mes = run_backtest(_as(bars, "MES"), sig, profile=prof)
    es = run_backtest(_as(bars, "ESH4"), sig, profile=prof)
    assert len(mes.trades) and len(es.trades)
    t_mes, t_es = mes.trades.iloc[0], es.trades.iloc[0]
    move = (t_es["exit_price"] - t_es["entry_price"]) * t_es["direction"]
    # Gross P&L per contract per point: $50 for ES (was $5, the MES value).
    assert np.isclose(t_es["gross_pnl"] / t_es["contracts"], move * 50.0)
    assert es.params["instrument"] == "ES" and mes.params["instrument"] == "MES"
    note = " ".join(es.params["notes"])
    assert "ES" in note and "MES" in note and "$50" in note
    assert t_mes["gross_pnl"] / t_mes["contracts"] != t_es["gross_pnl"] / t_es["contracts"]


def test_train_prices_the_same_way() -> None:
    from core.backtest.engine import profile_for_bars

    prof = load_profile("demo")
    traded, note = profile_for_bars(prof, _as(random_walk_bars(10, bar_seconds=60), "ES"))
    assert traded.instrument == "ES" and note and "MES" in note
    same, none = profile_for_bars(prof, _as(random_walk_bars(10, bar_seconds=60), "MESZ3"))
    assert same.instrument == "MES" and none is None
