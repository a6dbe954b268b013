"""The strategy's per-bar decision steps, compiled once for the backtest and the live engine.

* :func:`action_of` — a bar's signal (direction, confidence) → an action: ±1 enter/reverse
  that way, 2 go flat, 0 nothing (the confidence gate: below ``risk.min_confidence`` a signal
  is nothing; :func:`actions` runs it over arrays).
* :func:`decide` — the action against the position: ENTRY, EXIT, REVERSE or nothing, with the
  cooldown after an exit and the ``strategy.on_opposite`` convention.
* :func:`bracket_distance` — stop and target distances decided at the signal bar's close
  (fixed ticks — or, for percentage-tick instruments such as crypto, a % of that close —, ATR
  multiple or the recent swing), in whole ticks ≥ 1.
* :func:`bracket_levels` — the stop and target prices around the entry, anchored at the
  reference price or at the fill (``strategy.bracket_anchor``), on the tick grid.

The backtest loop (core/backtest/loop.py) calls these per bar; the live engine calls the same
functions when a bar closes. Settings arrive as the ``sp`` vector (slots ``SP_*`` below, built
from the profile by core/backtest/engine.strategy_array).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# Steps never allocate: compiled without the refcounting runtime (see core.risk.layout.JIT).
_JIT = {"cache": True, "nogil": True, "_nrt": False}
_JIT_ALLOC = {"cache": True, "nogil": True}

# strategy / fill parameters sp[...]
SP_BRACKET = 0            # 0 fixed, 1 atr, 2 structure
SP_STOP_TICKS = 1
SP_TARGET_TICKS = 2
SP_ATR_MULT = 3
SP_LOOKBACK = 4           # swing lookback (bars) of the structure bracket
SP_BE_TICKS = 5           # breakeven after this many ticks of profit; < 0 = off
SP_TIME_STOP_NS = 6       # <= 0 = off
SP_ENTRY_LIMIT = 7        # 1: limit entry at the signal close (valid one bar)
SP_COOLDOWN = 8           # bars after an exit before a new entry (0: the exit bar's own signal)
SP_OPPOSITE = 9           # OPP_*: what an opposite signal does while in a position
SP_FILL_MODE = 10         # 0 conservative, 1 optimistic, 2 realistic
SP_SLIP_MODEL = 11        # 0 fixed, 1 session, 2 volatility
SP_SAME_BAR = 12          # 0 pessimistic, 1 optimistic, 2 resolve
SP_SLIP_RTH = 13
SP_SLIP_ETH = 14
SP_SLIP_VOL = 15
SP_SLIP_LIMIT = 16
SP_BAR_NS = 17
SP_STOP_FILL = 18         # 0 stop-market (slippage), 1 at the stop price
SP_ANCHOR = 19            # 0 reference price, 1 fill price
SP_CONTINUOUS = 20        # 1: 24/7 sessions — positions carry across the daily cut
SP_PCT = 21               # 1: percentage-tick instrument: SP_SLIP_* in bps, bracket in % below
SP_STOP_PCT = 22          # fixed bracket's stop, % of the signal bar's close (SP_PCT = 1)
SP_TARGET_PCT = 23        # fixed bracket's target, % of the signal bar's close
SP_IMPACT_BPS = 24        # market impact: bps of price at full participation (√ of qty ÷ volume)
N_SP = 25

OPP_IGNORE, OPP_EXIT, OPP_REVERSE = 0, 1, 2
OPPOSITE_NAMES = ("ignore", "exit", "reverse")

# actions and decisions
ACT_NONE, ACT_FLAT = 0, 2
PK_NONE, PK_ENTRY, PK_EXIT, PK_REVERSE = 0, 1, 2, 3


@nb.njit(**_JIT)
def action_of(direction: int, confidence: float, min_conf: float) -> int:
    """±1 enter (or reverse) that way, 2 go flat, 0 nothing (below the confidence floor)."""
    if confidence >= min_conf - 1e-12:
        if direction == 0:
            return ACT_FLAT
        return 1 if direction > 0 else -1
    return ACT_NONE


@nb.njit(**_JIT_ALLOC)
def actions(direction: np.ndarray, conf: np.ndarray, min_conf: float) -> np.ndarray:
    """:func:`action_of` over every bar (int8)."""
    n = direction.shape[0]
    out = np.zeros(n, dtype=np.int8)
    for i in range(n):
        out[i] = action_of(direction[i], conf[i], min_conf)
    return out


@nb.njit(**_JIT)
def decide(pos_dir: int, action: int, bars_since_exit: int, cooldown: int,
           on_opposite: int) -> int:
    """What a bar's action means for the position: ``PK_*``.

    Flat: an entry signal enters once ``bars_since_exit ≥ cooldown`` (0: even on the exit
    bar's own signal). In a position: a flat signal exits; an opposite signal exits, reverses
    or is ignored per ``on_opposite``; a same-side signal adds nothing (no duplicate entries).
    """
    if action == ACT_NONE:
        return PK_NONE
    if pos_dir == 0:
        if (action == 1 or action == -1) and bars_since_exit >= cooldown:
            return PK_ENTRY
        return PK_NONE
    if action == ACT_FLAT:
        return PK_EXIT
    if action == -pos_dir:
        if on_opposite == OPP_REVERSE:
            return PK_REVERSE
        if on_opposite == OPP_EXIT:
            return PK_EXIT
    return PK_NONE


@nb.njit(**_JIT)
def bracket_distance(i: int, d: int, c: np.ndarray, h: np.ndarray, lo_: np.ndarray,
                     atr: np.ndarray, sp: np.ndarray, tick: float) -> tuple[float, float]:
    """Stop and target distances (price units, whole ticks ≥ 1) decided at bar ``i``'s close.

    Fixed: ``stop_ticks`` (percentage-tick instruments: ``stop_pct`` and ``target_pct`` of the
    close, each rounded up to whole ticks). ATR: ``atr_multiple × ATR`` rounded up. Structure:
    beyond the lowest low (long) / highest high (short) of the last ``atr_period`` bars plus
    one tick. The target keeps the profile's target:stop ratio. Bars ≤ i only (causal).
    """
    pct = sp[SP_PCT] > 0
    ratio = (sp[SP_TARGET_PCT] / sp[SP_STOP_PCT] if pct
             else sp[SP_TARGET_TICKS] / sp[SP_STOP_TICKS])
    b = sp[SP_BRACKET]
    if b == 0 and pct:
        st = max(1.0, math.ceil(sp[SP_STOP_PCT] * 0.01 * c[i] / tick - 1e-9))
        tt = max(1.0, math.ceil(sp[SP_TARGET_PCT] * 0.01 * c[i] / tick - 1e-9))
        return st * tick, tt * tick
    if b == 1 and atr.shape[0] > 0 and atr[i] > 0:
        st = max(1.0, math.ceil(sp[SP_ATR_MULT] * atr[i] / tick - 1e-9))
    elif b == 2:
        lb = int(sp[SP_LOOKBACK])
        j0 = max(0, i - lb + 1)
        if d > 0:
            ext = lo_[j0]
            for j in range(j0, i + 1):
                ext = min(ext, lo_[j])
            st = max(1.0, math.ceil((c[i] - ext) / tick - 1e-9) + 1.0)
        else:
            ext = h[j0]
            for j in range(j0, i + 1):
                ext = max(ext, h[j])
            st = max(1.0, math.ceil((ext - c[i]) / tick - 1e-9) + 1.0)
    else:
        st = sp[SP_STOP_TICKS]
    tt = max(1.0, math.ceil(st * ratio - 1e-9))
    return st * tick, tt * tick


@nb.njit(**_JIT)
def bracket_levels(sp: np.ndarray, d: float, ref: float, entry_slip_ticks: float,
                   stop_dist: float, target_dist: float, tick: float) -> tuple[float, float]:
    """(stop, target) prices of an entry at reference price ``ref`` (before slippage).

    Anchored at ``ref`` or, with ``bracket_anchor = "fill"``, at the actual fill
    (``ref`` moved against us by the entry slippage), rounded to the tick grid.
    """
    base = ref
    if sp[SP_ANCHOR] > 0:
        base = ref + d * entry_slip_ticks * tick
        base = round(base / tick) * tick
    return base - d * stop_dist, base + d * target_dist


@nb.njit(**_JIT)
def time_stop_due(sp: np.ndarray, entry_ts: int, now_ts: int) -> bool:
    """The time stop: a position held ``time_stop_minutes`` exits at the next market price."""
    te = sp[SP_TIME_STOP_NS]
    return te > 0 and now_ts - entry_ts >= np.int64(te)


@nb.njit(**_JIT)
def breakeven_stop(sp: np.ndarray, d: float, entry: float, best: float, stop: float,
                   tick: float) -> float:
    """The stop after the breakeven trail: moved to the entry once the position has been
    ``breakeven_after_ticks`` in profit (``best`` = highest high long / lowest low short);
    never moved back."""
    be = sp[SP_BE_TICKS]
    if be < 0:
        return stop
    if d > 0 and best - entry >= be * tick - 1e-9:
        return max(stop, entry)
    if d < 0 and entry - best >= be * tick - 1e-9:
        return min(stop, entry)
    return stop
