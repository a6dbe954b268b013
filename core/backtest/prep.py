"""Causal per-bar inputs of the loop: ATR, circuit-breaker bits, actions, small array helpers.

"Update indicators" of the per-bar event order, done in one compiled pass before the loop:
every value at bar i uses bars ≤ i only (no lookahead).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from core.risk import breakers
from core.strategy import steps


def atr_and_breakers(h: np.ndarray, lo_: np.ndarray, c: np.ndarray, v: np.ndarray, period: int,
                     p: np.ndarray, want_atr: bool) -> tuple[np.ndarray, np.ndarray]:
    """Wilder ATR(period) and breaker bits per bar: the live engine's per-bar breaker step
    (core.risk.breakers.step) run over the arrays."""
    return breakers.run_batch(h, lo_, c, v, period, p, want_atr)


@nb.njit(cache=True, nogil=True)
def first_not_increasing(ts: np.ndarray) -> int:
    """Index of the first timestamp not strictly after its predecessor, -1 if none."""
    for i in range(1, ts.shape[0]):
        if ts[i] <= ts[i - 1]:
            return i
    return -1


@nb.njit(cache=True, nogil=True)
def drawdown_of(eq: np.ndarray) -> np.ndarray:
    """Equity minus its running peak (≤ 0), in one pass."""
    out = np.empty_like(eq)
    peak = -np.inf
    for i in range(eq.shape[0]):
        if eq[i] > peak:
            peak = eq[i]
        out[i] = eq[i] - peak
    return out


def actions(direction: np.ndarray, conf: np.ndarray, min_conf: float) -> np.ndarray:
    """Per-bar loop action (core.strategy.steps.action_of over the arrays)."""
    return steps.actions(direction, conf, min_conf)
