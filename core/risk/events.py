"""Risk-event detection as ONE step: what changed in the risk state since the last call.

:func:`step` compares the state with the previous call's copy (``prev``) and appends one row
``(bar or sequence number, reason code, balance)`` per new event to ``ev``: every halting limit
newly breached (each one: a loss that crosses the daily loss, the MLL and the kill switch at
once gives three events), every day-stop limit newly breached today, a new or extended
loss-streak pause, an operator pause, and the profit target once. The backtest loop calls it
after every bar it processes; the live engine after every risk input (the journal stores the
rows). ``prev`` is an int64 array of :data:`N_PREV` slots, zeros at the start.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from core.risk.layout import (
    F_BALANCE, I_BREACHES, I_DAY, I_DAY_BREACHES, I_MANUAL_PAUSE, I_PAUSE_UNTIL,
    I_TARGET_HIT, JIT, N_REASONS, P_PROFIT_TARGET, P_START_BAL, R_LOSS_PAUSE, R_MANUAL_PAUSE,
    R_PROFIT_TARGET,
)

PV_BREACHES, PV_DAY_BREACHES, PV_PAUSE_UNTIL, PV_MANUAL, PV_DAY = range(5)
N_PREV = 5


def new_prev() -> np.ndarray:
    """The ``prev`` array of a fresh run."""
    return np.zeros(N_PREV, dtype=np.int64)


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def _add(ev: np.ndarray, cnt: np.ndarray, slot: int, at: int, code: int, bal: float) -> None:
    k = cnt[slot]
    if k < ev.shape[0]:
        ev[k, 0] = at
        ev[k, 1] = code
        ev[k, 2] = bal
        cnt[slot] = k + 1


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def step(at: int, p: np.ndarray, fs: np.ndarray, ist: np.ndarray, prev: np.ndarray,
         ev: np.ndarray, cnt: np.ndarray, slot: int) -> None:
    """Append the events since the last call to ``ev`` (``cnt[slot]`` rows used so far)."""
    bal = fs[F_BALANCE]
    new = ist[I_BREACHES] & ~prev[PV_BREACHES]
    if prev[PV_DAY] != ist[I_DAY]:
        prev[PV_DAY] = ist[I_DAY]
        prev[PV_DAY_BREACHES] = 0
    new_day = ist[I_DAY_BREACHES] & ~prev[PV_DAY_BREACHES]
    if new | new_day:
        for r in range(N_REASONS):
            if (new_day >> r) & 1:
                _add(ev, cnt, slot, at, r, bal)
        for r in range(N_REASONS):
            if (new >> r) & 1:
                _add(ev, cnt, slot, at, r, bal)
    prev[PV_BREACHES] = ist[I_BREACHES]
    prev[PV_DAY_BREACHES] = ist[I_DAY_BREACHES]
    if ist[I_PAUSE_UNTIL] != prev[PV_PAUSE_UNTIL]:
        if ist[I_PAUSE_UNTIL] > prev[PV_PAUSE_UNTIL]:
            _add(ev, cnt, slot, at, R_LOSS_PAUSE, bal)
        prev[PV_PAUSE_UNTIL] = ist[I_PAUSE_UNTIL]
    if ist[I_MANUAL_PAUSE] != prev[PV_MANUAL]:
        if ist[I_MANUAL_PAUSE] != 0:
            _add(ev, cnt, slot, at, R_MANUAL_PAUSE, bal)
        prev[PV_MANUAL] = ist[I_MANUAL_PAUSE]
    if (p[P_PROFIT_TARGET] > 0 and ist[I_TARGET_HIT] == 0
            and bal - p[P_START_BAL] >= p[P_PROFIT_TARGET]):
        ist[I_TARGET_HIT] = 1
        _add(ev, cnt, slot, at, R_PROFIT_TARGET, bal)
