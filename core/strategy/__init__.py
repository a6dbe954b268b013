"""Strategies: predictions or rules → per-bar Signals (direction, confidence) for the backtest."""

from core.strategy.builtin import BUILTINS, random_signals, sma_cross_signals, builtin_signals

__all__ = ["BUILTINS", "random_signals", "sma_cross_signals", "builtin_signals"]
