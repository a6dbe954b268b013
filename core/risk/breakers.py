"""Circuit-breaker inputs as ONE per-bar step: Wilder ATR, its slow "normal", volume averages.

:func:`step` updates a small float state with one bar and returns (ATR, breaker bits); the
backtest runs it over arrays (:func:`run_batch`), the live engine calls it once per closed bar
(:func:`core.risk.RiskKernel.on_bar`) — the same compiled code, so both see the same flags bit
for bit. Breakers stay off during the warm-up (the "normal" level is unknown until then).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from core.risk.layout import JIT, JIT_ALLOC
from core.risk.sizing import breaker_bits

#: The "normal" ATR and the average volume are slow EMAs this many times the ATR period.
NORMAL_SPAN_MULT = 20

# state slots
BS_N, BS_ATR, BS_ATR_NORM, BS_VS, BS_VL, BS_PREV_C = range(6)
N_BS = 6


def new_state() -> np.ndarray:
    """Fresh breaker state (no bars seen)."""
    return np.zeros(N_BS, dtype=np.float64)


@nb.njit(**JIT)
def step(bs: np.ndarray, p: np.ndarray, period: int, h: float, lo: float, c: float,
         v: float) -> tuple[float, int]:
    """Consume one closed bar; return (ATR after it, breaker bits known at its close)."""
    a_fast = 1.0 / period
    a_slow = 2.0 / (period * NORMAL_SPAN_MULT + 1.0)
    a_vol = 2.0 / (period + 1.0)
    i = int(bs[BS_N])
    if i == 0:
        tr = h - lo
        bs[BS_ATR] = tr
        bs[BS_ATR_NORM] = tr
        bs[BS_VS] = v
        bs[BS_VL] = v
    else:
        pc = bs[BS_PREV_C]
        tr = max(h - lo, abs(h - pc), abs(lo - pc))
        bs[BS_ATR] += a_fast * (tr - bs[BS_ATR])
        bs[BS_ATR_NORM] += a_slow * (bs[BS_ATR] - bs[BS_ATR_NORM])
        bs[BS_VS] += a_vol * (v - bs[BS_VS])
        bs[BS_VL] += a_slow * (v - bs[BS_VL])
    bs[BS_PREV_C] = c
    bs[BS_N] = i + 1
    bits = 0
    if i >= period * NORMAL_SPAN_MULT:
        bits = breaker_bits(p, bs[BS_ATR], bs[BS_ATR_NORM], bs[BS_VS], bs[BS_VL])
    return bs[BS_ATR], bits


@nb.njit(**JIT_ALLOC)
def run_batch(h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, period: int,
              p: np.ndarray, want_atr: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`step` over every bar: (ATR per bar or an empty array, breaker bits per bar)."""
    n = h.shape[0]
    atr_out = np.zeros(n if want_atr else 0, dtype=np.float64)
    bits = np.zeros(n, dtype=np.int8)
    bs = np.zeros(N_BS, dtype=np.float64)
    for i in range(n):
        a, b = step(bs, p, period, h[i], lo[i], c[i], v[i])
        if want_atr:
            atr_out[i] = a
        bits[i] = b
    return atr_out, bits
