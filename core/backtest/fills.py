"""The simulated broker of the backtest: fills and exits (compiled), and the loop's tables.

See core/backtest/loop.py for the per-bar event order and the fill assumptions. This module
is the only backtest-specific rule set — what the exchange would have done with our orders:
slippage, closing a position into the trade table, bracket exits inside a bar (with the risk
floor as a synthetic stop and 1-second resolution) and executing a pending order. Every
TRADING rule it applies (the entry check and sizing, bracket levels, limits) is a step of
core/risk or core/strategy that the live engine calls too.

Costs of a fill (:func:`fill_slip`, :func:`fee_usd`): slippage is in ticks for futures and in
basis points of the fill's reference price for percentage-tick instruments (crypto);
market orders also pay a market-impact term, ``impact_bps × √(participation)`` with
participation = order quantity ÷ the volume of the last completed bar (capped at 1; a bar
without volume counts as full participation). Fees are a fraction of the notional per side:
maker for limit fills (targets, limit entries), taker for market fills. All of it is booked
in money, so reference prices stay on the tick grid.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from core.risk import kernel as K
from core.strategy.steps import (  # noqa: F401 - the loop's slot names live with the strategy
    N_SP, PK_ENTRY, PK_EXIT, PK_NONE, PK_REVERSE, SP_ANCHOR, SP_ATR_MULT, SP_BAR_NS, SP_BE_TICKS,
    SP_BRACKET, SP_CONTINUOUS, SP_COOLDOWN, SP_ENTRY_LIMIT, SP_FILL_MODE, SP_IMPACT_BPS,
    SP_LOOKBACK, SP_OPPOSITE, SP_PCT, SP_SAME_BAR, SP_SLIP_ETH, SP_SLIP_LIMIT, SP_SLIP_MODEL,
    SP_SLIP_RTH, SP_SLIP_VOL, SP_STOP_FILL, SP_STOP_PCT, SP_STOP_TICKS, SP_TARGET_PCT,
    SP_TARGET_TICKS, SP_TIME_STOP_NS, bracket_levels,
)

FM_CONSERVATIVE, FM_OPTIMISTIC, FM_REALISTIC = 0, 1, 2

# trade table columns
T_ENTRY_I, T_EXIT_I, T_DIR, T_ENTRY_PX, T_EXIT_PX, T_N, T_GROSS, T_COMM, T_SLIP, T_NET, \
    T_REASON, T_CONF, T_PCLASS, T_MFE, T_MAE, T_AMB, T_ESLIP, T_IMPACT = range(18)
N_TCOLS = 18
X_TARGET, X_STOP, X_TIME, X_EOD, X_SIGNAL, X_RISK = range(6)
EXIT_REASONS = ("target", "stop", "time", "eod_flatten", "signal", "risk")

# position state ps[...]
# Q_ESLIP: entry slippage in ticks (impact included); Q_EFEE: entry fee ($, whole position);
# Q_EIMP: the market-impact part of Q_ESLIP (ticks).
Q_DIR, Q_N, Q_ENTRY, Q_ESLIP, Q_ENTRY_I, Q_STOP, Q_TGT, Q_HI, Q_LO, Q_CONF, Q_PCLASS, \
    Q_AMB, Q_ROW, Q_EFEE, Q_EIMP = range(15)
N_Q = 15
# pending order pd[...]
D_KIND, D_DIR, D_CONF, D_PCLASS, D_SD, D_TD, D_ROW, D_LIMIT, D_BRK = range(9)
N_D = 9
# counters
C_TRADES, C_EVENTS, C_LIMIT_MISSED = 0, 1, 2

# Fills never allocate: compiled without the refcounting runtime (see core.risk.layout.JIT).
_JIT = {"cache": True, "nogil": True, "_nrt": False, "inline": "always"}
_JIT_ALLOC = {"cache": True, "nogil": True}


@nb.njit(**_JIT)
def slip_ticks(sp: np.ndarray, rth: int, brk: int) -> float:
    """Market-order slippage in ticks under the profile's model."""
    m = sp[SP_SLIP_MODEL]
    if m == 2 and (brk & (K.B_VOL_HALVE | K.B_VOL_PAUSE)):
        return sp[SP_SLIP_VOL]
    if m >= 1 and rth == 0:
        return sp[SP_SLIP_ETH]
    return sp[SP_SLIP_RTH]


@nb.njit(**_JIT)
def fill_slip(sp: np.ndarray, p: np.ndarray, market: bool, base: float, px: float,
              lots: float, vol: float) -> tuple[float, float]:
    """(slippage in ticks, of which market impact) of a fill at reference price ``px``.

    ``base`` is the profile's slippage for the order: ticks, or bps of ``px`` for
    percentage-tick instruments. ``vol``: volume of the last completed bar.
    """
    tick = p[K.P_TICK_SIZE]
    t = base
    if sp[SP_PCT] > 0:
        t = base * 1e-4 * px / tick
    imp = 0.0
    k = sp[SP_IMPACT_BPS]
    if market and k > 0 and lots > 0:
        part = 1.0
        if vol > 0:
            part = min(lots * p[K.P_LOT_SIZE] / vol, 1.0)
        imp = k * 1e-4 * px / tick * math.sqrt(part)
    return t + imp, imp


@nb.njit(**_JIT)
def fee_usd(p: np.ndarray, maker: bool, px: float, lots: float) -> float:
    """Exchange fee in $ of one fill of ``lots`` at ``px`` (0 for futures profiles)."""
    rate = p[K.P_FEE_MAKER] if maker else p[K.P_FEE_TAKER]
    return rate * px * p[K.P_TICK_VALUE] / p[K.P_TICK_SIZE] * lots


@nb.njit(**_JIT)
def market_exit(sp: np.ndarray, reason: int) -> bool:
    """Whether an exit fills as a market order (pays impact and the taker fee): all but a
    target (a resting limit) and a stop filled exactly at its price (``stop_fill = at_stop``)."""
    return not (reason == X_TARGET or (reason == X_STOP and sp[SP_STOP_FILL] > 0))


@nb.njit(**_JIT)
def entry_cost(p: np.ndarray, ps: np.ndarray) -> float:
    """$ the open position already paid at entry: slippage and fee."""
    return ps[Q_ESLIP] * p[K.P_TICK_VALUE] * ps[Q_N] + ps[Q_EFEE]


@nb.njit(**_JIT)
def pos_open_pnl(p: np.ndarray, ps: np.ndarray, price: float) -> float:
    """The position's open P&L at ``price`` (the risk kernel's true-equity definition)."""
    return K.open_pnl_net(p, ps[Q_DIR], ps[Q_N], ps[Q_ENTRY], ps[Q_ESLIP], price, ps[Q_EFEE])


@nb.njit(**_JIT)
def close_pos(i: int, px: float, slip: float, reason: int, ts_i: int, vol: float,
              ps: np.ndarray, tr: np.ndarray, cnt: np.ndarray, sp: np.ndarray, p: np.ndarray,
              pauses: np.ndarray, fs: np.ndarray, ist: np.ndarray) -> None:
    """Close the position at reference price ``px`` and book it.

    ``slip`` is the profile's slippage for this exit (ticks or bps, see :func:`fill_slip`);
    market exits add impact from ``vol``, the last completed bar's volume.
    """
    d = ps[Q_DIR]
    n = ps[Q_N]
    tick = p[K.P_TICK_SIZE]
    tv = p[K.P_TICK_VALUE]
    pv = tv / tick
    market = market_exit(sp, reason)
    slip, imp = fill_slip(sp, p, market, slip, px, n, vol)
    # MFE/MAE cover the bars held and the exit price itself.
    hi = max(ps[Q_HI], px)
    lo = min(ps[Q_LO], px)
    k = cnt[C_TRADES]
    if k < tr.shape[0]:
        gross = d * (px - ps[Q_ENTRY]) * pv * n
        comm = p[K.P_COMMISSION_RT] * n + ps[Q_EFEE] + fee_usd(p, not market, px, n)
        slip_usd = (ps[Q_ESLIP] + slip) * tv * n
        tr[k, T_ENTRY_I] = ps[Q_ENTRY_I]
        tr[k, T_EXIT_I] = i
        tr[k, T_DIR] = d
        tr[k, T_ENTRY_PX] = ps[Q_ENTRY]
        tr[k, T_EXIT_PX] = px
        tr[k, T_N] = n
        tr[k, T_GROSS] = gross
        tr[k, T_COMM] = comm
        tr[k, T_SLIP] = slip_usd
        tr[k, T_NET] = gross - comm - slip_usd
        tr[k, T_REASON] = reason
        tr[k, T_CONF] = ps[Q_CONF]
        tr[k, T_PCLASS] = ps[Q_PCLASS]
        if d > 0:
            tr[k, T_MFE] = max(hi - ps[Q_ENTRY], 0.0) * pv * n
            tr[k, T_MAE] = max(ps[Q_ENTRY] - lo, 0.0) * pv * n
        else:
            tr[k, T_MFE] = max(ps[Q_ENTRY] - lo, 0.0) * pv * n
            tr[k, T_MAE] = max(hi - ps[Q_ENTRY], 0.0) * pv * n
        tr[k, T_AMB] = ps[Q_AMB]
        tr[k, T_ESLIP] = ps[Q_ESLIP] * tv * n
        tr[k, T_IMPACT] = (ps[Q_EIMP] + imp) * tv * n
        cnt[C_TRADES] = k + 1
        K.on_trade_closed(p, pauses, fs, ist, gross - comm - slip_usd, ts_i)
    ps[Q_DIR] = 0.0
    ps[Q_N] = 0.0


@nb.njit(**_JIT)
def resolve_first(ts1: np.ndarray, h1: np.ndarray, l1: np.ndarray, t0: int, t1: int, d: float,
                  stop: float, tgt: float, through: bool) -> int:
    """Which level the 1-s bars inside [t0, t1) touch first: 1 stop, 2 target, 0 unknown/tie."""
    j = np.searchsorted(ts1, t0)
    while j < ts1.shape[0] and ts1[j] < t1:
        if d > 0:
            s_hit = l1[j] <= stop
            t_hit = h1[j] > tgt if through else h1[j] >= tgt
        else:
            s_hit = h1[j] >= stop
            t_hit = l1[j] < tgt if through else l1[j] <= tgt
        if s_hit and t_hit:
            return 0
        if s_hit:
            return 1
        if t_hit:
            return 2
        j += 1
    return 0


@nb.njit(**_JIT)
def bar_exits(i: int, ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo_: np.ndarray,
              ps: np.ndarray, sp: np.ndarray, p: np.ndarray, fs: np.ndarray, slip: float,
              ts1: np.ndarray, h1: np.ndarray, l1: np.ndarray) -> tuple[int, float, float]:
    """Bracket and risk-floor exits inside bar ``i``: (reason or -1, reference price, slip)."""
    d = ps[Q_DIR]
    through = sp[SP_FILL_MODE] == FM_CONSERVATIVE
    rl, rwhy = K.floor_price(p, fs, int(d), int(ps[Q_N]), ps[Q_ENTRY], entry_cost(p, ps))
    stop = ps[Q_STOP]
    tgt = ps[Q_TGT]
    lslip = sp[SP_SLIP_LIMIT]
    # A bracket stop is a stop-market order (slippage) unless the profile says it fills at the
    # stop price; the risk floor is always a market liquidation.
    sslip_stop = 0.0 if sp[SP_STOP_FILL] > 0 else slip
    if d > 0:
        risk_binds = rwhy != K.R_OK and rl >= stop
        eff = rl if risk_binds else stop
        sreason = X_RISK if risk_binds else X_STOP
        sslip = slip if risk_binds else sslip_stop
        if o[i] <= eff:                       # gapped through the stop: fill at the open
            return sreason, o[i], sslip
        if o[i] > tgt or (not through and o[i] >= tgt):
            return X_TARGET, tgt, lslip
        s_hit = lo_[i] <= eff
        t_hit = h[i] > tgt if through else h[i] >= tgt
    else:
        risk_binds = rwhy != K.R_OK and rl <= stop
        eff = rl if risk_binds else stop
        sreason = X_RISK if risk_binds else X_STOP
        sslip = slip if risk_binds else sslip_stop
        if o[i] >= eff:
            return sreason, o[i], sslip
        if o[i] < tgt or (not through and o[i] <= tgt):
            return X_TARGET, tgt, lslip
        s_hit = h[i] >= eff
        t_hit = lo_[i] < tgt if through else lo_[i] <= tgt
    if s_hit and t_hit:
        ps[Q_AMB] = 1.0
        mode = sp[SP_SAME_BAR]
        first = 1
        if mode == 1:
            first = 2
        elif mode == 2 and ts1.shape[0] > 0:
            r = resolve_first(ts1, h1, l1, ts[i], ts[i] + np.int64(sp[SP_BAR_NS]), d, eff, tgt,
                              through)
            first = 2 if r == 2 else 1
        if first == 1:
            return sreason, eff, sslip
        return X_TARGET, tgt, lslip
    if s_hit:
        return sreason, eff, sslip
    if t_hit:
        return X_TARGET, tgt, lslip
    return -1, 0.0, 0.0


@nb.njit(**_JIT)
def execute(i: int, px: float, is_open: bool, ts: np.ndarray, h: np.ndarray, lo_: np.ndarray,
            row: int, sched: np.ndarray, rth: np.ndarray, pd_: np.ndarray, ps: np.ndarray,
            sp: np.ndarray, p: np.ndarray, tiers: np.ndarray, confs: np.ndarray,
            pauses: np.ndarray, fs: np.ndarray, ist: np.ndarray, tr: np.ndarray,
            cnt: np.ndarray, denials: np.ndarray, vol: float) -> None:
    """Carry out the pending order at ``px`` (bar ``i``'s open, or its close if optimistic).

    ``vol`` is the volume of the last completed bar (market impact). The entry is sized at
    ``px``, the price the order goes out at.
    """
    kind = int(pd_[D_KIND])
    pd_[D_KIND] = PK_NONE
    brk = int(pd_[D_BRK])
    slip = slip_ticks(sp, int(rth[i]), brk)
    if (kind == PK_EXIT or kind == PK_REVERSE) and ps[Q_DIR] != 0:
        close_pos(i, px, slip, X_SIGNAL, ts[i], vol, ps, tr, cnt, sp, p, pauses, fs, ist)
    if kind != PK_ENTRY and kind != PK_REVERSE:
        return
    # Never carry an entry into another trading day (CME sessions); 24/7 markets have no break.
    if row < 0 or (row != int(pd_[D_ROW]) and sp[SP_CONTINUOUS] == 0):
        denials[K.R_OUTSIDE_HOURS] += 1
        return
    tick = p[K.P_TICK_SIZE]
    ph = K.schedule_phase(sched, row, ts[i])
    n, why = K.check_entry(p, tiers, confs, fs, ist, ts[i], pd_[D_CONF], pd_[D_SD] / tick, ph, brk,
                           0, px)
    if n <= 0:
        denials[why] += 1
        return
    d = pd_[D_DIR]
    ref = px
    eslip = slip
    market = True
    if sp[SP_ENTRY_LIMIT] > 0 and is_open:
        lim = pd_[D_LIMIT]
        through = sp[SP_FILL_MODE] == FM_CONSERVATIVE
        if d > 0:
            ok = lo_[i] < lim if through else lo_[i] <= lim
            ref = min(lim, px)
        else:
            ok = h[i] > lim if through else h[i] >= lim
            ref = max(lim, px)
        if not ok:
            cnt[C_LIMIT_MISSED] += 1
            return
        eslip = sp[SP_SLIP_LIMIT]
        market = False
    elif sp[SP_ENTRY_LIMIT] > 0:
        eslip = sp[SP_SLIP_LIMIT]
        market = False
    eslip, eimp = fill_slip(sp, p, market, eslip, ref, n, vol)
    ps[Q_DIR] = d
    ps[Q_N] = n
    ps[Q_ENTRY] = ref
    ps[Q_ESLIP] = eslip
    ps[Q_EFEE] = fee_usd(p, not market, ref, n)
    ps[Q_EIMP] = eimp
    ps[Q_ENTRY_I] = i
    ps[Q_STOP], ps[Q_TGT] = bracket_levels(sp, d, ref, eslip, pd_[D_SD], pd_[D_TD], tick)
    ps[Q_HI] = ref
    ps[Q_LO] = ref
    ps[Q_CONF] = pd_[D_CONF]
    ps[Q_PCLASS] = pd_[D_PCLASS]
    ps[Q_AMB] = 0.0
    ps[Q_ROW] = row
