"""Causal per-bar inputs of the loop: ATR, circuit-breaker bits, RTH flags, schedule rows.

"Update indicators" of the per-bar event order, done in one compiled pass before the loop:
every value at bar i uses bars ≤ i only (no lookahead).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from core.risk import kernel as K

#: The "normal" ATR and the average volume are slow EMAs this many times the ATR period.
NORMAL_SPAN_MULT = 20


@nb.njit(cache=True, nogil=True)
def atr_and_breakers(h: np.ndarray, lo_: np.ndarray, c: np.ndarray, v: np.ndarray, period: int,
                     p: np.ndarray, want_atr: bool) -> tuple[np.ndarray, np.ndarray]:
    """Wilder ATR(period) and breaker bits per bar (volatility vs slow ATR, volume vs slow avg).

    Breakers stay off during the warm-up (the "normal" level is unknown until then).
    """
    n = h.shape[0]
    atr_out = np.zeros(n if want_atr else 0, dtype=np.float64)
    bits = np.zeros(n, dtype=np.int8)
    a_fast = 1.0 / period
    a_slow = 2.0 / (period * NORMAL_SPAN_MULT + 1.0)
    a_vol = 2.0 / (period + 1.0)
    warm = period * NORMAL_SPAN_MULT
    atr = 0.0
    atr_norm = 0.0
    vs = 0.0
    vl = 0.0
    for i in range(n):
        if i == 0:
            tr = h[0] - lo_[0]
            atr = tr
            atr_norm = tr
            vs = v[0]
            vl = v[0]
        else:
            pc = c[i - 1]
            tr = max(h[i] - lo_[i], abs(h[i] - pc), abs(lo_[i] - pc))
            atr += a_fast * (tr - atr)
            atr_norm += a_slow * (atr - atr_norm)
            vs += a_vol * (v[i] - vs)
            vl += a_slow * (v[i] - vl)
        if want_atr:
            atr_out[i] = atr
        if i >= warm:
            bits[i] = K.breaker_bits(p, atr, atr_norm, vs, vl)
    return atr_out, bits


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


@nb.njit(cache=True, nogil=True)
def actions(direction: np.ndarray, conf: np.ndarray, min_conf: float) -> np.ndarray:
    """Per-bar loop action: ±1 entry/reverse, 2 flat (exit), 0 nothing (below min confidence)."""
    n = direction.shape[0]
    out = np.zeros(n, dtype=np.int8)
    for i in range(n):
        if conf[i] >= min_conf - 1e-12:
            d = direction[i]
            out[i] = 2 if d == 0 else (1 if d > 0 else -1)
    return out
