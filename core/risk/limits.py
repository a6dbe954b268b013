"""Compiled account limits: the day roll, every floor, trade booking, the state machine.

Money conventions: ``balance`` is realised equity after costs. "Equity" is balance plus the
open position's P&L net of its round-trip commission and the entry's slippage (what an exit
at that price would realise before exit slippage): the daily-loss, drawdown, MLL and
kill-switch limits are all checked against it.

Every floor is checked ON ITS OWN at every mark, trade close and entry check (one loss may
cross several floors at once — e.g. the daily loss, Topstep's trailing MLL and the kill
switch — and each is recorded: a halting breach is never hidden behind a day stop).

Limits in % of equity (``risk.limits_unit = "percent"``): each limit is ``fixed + fraction ×
base`` — the daily loss and drawdown of the day's starting balance, the account drawdown of
the peak balance (:func:`daily_loss_limit` …). Dollar profiles have fraction 0, percent
profiles fixed 0; one formula, so the same compiled rules serve both.

Fees (crypto): a percentage of the notional per side. Equity counts the entry fee already
paid and, like the commission, the exit fee a market exit at the mark price would pay.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from core.risk.layout import (
    B_VOL_PAUSE, B_VOLU_HALVE, B_VOLU_PAUSE, B_VOL_HALVE, F_BALANCE, F_BEST_DAY,
    F_DAY_PEAK_EQ, F_DAY_START_BAL, F_EOD_HIGH, F_LAST_EQUITY, F_MLL_LEVEL, F_PEAK_BAL,
    F_SPREAD_PAUSED, I_BREACHES, I_CONSEC_LOSSES, I_DAY, I_DAY_BREACHES, I_DAY_STOP, I_HALT,
    I_MANUAL_PAUSE, I_PAUSE_UNTIL, I_TRADES, INT_KILL, INT_PAUSE, INT_REARM, INT_RESUME,
    INT_REVIEWED, JIT, JIT_ALLOC, MODE_ACTIVE, MODE_HALTED, MODE_PAUSED, MODE_REDUCING, N_FSTATE,
    N_ISTATE, P_ACCT_DD, P_COMMISSION_RT, P_HAS_MLL, P_KILL, P_MAX_DAILY_DD,
    P_MAX_DAILY_LOSS, P_MLL, P_MLL_BUFFER, P_MLL_INTRADAY, P_MLL_LOCK, P_SPREAD_PAUSE, P_SPREAD_RESUME,
    P_START_BAL, P_TICK_SIZE, P_TICK_VALUE, P_TOPSTEP_DLL, PH_CLOSED, P_ACCT_DD_FRAC,
    P_DAILY_DD_FRAC, P_DAILY_LOSS_FRAC, P_FEE_TAKER, PH_EXIT, PH_FLAT,
    PH_NO_NEW, PH_OPEN, PH_REDUCE, R_ACCOUNT_DRAWDOWN, R_DAILY_DRAWDOWN, R_DAILY_LOSS,
    R_KILL_SWITCH, R_MANUAL_KILL, R_MLL, R_OK, R_TOPSTEP_DLL, S_ENTRY, S_EXIT, S_FLAT,
    S_NO_NEW, S_REDUCE,
)

_EPS = 1e-9
HALT_MASK = (1 << R_KILL_SWITCH) | (1 << R_MLL) | (1 << R_ACCOUNT_DRAWDOWN) | (1 << R_MANUAL_KILL)


@nb.njit(**JIT_ALLOC)
def new_state(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fresh state for an account at its starting balance."""
    fs = np.zeros(N_FSTATE, dtype=np.float64)
    ist = np.zeros(N_ISTATE, dtype=np.int64)
    b = p[P_START_BAL]
    fs[F_BALANCE] = b
    fs[F_PEAK_BAL] = b
    fs[F_DAY_START_BAL] = b
    fs[F_DAY_PEAK_EQ] = b
    fs[F_EOD_HIGH] = b
    fs[F_MLL_LEVEL] = min(b - p[P_MLL], p[P_MLL_LOCK]) if p[P_HAS_MLL] > 0 else -np.inf
    fs[F_LAST_EQUITY] = b
    ist[I_DAY] = -1
    return fs, ist


@nb.njit(**JIT)
def on_day_start(p: np.ndarray, fs: np.ndarray, ist: np.ndarray, day: int) -> None:
    """Roll the state to trading day ``day``: settle the previous day (EOD MLL trail, best day).

    Call it on the first event of every trading day. Topstep's MLL trails the highest
    END-OF-DAY balance upward only and stops at the lock (the starting balance). Day stops
    clear; halts, the operator pause and the loss streak carry over.
    """
    if ist[I_DAY] == day:
        return
    if ist[I_DAY] >= 0:
        bal = fs[F_BALANCE]
        profit = bal - fs[F_DAY_START_BAL]
        if profit > fs[F_BEST_DAY]:
            fs[F_BEST_DAY] = profit
        if bal > fs[F_EOD_HIGH]:
            fs[F_EOD_HIGH] = bal
        if p[P_HAS_MLL] > 0:
            lvl = min(fs[F_EOD_HIGH] - p[P_MLL], p[P_MLL_LOCK])
            if lvl > fs[F_MLL_LEVEL]:
                fs[F_MLL_LEVEL] = lvl
    ist[I_DAY] = day
    ist[I_DAY_STOP] = 0
    ist[I_DAY_BREACHES] = 0
    fs[F_DAY_START_BAL] = fs[F_BALANCE]
    fs[F_DAY_PEAK_EQ] = fs[F_BALANCE]


@nb.njit(**JIT)
def daily_loss_limit(p: np.ndarray, fs: np.ndarray) -> float:
    """Today's loss limit in $: fixed, or a fraction of the day's starting balance."""
    return p[P_MAX_DAILY_LOSS] + p[P_DAILY_LOSS_FRAC] * fs[F_DAY_START_BAL]


@nb.njit(**JIT)
def daily_dd_limit(p: np.ndarray, fs: np.ndarray) -> float:
    """Today's drawdown limit from the day's peak equity, in $."""
    return p[P_MAX_DAILY_DD] + p[P_DAILY_DD_FRAC] * fs[F_DAY_START_BAL]


@nb.njit(**JIT)
def account_dd_limit(p: np.ndarray, fs: np.ndarray) -> float:
    """The account drawdown stop's distance below the peak balance, in $."""
    return p[P_ACCT_DD] + p[P_ACCT_DD_FRAC] * fs[F_PEAK_BAL]


@nb.njit(**JIT)
def risk_floor(p: np.ndarray, fs: np.ndarray) -> tuple[float, int]:
    """The highest equity level whose touch breaches a limit, and that limit's reason code.

    Equity ≤ floor means: liquidate now. Used to place the synthetic risk stop; which limits
    were crossed is decided by :func:`breached` (all of them, not only this one).
    """
    best = -np.inf
    why = R_OK
    lvl = p[P_START_BAL] - p[P_KILL]
    if lvl > best:
        best, why = lvl, R_KILL_SWITCH
    # Liquidate a buffer ABOVE Topstep's MLL: the exit's slippage must not cross the real line.
    if p[P_HAS_MLL] > 0 and fs[F_MLL_LEVEL] + p[P_MLL_BUFFER] > best:
        best, why = fs[F_MLL_LEVEL] + p[P_MLL_BUFFER], R_MLL
    lvl = fs[F_PEAK_BAL] - account_dd_limit(p, fs)
    if lvl > best:
        best, why = lvl, R_ACCOUNT_DRAWDOWN
    lvl = fs[F_DAY_START_BAL] - daily_loss_limit(p, fs)
    if lvl > best:
        best, why = lvl, R_DAILY_LOSS
    if p[P_TOPSTEP_DLL] > 0:
        lvl = fs[F_DAY_START_BAL] - p[P_TOPSTEP_DLL]
        if lvl > best:
            best, why = lvl, R_TOPSTEP_DLL
    lvl = fs[F_DAY_PEAK_EQ] - daily_dd_limit(p, fs)
    if lvl > best:
        best, why = lvl, R_DAILY_DRAWDOWN
    return best, why


@nb.njit(**JIT)
def breached(p: np.ndarray, fs: np.ndarray, eq: float) -> int:
    """Bitmask (1 << reason) of EVERY limit whose floor equity ``eq`` is at or below."""
    bits = 0
    if eq <= p[P_START_BAL] - p[P_KILL] + _EPS:
        bits |= 1 << R_KILL_SWITCH
    if p[P_HAS_MLL] > 0 and eq <= fs[F_MLL_LEVEL] + p[P_MLL_BUFFER] + _EPS:
        bits |= 1 << R_MLL
    if eq <= fs[F_PEAK_BAL] - account_dd_limit(p, fs) + _EPS:
        bits |= 1 << R_ACCOUNT_DRAWDOWN
    if eq <= fs[F_DAY_START_BAL] - daily_loss_limit(p, fs) + _EPS:
        bits |= 1 << R_DAILY_LOSS
    if p[P_TOPSTEP_DLL] > 0 and eq <= fs[F_DAY_START_BAL] - p[P_TOPSTEP_DLL] + _EPS:
        bits |= 1 << R_TOPSTEP_DLL
    if eq <= fs[F_DAY_PEAK_EQ] - daily_dd_limit(p, fs) + _EPS:
        bits |= 1 << R_DAILY_DRAWDOWN
    return bits


@nb.njit(**JIT)
def halt_reason(bits: int) -> int:
    """The halt a breach mask stands for, in priority order (0: none)."""
    if bits & (1 << R_KILL_SWITCH):
        return R_KILL_SWITCH
    if bits & (1 << R_MLL):
        return R_MLL
    if bits & (1 << R_ACCOUNT_DRAWDOWN):
        return R_ACCOUNT_DRAWDOWN
    if bits & (1 << R_MANUAL_KILL):
        return R_MANUAL_KILL
    return R_OK


@nb.njit(**JIT)
def record_breaches(ist: np.ndarray, bits: int) -> None:
    """Record every breached limit: halts persist, day stops last until the next trading day."""
    if bits == 0:
        return
    hb = bits & HALT_MASK
    if hb:
        ist[I_BREACHES] |= hb
        ist[I_HALT] = halt_reason(ist[I_BREACHES])
    db = bits & ~HALT_MASK
    if db:
        ist[I_DAY_BREACHES] |= db
        if ist[I_DAY_STOP] == 0:
            if db & (1 << R_DAILY_LOSS):
                ist[I_DAY_STOP] = R_DAILY_LOSS
            elif db & (1 << R_TOPSTEP_DLL):
                ist[I_DAY_STOP] = R_TOPSTEP_DLL
            else:
                ist[I_DAY_STOP] = R_DAILY_DRAWDOWN


@nb.njit(**JIT)
def is_halt_reason(reason: int) -> bool:
    """Kill switch, MLL, account drawdown and an operator kill halt; daily limits stop a day."""
    return (reason == R_KILL_SWITCH or reason == R_MLL or reason == R_ACCOUNT_DRAWDOWN
            or reason == R_MANUAL_KILL)


@nb.njit(**JIT)
def apply_breach(ist: np.ndarray, reason: int) -> None:
    """Record one breached limit (see :func:`record_breaches`)."""
    if reason != R_OK:
        record_breaches(ist, 1 << reason)


@nb.njit(**JIT)
def mark(p: np.ndarray, fs: np.ndarray, ist: np.ndarray, open_pnl: float) -> int:
    """Mark to market with the open P&L (net of costs paid and due); return a breach reason.

    Updates the day's peak equity, then checks EVERY limit against the equity and records
    each one crossed. A nonzero return (the tightest limit crossed) means: flatten now.
    """
    eq = fs[F_BALANCE] + open_pnl
    fs[F_LAST_EQUITY] = eq
    if eq > fs[F_DAY_PEAK_EQ]:
        fs[F_DAY_PEAK_EQ] = eq
        if p[P_MLL_INTRADAY] > 0 and eq > fs[F_EOD_HIGH]:
            # Intraday trailing (the stricter reading, topstepx-gateway §10.2): the MLL follows
            # the highest equity reached, open profit included, up to its lock.
            fs[F_EOD_HIGH] = eq
            lvl = min(eq - p[P_MLL], p[P_MLL_LOCK])
            if lvl > fs[F_MLL_LEVEL]:
                fs[F_MLL_LEVEL] = lvl
    bits = breached(p, fs, eq)
    if bits == 0:
        return R_OK
    record_breaches(ist, bits)
    _floor, why = risk_floor(p, fs)
    return why


@nb.njit(**JIT)
def on_trade_closed(p: np.ndarray, pauses: np.ndarray, fs: np.ndarray, ist: np.ndarray,
                    net_pnl: float, ts: int) -> int:
    """Book a closed trade: balance, loss streak and its pause, then every limit.

    ``pauses`` rows are (losses, minutes) ascending. A streak equal to a row's count starts
    that pause; beyond the last row every further loss repeats the longest pause. A trade
    that nets ≤ 0 after costs is a loss; a win resets the streak; the streak carries across
    trading days (the pause itself simply expires). Returns the breach reason (0 if none).
    """
    fs[F_BALANCE] += net_pnl
    if fs[F_BALANCE] > fs[F_PEAK_BAL]:
        fs[F_PEAK_BAL] = fs[F_BALANCE]
    ist[I_TRADES] += 1
    if net_pnl > 0:
        ist[I_CONSEC_LOSSES] = 0
    else:
        ist[I_CONSEC_LOSSES] += 1
        k = ist[I_CONSEC_LOSSES]
        m = pauses.shape[0]
        minutes = 0.0
        for r in range(m):
            if k == int(pauses[r, 0]) or (r == m - 1 and k > int(pauses[r, 0])):
                minutes = pauses[r, 1]
        if minutes > 0:
            until = ts + np.int64(minutes * 60.0) * np.int64(1_000_000_000)
            if until > ist[I_PAUSE_UNTIL]:
                ist[I_PAUSE_UNTIL] = until
    return mark(p, fs, ist, 0.0)


@nb.njit(**JIT)
def open_pnl_net(p: np.ndarray, direction: float, contracts: float, entry: float,
                 entry_slip_ticks: float, price: float, entry_fee: float) -> float:
    """Open P&L at ``price`` net of costs (true equity): the round-trip commission, the
    entry's slippage and fee (paid), and the taker fee a market exit at ``price`` would pay.

    ``contracts`` counts lots (a lot is one contract for futures); ``entry_fee`` is the
    entry's fee in $ for the whole position (0 for futures).
    """
    if direction == 0:
        return 0.0
    pv = p[P_TICK_VALUE] / p[P_TICK_SIZE]
    return (direction * (price - entry) * pv * contracts
            - (p[P_COMMISSION_RT] + entry_slip_ticks * p[P_TICK_VALUE]) * contracts
            - entry_fee - p[P_FEE_TAKER] * price * pv * contracts)


@nb.njit(**JIT)
def floor_price(p: np.ndarray, fs: np.ndarray, direction: int, contracts: int,
                entry_price: float, entry_cost: float) -> tuple[float, int]:
    """The price at which the open position's equity touches the risk floor (a synthetic stop).

    Long: breach when price ≤ level (rounded down to the tick grid); short: price ≥ level
    (rounded up). ``entry_cost`` is the entry's slippage and fee in dollars (already paid,
    part of the true equity). Returns (level, reason); reason 0 and ±inf when no floor applies.
    """
    floor, why = risk_floor(p, fs)
    if why == R_OK or contracts <= 0:
        return (-np.inf if direction > 0 else np.inf), R_OK
    pv = p[P_TICK_VALUE] / p[P_TICK_SIZE] * contracts
    ts_ = p[P_TICK_SIZE]
    f = p[P_FEE_TAKER]
    if f > 0:
        # equity(px) = bal + d(px − entry)·pv − commission − entry cost − f·px·pv, solved for px
        lvl = (floor - fs[F_BALANCE] + p[P_COMMISSION_RT] * contracts + entry_cost
               + direction * entry_price * pv) / (pv * (direction - f))
        if direction > 0:
            return math.floor(lvl / ts_ + 1e-9) * ts_, why
        return math.ceil(lvl / ts_ - 1e-9) * ts_, why
    # equity(price) = balance + dir × (price − entry) × pv − commission − entry slippage
    x = (floor - fs[F_BALANCE] + p[P_COMMISSION_RT] * contracts + entry_cost) / pv
    if direction > 0:
        lvl = math.floor((entry_price + x) / ts_ + 1e-9) * ts_
    else:
        lvl = math.ceil((entry_price - x) / ts_ - 1e-9) * ts_
    return lvl, why


@nb.njit(**JIT)
def schedule_phase(sched: np.ndarray, row: int, ts: int) -> int:
    """Phase of the end-of-day schedule at ``ts`` for schedule row ``row`` (-1: no session)."""
    if row < 0:
        return PH_CLOSED
    if ts >= sched[row, S_FLAT]:
        return PH_FLAT
    if ts >= sched[row, S_EXIT]:
        return PH_EXIT
    if ts >= sched[row, S_NO_NEW]:
        return PH_NO_NEW
    if ts < sched[row, S_ENTRY]:
        return PH_CLOSED
    if ts >= sched[row, S_REDUCE]:
        return PH_REDUCE
    return PH_OPEN


@nb.njit(**JIT)
def spread_update(p: np.ndarray, fs: np.ndarray, spread_ticks: float) -> bool:
    """Spread breaker with hysteresis: pause above ``spread_pause``, resume at ≤ ``spread_resume``.

    Only where quotes exist (live); bars carry no spread. Returns True while paused.
    """
    if spread_ticks > p[P_SPREAD_PAUSE]:
        fs[F_SPREAD_PAUSED] = 1.0
    elif spread_ticks <= p[P_SPREAD_RESUME]:
        fs[F_SPREAD_PAUSED] = 0.0
    return fs[F_SPREAD_PAUSED] > 0


@nb.njit(**JIT)
def mode_of(fs: np.ndarray, ist: np.ndarray, ts: int, phase: int, breakers: int) -> int:
    """The visible trading state: ACTIVE → REDUCING → PAUSED(until) → HALTED."""
    if ist[I_HALT] != 0:
        return MODE_HALTED
    if (ist[I_DAY_STOP] != 0 or ts < ist[I_PAUSE_UNTIL] or fs[F_SPREAD_PAUSED] > 0
            or ist[I_MANUAL_PAUSE] != 0
            or breakers & (B_VOL_PAUSE | B_VOLU_PAUSE) or phase >= PH_NO_NEW
            or phase == PH_CLOSED):
        return MODE_PAUSED
    if phase == PH_REDUCE or breakers & (B_VOL_HALVE | B_VOLU_HALVE):
        return MODE_REDUCING
    return MODE_ACTIVE


@nb.njit(**JIT)
def apply_intent(fs: np.ndarray, ist: np.ndarray, intent: int) -> bool:
    """An operator intent as a kernel input (so a journal replay applies it). True if applied.

    Pause/resume only toggle the operator pause; kill halts (the caller flattens); re-arm lifts
    ONLY an operator kill and review lifts ONLY an account-drawdown stop — neither ever lifts
    the kill switch, the MLL or a day stop.
    """
    if intent == INT_PAUSE:
        ist[I_MANUAL_PAUSE] = 1
        return True
    if intent == INT_RESUME:
        ist[I_MANUAL_PAUSE] = 0
        return True
    if intent == INT_KILL:
        ist[I_BREACHES] |= 1 << R_MANUAL_KILL
        ist[I_HALT] = halt_reason(ist[I_BREACHES])
        return True
    if intent == INT_REARM:
        if ist[I_BREACHES] & (1 << R_MANUAL_KILL) == 0:
            return False
        ist[I_BREACHES] &= ~(1 << R_MANUAL_KILL)
        ist[I_HALT] = halt_reason(ist[I_BREACHES])
        return True
    if intent == INT_REVIEWED:
        if ist[I_BREACHES] & (1 << R_ACCOUNT_DRAWDOWN) == 0:
            return False
        ist[I_BREACHES] &= ~(1 << R_ACCOUNT_DRAWDOWN)
        ist[I_HALT] = halt_reason(ist[I_BREACHES])
        fs[F_PEAK_BAL] = fs[F_BALANCE]
        return True
    return False
