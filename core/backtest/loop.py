"""The compiled backtest loop (numba, cache=True) over bar arrays, using core.risk.kernel.

Per bar, in this order (requirements §8): update (new trading day → EOD settlement) → execute
the order decided at the previous bar's close at THIS bar's open → exits (time stop, EOD
exit, bracket stop/target and the risk floor as a synthetic stop) → mark to market →
signal at the close → risk check → execution (queued for the next open, or at this close in
optimistic mode) → end-of-day flatten when the next bar is past the deadline.

Fill assumptions, written next to the code that makes them:
* market orders fill at the reference price (open, stop level, close) plus slippage in ticks
  (fixed; wider outside RTH; wider when the volatility breaker is on);
* a stop that the bar OPENS through fills at the open (gap), plus slippage;
* limit orders (targets, limit entries) fill at their price, never better; in the
  conservative fill mode only if price trades THROUGH the level, otherwise on a touch;
* stop and target inside one bar: pessimistic (stop first) unless told otherwise, or settled
  with 1-second bars (first 1-s bar that touches either; a tie stays pessimistic);
* the Topstep MLL, daily loss/drawdown, account drawdown and kill switch act as one synthetic
  stop at the price where equity touches the tightest floor (checked intrabar, incl. open P&L).
Prices in the trade table are reference prices BEFORE slippage; slippage is its own column,
so net = gross − commission − slippage exactly.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from core.backtest.fills import (  # noqa: F401 - re-exported: engine/reference use L.*
    SP_BRACKET, SP_STOP_TICKS, SP_TARGET_TICKS, SP_ATR_MULT, SP_LOOKBACK, SP_BE_TICKS,
    SP_TIME_STOP_NS, SP_ENTRY_LIMIT, SP_COOLDOWN, SP_OPPOSITE, SP_FILL_MODE, SP_SLIP_MODEL,
    SP_SAME_BAR, SP_SLIP_RTH, SP_SLIP_ETH, SP_SLIP_VOL, SP_SLIP_LIMIT, SP_BAR_NS, SP_STOP_FILL,
    SP_ANCHOR, SP_CONTINUOUS, N_SP,
    FM_CONSERVATIVE, FM_OPTIMISTIC, FM_REALISTIC, T_ENTRY_I, T_EXIT_I, T_DIR, T_ENTRY_PX,
    T_EXIT_PX, T_N, T_GROSS, T_COMM, T_SLIP, T_NET, T_REASON, T_CONF, T_PCLASS, T_MFE, T_MAE,
    T_AMB, T_ESLIP, N_TCOLS, X_TARGET, X_STOP, X_TIME, X_EOD, X_SIGNAL, X_RISK, EXIT_REASONS, Q_DIR,
    Q_N, Q_ENTRY, Q_ESLIP, Q_ENTRY_I, Q_STOP, Q_TGT, Q_HI, Q_LO, Q_CONF, Q_PCLASS, Q_AMB,
    Q_ROW, N_Q, D_KIND, D_DIR, D_CONF, D_PCLASS, D_SD, D_TD, D_ROW, D_LIMIT, D_BRK, N_D,
    PK_NONE, PK_ENTRY, PK_EXIT, PK_REVERSE, C_TRADES, C_EVENTS, C_LIMIT_MISSED, _JIT,
    slip_ticks, pos_open_pnl, close_pos, resolve_first, bar_exits, execute, entry_cost,
    fill_slip, fee_usd, market_exit, Q_EFEE, Q_EIMP, T_IMPACT, SP_PCT, SP_STOP_PCT,
    SP_TARGET_PCT, SP_IMPACT_BPS,
)
from core.risk import events as RE
from core.risk import kernel as K
from core.strategy.steps import bracket_distance, breakeven_stop, decide, time_stop_due


@nb.njit(**_JIT)
def eod_exit_due(sched: np.ndarray, row: int, ts_i: int, bar_ns: int) -> bool:
    """The end-of-day market exit is due at bar ``ts_i``'s OPEN: the bar would close after it.

    A bar that closes after the market-exit time cannot be held to its close (its close price
    lies past the deadline), so the exit happens at the open of the last bar that opens before
    the deadline — for 1-minute bars that is the bar starting at the exit time itself; for
    1-hour bars it is the bar whose hour contains the deadline.
    """
    return ts_i + bar_ns > sched[row, K.S_EXIT]


@nb.njit(**_JIT)
def hold_skip(i: int, ts: np.ndarray, h: np.ndarray, lo_: np.ndarray, c: np.ndarray,
              rows: np.ndarray, action: np.ndarray, ps: np.ndarray, sp: np.ndarray,
              p: np.ndarray, fs: np.ndarray, sched: np.ndarray, row: int, eq: np.ndarray,
              record_eq: bool) -> int:
    """Fast path while holding: skip bars where provably nothing happens; return the next bar.

    A bar is skipped only if: no signal; same trading day; before the market-exit time and
    the time stop; the next bar is not past the flat deadline; the bar touches neither the
    effective stop (bracket or risk floor) nor the target nor the breakeven trigger; and its
    close neither sets a new day-peak equity nor touches the risk floor. Those are exactly
    the bars on which the full path would only update MFE/MAE and the equity curve.
    """
    n = ts.shape[0]
    d = ps[Q_DIR]
    rl, rwhy = K.floor_price(p, fs, int(d), int(ps[Q_N]), ps[Q_ENTRY], entry_cost(p, ps))
    stop = ps[Q_STOP]
    tgt = ps[Q_TGT]
    e0 = ps[Q_ENTRY]
    bar_ns = np.int64(sp[SP_BAR_NS])
    if d > 0:
        eff = rl if (rwhy != K.R_OK and rl >= stop) else stop
    else:
        eff = rl if (rwhy != K.R_OK and rl <= stop) else stop
    floor_eq, _w = K.risk_floor(p, fs)
    peak = fs[K.F_DAY_PEAK_EQ]
    bal = fs[K.F_BALANCE]
    limit_t = sched[row, K.S_EXIT] - bar_ns + 1     # first bar start where eod_exit_due
    te = sp[SP_TIME_STOP_NS]
    if te > 0:
        limit_t = min(limit_t, ts[int(ps[Q_ENTRY_I])] + np.int64(te))
    flat = sched[row, K.S_FLAT]
    tick = p[K.P_TICK_SIZE]
    be = sp[SP_BE_TICKS]
    be_on = be >= 0 and ((d > 0 and stop < e0) or (d < 0 and stop > e0))
    nc = ps[Q_N]
    eslip = ps[Q_ESLIP]
    efee = ps[Q_EFEE]
    hi = ps[Q_HI]
    lo = ps[Q_LO]
    cooldown = int(sp[SP_COOLDOWN])
    opposite = int(sp[SP_OPPOSITE])
    j = i
    while j + 1 < n:
        # A signal the decision step ignores while holding (same side, or an opposite one
        # under on_opposite = "ignore") changes nothing: skip it like a bar without one.
        if action[j] != 0 and decide(int(d), int(action[j]), 0, cooldown, opposite) != PK_NONE:
            break
        if rows[j] != row or ts[j] >= limit_t:
            break
        if rows[j + 1] != row or ts[j + 1] >= flat:
            break
        if d > 0:
            if lo_[j] <= eff or h[j] >= tgt:
                break
            if be_on and h[j] - e0 >= be * tick - 1e-9:
                break
        else:
            if h[j] >= eff or lo_[j] <= tgt:
                break
            if be_on and e0 - lo_[j] >= be * tick - 1e-9:
                break
        # The kernel's own open-P&L step: the full path's mark sees exactly this equity.
        eqj = bal + K.open_pnl_net(p, d, nc, e0, eslip, c[j], efee)
        if eqj > peak or eqj <= floor_eq + 1e-9:
            break
        if h[j] > hi:
            hi = h[j]
        if lo_[j] < lo:
            lo = lo_[j]
        if record_eq:
            eq[j] = eqj
        j += 1
    ps[Q_HI] = hi
    ps[Q_LO] = lo
    return j


@nb.njit(**_JIT)
def run_loop(ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo_: np.ndarray, c: np.ndarray,
             v: np.ndarray, rows: np.ndarray, rth: np.ndarray, brk: np.ndarray,
             action: np.ndarray,
             conf: np.ndarray, pclass: np.ndarray, atr: np.ndarray, sched: np.ndarray,
             sched_day: np.ndarray, sp: np.ndarray, p: np.ndarray, tiers: np.ndarray,
             confs: np.ndarray, pauses: np.ndarray, ts1: np.ndarray, h1: np.ndarray,
             l1: np.ndarray, tr: np.ndarray, ev: np.ndarray, eq: np.ndarray,
             record_eq: bool, fs: np.ndarray, ist: np.ndarray, ps: np.ndarray,
             pd_: np.ndarray, cnt: np.ndarray, denials: np.ndarray, prev: np.ndarray) -> None:
    """The whole backtest over one bar series, into the caller's arrays (see :func:`new_run`).

    ``action`` per bar: +1 long, -1 short, 2 flat/exit, 0 nothing (the confidence gate of
    core.strategy.steps.action_of already applied). ``rows``: schedule row of each bar (-1
    outside sessions). ``brk``: circuit-breaker bits from core.risk.breakers (bars ≤ i).
    Trades go to ``tr``, risk events to ``ev``, equity (balance + open P&L net of costs, at
    each close) to ``eq``; the account state ends in ``fs``/``ist``, counters in ``cnt``,
    refused entries by reason in ``denials``. Every rule is a step of core/risk or
    core/strategy; this driver only orders them and fast-forwards over bars where provably
    nothing can happen. It allocates nothing, so it runs without numba's refcounting runtime.
    """
    n = ts.shape[0]
    tick = p[K.P_TICK_SIZE]
    optimistic = sp[SP_FILL_MODE] == FM_OPTIMISTIC
    continuous = sp[SP_CONTINUOUS] > 0
    cooldown = int(sp[SP_COOLDOWN])
    opposite = int(sp[SP_OPPOSITE])
    bar_ns = np.int64(sp[SP_BAR_NS])
    last_exit = -(1 << 40)
    cur_row = -2
    i = 0
    while i < n:
        # ---- fast path: flat, nothing pending, no signal, same day → nothing can happen
        if ps[Q_DIR] == 0 and pd_[D_KIND] == PK_NONE:
            bal = fs[K.F_BALANCE]
            j = i
            while j < n and action[j] == 0 and rows[j] == cur_row:
                j += 1
            if record_eq:
                for k in range(i, j):
                    eq[k] = bal
            i = j
            if i >= n:
                break
        elif pd_[D_KIND] == PK_NONE and rows[i] == cur_row:
            i = hold_skip(i, ts, h, lo_, c, rows, action, ps, sp, p, fs, sched, cur_row, eq,
                          record_eq)
        row = int(rows[i])
        # ---- update: a new trading day settles the previous one
        if row != cur_row:
            cur_row = row
            if row >= 0:
                K.on_day_start(p, fs, ist, int(sched_day[row]))
        # Market impact sees the volume of the last COMPLETED bar: the one before this bar
        # for fills at its open or inside it, this bar for fills at its close.
        vprev = v[i - 1] if i > 0 else v[i]
        # ---- execute the order decided at the previous close, at this open
        if pd_[D_KIND] != PK_NONE and not optimistic:
            execute(i, o[i], True, ts, h, lo_, row, sched, rth, pd_, ps, sp, p, tiers, confs,
                    pauses, fs, ist, tr, cnt, denials, vprev)
        slip = slip_ticks(sp, int(rth[i]), int(brk[i - 1]) if i > 0 else 0)
        # ---- exits
        if ps[Q_DIR] != 0:
            ei = int(ps[Q_ENTRY_I])
            if row < 0 or (not continuous and row != int(ps[Q_ROW])) \
                    or eod_exit_due(sched, row, ts[i], bar_ns):
                close_pos(i, o[i], slip, X_EOD, ts[i], vprev, ps, tr, cnt, sp, p, pauses, fs,
                          ist)
            elif ei < i and time_stop_due(sp, ts[ei], ts[i]):
                close_pos(i, o[i], slip, X_TIME, ts[i], vprev, ps, tr, cnt, sp, p, pauses, fs,
                          ist)
            else:
                reason, px, s = bar_exits(i, ts, o, h, lo_, ps, sp, p, fs, slip, ts1, h1, l1)
                if reason >= 0:
                    close_pos(i, px, s, reason, ts[i], vprev, ps, tr, cnt, sp, p, pauses, fs,
                              ist)
            if ps[Q_DIR] == 0:
                last_exit = i
        # ---- mark to market at the close; breakeven trail for the next bar
        if ps[Q_DIR] != 0:
            if h[i] > ps[Q_HI]:
                ps[Q_HI] = h[i]
            if lo_[i] < ps[Q_LO]:
                ps[Q_LO] = lo_[i]
            best = ps[Q_HI] if ps[Q_DIR] > 0 else ps[Q_LO]
            ps[Q_STOP] = breakeven_stop(sp, ps[Q_DIR], ps[Q_ENTRY], best, ps[Q_STOP], tick)
            if K.mark(p, fs, ist, pos_open_pnl(p, ps, c[i])) != K.R_OK:
                close_pos(i, c[i], slip, X_RISK, ts[i], v[i], ps, tr, cnt, sp, p, pauses, fs,
                          ist)
                last_exit = i
        # ---- signal at the close → pending order (the risk check happens at execution)
        a = int(action[i])
        if a != 0 and row >= 0:
            kind = decide(int(ps[Q_DIR]), a, i - last_exit, cooldown, opposite)
            if kind != PK_NONE:
                pd_[D_KIND] = kind
                pd_[D_DIR] = a
                pd_[D_CONF] = conf[i]
                pd_[D_PCLASS] = pclass[i]
                pd_[D_ROW] = row
                pd_[D_LIMIT] = c[i]
                pd_[D_BRK] = brk[i]
                if kind != PK_EXIT:
                    sd, td = bracket_distance(i, a, c, h, lo_, atr, sp, tick)
                    pd_[D_SD] = sd
                    pd_[D_TD] = td
                if optimistic:
                    had = ps[Q_DIR] != 0
                    execute(i, c[i], False, ts, h, lo_, row, sched, rth, pd_, ps, sp, p, tiers,
                            confs, pauses, fs, ist, tr, cnt, denials, v[i])
                    if had and ps[Q_DIR] == 0:
                        last_exit = i
        # ---- end of day: the next bar is past the deadline / another day / no more data
        if ps[Q_DIR] != 0:
            if i + 1 >= n or (not continuous and (rows[i + 1] != row
                                                  or ts[i + 1] >= sched[row, K.S_FLAT])):
                close_pos(i, c[i], slip, X_EOD, ts[i], v[i], ps, tr, cnt, sp, p, pauses, fs,
                          ist)
                last_exit = i
        if record_eq:
            eq[i] = fs[K.F_BALANCE] + pos_open_pnl(p, ps, c[i])
        # The event step only has work when a state it watches moved (fast-path guard; the
        # differential test pins the events to the per-event path that calls it every bar).
        if (ist[K.I_BREACHES] != prev[RE.PV_BREACHES] or ist[K.I_DAY] != prev[RE.PV_DAY]
                or ist[K.I_DAY_BREACHES] != prev[RE.PV_DAY_BREACHES]
                or ist[K.I_PAUSE_UNTIL] != prev[RE.PV_PAUSE_UNTIL]
                or ist[K.I_MANUAL_PAUSE] != prev[RE.PV_MANUAL]
                or (p[K.P_PROFIT_TARGET] > 0 and ist[K.I_TARGET_HIT] == 0)):
            RE.step(i, p, fs, ist, prev, ev, cnt, C_EVENTS)
        i += 1


def new_run(p: np.ndarray) -> tuple[np.ndarray, ...]:
    """Fresh (fs, ist, ps, pd_, cnt, denials, prev) arrays for one :func:`run_loop`."""
    fs, ist = K.new_state(p)
    return (fs, ist, np.zeros(N_Q, dtype=np.float64), np.zeros(N_D, dtype=np.float64),
            np.zeros(3, dtype=np.int64), np.zeros(K.N_REASONS, dtype=np.int64),
            np.zeros(RE.N_PREV, dtype=np.int64))


def _flush_stale_caches() -> None:
    """Recompile the cross-module callers when the risk kernel or fill rules changed."""
    import numba.core.registry  # noqa: F401 - dispatcher types

    from core.backtest import _jitcache, fills, prep
    from core.risk import breakers, events, limits, sizing
    from core.strategy import steps

    disp = [run_loop, hold_skip, eod_exit_due]
    for mod in (fills, prep, breakers, events, limits, sizing, steps):
        disp += [v for v in vars(mod).values() if hasattr(v, "_cache") and hasattr(v, "py_func")]
    _jitcache.ensure_fresh(disp)


_flush_stale_caches()
