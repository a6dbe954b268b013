"""Backtesting: the compiled loop over bar arrays using core.risk, plus stats and reports.

``run_backtest(bars, signals, *, profile, bars_1s=None, seed=0)`` is the entry point
(core/backtest/engine.py); ``core.backtest.reference`` is the plain-Python twin the
differential test pins it to; ``core.backtest.baseline`` is the random-entry baseline.
"""

from core.backtest.engine import Ambiguity, BacktestResult, Signals, run_backtest

__all__ = ["Ambiguity", "BacktestResult", "Signals", "run_backtest"]
