"""Built-in signal generators: random entries (the honest baseline) and an SMA cross.

Both are causal (the signal at bar i uses bars ≤ i) and return
:class:`core.backtest.engine.Signals` aligned with the bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.strategy.signals import Signals
from core.errors import ConfigError

BUILTINS = ("random", "sma-cross")


def random_signals(n: int, *, seed: int = 0, rate: float = 0.01, confidence: float = 0.75,
                   name: str | None = None) -> Signals:
    """Random long/short entries on a fraction ``rate`` of the bars (no information at all).

    Args:
        n: Number of bars.
        seed: RNG seed (same seed → same signals).
        rate: Probability that a bar carries an entry signal.
        confidence: Confidence given to every signal (0.75 → the 1.0× size step).
    """
    rng = np.random.default_rng(seed)
    hit = rng.random(n) < rate
    side = np.where(rng.random(n) < 0.5, -1, 1).astype(np.int8)
    d = np.where(hit, side, 0).astype(np.int8)
    cf = np.where(hit, confidence, 0.0)
    return Signals(direction=d, confidence=cf, name=name or f"random(seed={seed}, rate={rate})")


def _sma(x: np.ndarray, k: int) -> np.ndarray:
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.full(len(x), np.nan)
    if len(x) >= k:
        out[k - 1:] = (c[k:] - c[:-k]) / k
    return out


def sma_cross_signals(bars: pd.DataFrame, *, fast: int = 20, slow: int = 100,
                      confidence: float = 0.75) -> Signals:
    """Long when the fast SMA of closes crosses above the slow one, short when below.

    A signal fires only on the crossing bar (so positions follow the trend changes).
    """
    if fast <= 0 or slow <= fast:
        raise ConfigError(f"sma-cross: need 0 < fast < slow, got fast={fast}, slow={slow}",
                          hint="for example --fast 20 --slow 100")
    c = bars["close"].to_numpy(np.float64)
    f, s = _sma(c, fast), _sma(c, slow)
    side = np.sign(np.nan_to_num(f - s)).astype(np.int8)
    prev = np.concatenate([[0], side[:-1]]).astype(np.int8)
    d = np.where((side != prev) & (side != 0), side, 0).astype(np.int8)
    cf = np.where(d != 0, confidence, 0.0)
    return Signals(direction=d, confidence=cf, name=f"sma-cross({fast},{slow})")


def builtin_signals(name: str, bars: pd.DataFrame, *, seed: int = 0) -> Signals:
    """Signals of the built-in strategy ``name`` (``random`` or ``sma-cross``)."""
    if name == "random":
        return random_signals(len(bars), seed=seed)
    if name == "sma-cross":
        return sma_cross_signals(bars)
    raise ConfigError(f"unknown built-in strategy {name!r}",
                      hint=f"use one of: {', '.join(BUILTINS)}")
