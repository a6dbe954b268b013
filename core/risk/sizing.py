"""Compiled entry decision: circuit-breaker flags, sizing by tier × confidence, the entry check.

Order of the sizing arithmetic (requirements §7.1), fixed here once:

1. base = min(tier cap, ⌊risk budget ÷ (stop ticks × tick value)⌋), budget = balance × tier
   risk % capped at the max risk per trade;
2. × the confidence step's multiplier (0.5× … 2.0×), floored, then CAPPED by the tier cap,
   the hard/prop-firm cap and the max risk per trade;
3. × the reduction factor (end-of-day "halve new size", halving breakers) AFTER the cap —
   so halving always halves, even at the 2.0× step — floored. A size that rounds to 0 is a
   denial with its own reason ("size rounds to zero"), never a silent skip.

Units: sizes are whole LOTS. A lot is one contract for futures and ``lot_size`` base units
for crypto (0.00001 BTC), so "floored" means rounded DOWN to the exchange's lot size. The
per-lot tick value ``P_TICK_VALUE`` is the instrument's tick value × lot size; what depends on
the price for a percentage-tick instrument is the stop distance in ticks (a % of the price,
decided per entry by core.strategy.steps.bracket_distance) and the notional, which is why
:func:`check_entry` takes the entry's reference ``price``: the position value is capped at
``P_MAX_NOTIONAL`` × balance (step 2's caps), and an order worth less than ``P_MIN_NOTIONAL``
is refused ("below the minimum notional"). The max risk per trade is ``fixed + fraction ×
balance`` (limits in % of equity). Futures profiles have no notional rules: price is unused.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from core.risk.layout import (
    B_VOL_HALVE, B_VOL_PAUSE, B_VOLU_HALVE, B_VOLU_PAUSE, F_BALANCE, F_DAY_START_BAL,
    F_SPREAD_PAUSED, I_DAY_STOP, I_HALT, I_MANUAL_PAUSE, I_PAUSE_UNTIL, JIT,
    P_MAX_CONTRACTS, P_MAX_RISK_TRADE, P_MIN_BAL, P_MIN_CONF, P_REDUCE_FACTOR, P_TICK_VALUE,
    P_MAX_NOTIONAL, P_MIN_NOTIONAL, P_RISK_TRADE_FRAC, P_TICK_SIZE, R_MIN_NOTIONAL,
    P_TIERS_DAY_START, P_VOL_ACTION, P_VOL_MULT, P_VOLU_ACTION, P_VOLU_RATIO, PH_CLOSED,
    PH_NO_NEW, PH_REDUCE, R_BAD_STOP, R_CONTRACT_CAP, R_INVALID_INPUT, R_LOSS_PAUSE,
    R_LOW_CONFIDENCE, R_MANUAL_PAUSE, R_MIN_BALANCE, R_NO_NEW_ENTRIES, R_OK,
    R_OUTSIDE_HOURS, R_SIZE_ZERO, R_SPREAD_PAUSE, R_VOLATILITY_PAUSE, R_VOLUME_PAUSE,
)
from core.risk.limits import breached, record_breaches


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def breaker_bits(p: np.ndarray, atr: float, atr_normal: float, volume: float,
                 volume_avg: float) -> int:
    """Circuit-breaker flags: ATR > k × its normal; volume < ratio × its average."""
    bits = 0
    if atr_normal > 0 and atr > p[P_VOL_MULT] * atr_normal:
        bits |= B_VOL_PAUSE if p[P_VOL_ACTION] > 0 else B_VOL_HALVE
    if volume_avg > 0 and volume < p[P_VOLU_RATIO] * volume_avg:
        bits |= B_VOLU_PAUSE if p[P_VOLU_ACTION] > 0 else B_VOLU_HALVE
    return bits


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def tier_index(p: np.ndarray, tiers: np.ndarray, fs: np.ndarray) -> int:
    """Row of the balance tier in force (−1 below the lowest tier).

    The balance is the day's starting balance when the profile sizes by it (XFA scaling),
    else the current balance.
    """
    bal = fs[F_DAY_START_BAL] if p[P_TIERS_DAY_START] > 0 else fs[F_BALANCE]
    k = -1
    for r in range(tiers.shape[0]):
        if bal >= tiers[r, 0]:
            k = r
    return k


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def contract_cap(p: np.ndarray, tiers: np.ndarray, fs: np.ndarray) -> int:
    """Largest allowed position: the balance tier's cap within the hard/prop-firm cap (0: none)."""
    k = tier_index(p, tiers, fs)
    if k < 0:
        return 0
    return int(min(tiers[k, 1], p[P_MAX_CONTRACTS]))


@nb.njit(**JIT)
def max_risk_per_trade(p: np.ndarray, fs: np.ndarray) -> float:
    """The most one trade may risk, in $: fixed, or a fraction of the balance."""
    return p[P_MAX_RISK_TRADE] + p[P_RISK_TRADE_FRAC] * fs[F_BALANCE]


@nb.njit(**JIT)
def notional_cap(p: np.ndarray, fs: np.ndarray, price: float) -> float:
    """Most lots whose value at ``price`` stays within ``P_MAX_NOTIONAL`` × balance (inf: none)."""
    if not p[P_MAX_NOTIONAL] > 0 or not price > 0:
        return np.inf
    per_lot = price * p[P_TICK_VALUE] / p[P_TICK_SIZE]
    return float(math.floor(p[P_MAX_NOTIONAL] * fs[F_BALANCE] / per_lot + 1e-9))


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def position_size(p: np.ndarray, tiers: np.ndarray, confs: np.ndarray, fs: np.ndarray,
                  confidence: float, stop_ticks: float, factor: float,
                  price: float = 0.0) -> int:
    """Lots for an entry (see the module docstring for the order of the arithmetic).

    Tiers rows: (min_balance, max_contracts, risk_pct); confs rows: (min_confidence, mult).
    ``price`` (the entry's reference price) is needed only for the notional cap.
    """
    if not stop_ticks > 0 or not confidence >= p[P_MIN_CONF]:
        return 0
    k = tier_index(p, tiers, fs)
    if k < 0:
        return 0
    cap = min(tiers[k, 1], p[P_MAX_CONTRACTS], notional_cap(p, fs, price))
    per_contract = stop_ticks * p[P_TICK_VALUE]
    mrt = max_risk_per_trade(p, fs)
    budget = min(fs[F_BALANCE] * tiers[k, 2], mrt)
    base = min(cap, math.floor(budget / per_contract + 1e-9))
    mult = 0.0
    for r in range(confs.shape[0]):
        if confidence >= confs[r, 0] - 1e-12:
            mult = confs[r, 1]
    if confs.shape[0] == 0:
        mult = 1.0
    n = math.floor(base * mult + 1e-9)
    n = min(n, cap, math.floor(mrt / per_contract + 1e-9))
    # Reductions apply AFTER the caps: halving must halve even at the 2.0× confidence step.
    n = math.floor(n * factor + 1e-9)
    return int(max(n, 0))


@nb.njit(inline="always", **JIT)   # hot path: no call overhead
def check_entry(p: np.ndarray, tiers: np.ndarray, confs: np.ndarray, fs: np.ndarray,
                ist: np.ndarray, ts: int, confidence: float, stop_ticks: float, phase: int,
                breakers: int, open_contracts: int, price: float = 0.0) -> tuple[int, int]:
    """Decide a new entry: (lots, reason). lots > 0 only with reason R_OK.

    ``open_contracts`` counts what is already on the account in this instrument's units —
    position plus working orders that could fill (Topstep counts the worst case) — and is
    subtracted from the contract cap. Invalid inputs (confidence outside [0, 1] or NaN, a
    non-finite stop, negative open contracts) are refused. Every floor is re-checked here
    against the realised equity, so a state that crossed a halting limit (even one restored
    from a snapshot) can never be approved. ``price`` is the entry's reference price: required
    (finite, > 0) where the instrument has notional rules (crypto), unused otherwise.
    """
    if not (confidence >= 0.0 and confidence <= 1.0) or open_contracts < 0 \
            or math.isnan(stop_ticks) or math.isinf(stop_ticks):
        return 0, R_INVALID_INPUT
    if (p[P_MIN_NOTIONAL] > 0 or p[P_MAX_NOTIONAL] > 0) \
            and not (price > 0 and not math.isinf(price)):
        return 0, R_INVALID_INPUT
    record_breaches(ist, breached(p, fs, fs[F_BALANCE]))
    if ist[I_HALT] != 0:
        return 0, int(ist[I_HALT])
    if ist[I_DAY_STOP] != 0:
        return 0, int(ist[I_DAY_STOP])
    if ist[I_MANUAL_PAUSE] != 0:
        return 0, R_MANUAL_PAUSE
    if fs[F_BALANCE] < p[P_MIN_BAL]:
        return 0, R_MIN_BALANCE
    if phase == PH_CLOSED:
        return 0, R_OUTSIDE_HOURS
    if phase >= PH_NO_NEW:
        return 0, R_NO_NEW_ENTRIES
    if ts < ist[I_PAUSE_UNTIL]:
        return 0, R_LOSS_PAUSE
    if fs[F_SPREAD_PAUSED] > 0:
        return 0, R_SPREAD_PAUSE
    if breakers & B_VOL_PAUSE:
        return 0, R_VOLATILITY_PAUSE
    if breakers & B_VOLU_PAUSE:
        return 0, R_VOLUME_PAUSE
    if confidence < p[P_MIN_CONF]:
        return 0, R_LOW_CONFIDENCE
    if stop_ticks <= 0:
        return 0, R_BAD_STOP
    factor = 1.0
    if phase == PH_REDUCE:
        factor *= p[P_REDUCE_FACTOR]
    if breakers & B_VOL_HALVE:
        factor *= 0.5
    if breakers & B_VOLU_HALVE:
        factor *= 0.5
    room = contract_cap(p, tiers, fs) - open_contracts
    if room <= 0:
        return 0, R_CONTRACT_CAP
    n = min(position_size(p, tiers, confs, fs, confidence, stop_ticks, factor, price), room)
    if n <= 0:
        return 0, R_SIZE_ZERO
    if p[P_MIN_NOTIONAL] > 0 and n * price * p[P_TICK_VALUE] / p[P_TICK_SIZE] \
            < p[P_MIN_NOTIONAL] - 1e-9:
        return 0, R_MIN_NOTIONAL
    return n, R_OK
