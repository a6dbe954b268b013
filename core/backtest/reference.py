"""The per-event reference: every bar visited in plain Python, calling the kernels per event.

This is the path the live engine takes, driven by bars instead of a broker: one closed bar at
a time it calls the strategy steps (:mod:`core.strategy.steps`: action, decision, bracket) and
the :class:`core.risk.RiskKernel` face (day roll, breaker step, ``check``, ``mark``, trade
booking, event step) — never the compiled loop. Only the simulated broker (how an order would
have filled inside a bar) is restated here, in the most direct way (one object per position,
no fast path). The differential test (tests/unit/test_backtest_differential.py) pins the
compiled loop to it on trades, risk events and denials. It is slow (tens of µs per bar):
use it on small slices.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.backtest import engine as E
from core.backtest import loop as L
from core.config import Profile
from core.risk import Approved, EntryIntent, RiskKernel
from core.risk import kernel as K
from core.risk.params import schedule_covering
from core.strategy import steps as S
from core.strategy.signals import Signals


@dataclass
class _Pos:
    d: int
    n: int
    entry: float
    eslip: float
    entry_i: int
    stop: float
    tgt: float
    hi: float
    lo: float
    conf: float
    pclass: int
    row: int
    amb: bool = False
    efee: float = 0.0    # entry fee, $ (crypto)
    eimp: float = 0.0    # market-impact part of eslip, ticks


@dataclass
class _Order:
    kind: int            # S.PK_*
    d: int
    conf: float
    pclass: int
    sd: float
    td: float
    row: int
    limit: float
    brk: int


@dataclass
class ReferenceResult:
    """Trades (as ``run_backtest(...).trades``), risk events (bar, code, balance), denials."""

    trades: pd.DataFrame
    events: list[tuple[int, int, float]]
    denials: dict[str, int]


def run_reference(bars: pd.DataFrame, signals: Signals, *, profile: Profile,
                  bars_1s: pd.DataFrame | None = None) -> pd.DataFrame:
    """The trade log (same columns as ``run_backtest(...).trades``) from the per-event path."""
    return run_reference_full(bars, signals, profile=profile, bars_1s=bars_1s).trades


def run_reference_full(bars: pd.DataFrame, signals: Signals, *, profile: Profile,
                       bars_1s: pd.DataFrame | None = None) -> ReferenceResult:
    """Trades, risk events and denials from the per-event path (see the module docstring)."""
    pr = E.prepare(bars, profile, atr=signals.atr, bars_1s=bars_1s)
    profile = pr.profile        # a crypto profile trades the bars' own pair
    a = pr.arrays
    ts, o, h, lo, c, v = a["ts"], a["open"], a["high"], a["low"], a["close"], a["volume"]
    n = len(ts)
    sp, sched = pr.sp, pr.sched
    rk = RiskKernel(profile, schedule=schedule_covering(profile, ts))
    p = rk.arrays.p
    tick, tv = p[K.P_TICK_SIZE], p[K.P_TICK_VALUE]
    pv = tv / tick
    comm_rt = p[K.P_COMMISSION_RT]
    fill_mode = int(sp[L.SP_FILL_MODE])
    through = fill_mode == L.FM_CONSERVATIVE
    optimistic = fill_mode == L.FM_OPTIMISTIC
    continuous = sp[L.SP_CONTINUOUS] > 0
    min_conf = profile.risk.min_confidence
    direction = np.asarray(signals.direction)
    conf = np.asarray(signals.confidence, dtype=np.float64)
    pcls = signals.predicted_class if signals.predicted_class is not None else signals.direction
    pcls = np.asarray(pcls, dtype=np.int8)
    atr = pr.atr
    trades: list[list[float]] = []
    events: list[tuple[int, int, float]] = []
    denials: Counter[str] = Counter()
    pos: _Pos | None = None
    order: _Order | None = None
    last_exit = -(1 << 40)
    cur_row = -2
    prev_bits = 0

    def slip_at(i: int, brk: int) -> float:
        model = int(sp[L.SP_SLIP_MODEL])
        if model == 2 and brk & (K.B_VOL_HALVE | K.B_VOL_PAUSE):
            return float(sp[L.SP_SLIP_VOL])
        if model >= 1 and not pr.rth[i]:
            return float(sp[L.SP_SLIP_ETH])
        return float(sp[L.SP_SLIP_RTH])

    def close(i: int, px: float, slip: float, reason: int, vol: float) -> None:
        nonlocal pos
        assert pos is not None
        market = bool(L.market_exit(sp, reason))
        slip, imp = L.fill_slip(sp, p, market, slip, px, float(pos.n), vol)
        gross = pos.d * (px - pos.entry) * pv * pos.n
        comm = comm_rt * pos.n + pos.efee + L.fee_usd(p, not market, px, float(pos.n))
        slip_usd = (pos.eslip + slip) * tv * pos.n
        hi, lo_ = max(pos.hi, px), min(pos.lo, px)
        fav = (hi - pos.entry) if pos.d > 0 else (pos.entry - lo_)
        adv = (pos.entry - lo_) if pos.d > 0 else (hi - pos.entry)
        trades.append([pos.entry_i, i, pos.d, pos.entry, px, pos.n, gross, comm, slip_usd,
                       gross - comm - slip_usd, reason, pos.conf, pos.pclass,
                       max(fav, 0.0) * pv * pos.n, max(adv, 0.0) * pv * pos.n, float(pos.amb),
                       pos.eslip * tv * pos.n, (pos.eimp + imp) * tv * pos.n])
        rk.on_trade_closed(gross - comm - slip_usd, int(ts[i]))
        pos = None

    def open_net(px: float) -> float:
        if pos is None:
            return 0.0
        return float(K.open_pnl_net(p, float(pos.d), float(pos.n), pos.entry, pos.eslip, px,
                                    pos.efee))

    def do_order(i: int, px: float, at_open: bool, row: int, vol: float) -> None:
        nonlocal order, pos
        od = order
        order = None
        assert od is not None
        slip = slip_at(i, od.brk)
        if od.kind in (S.PK_EXIT, S.PK_REVERSE) and pos is not None:
            close(i, px, slip, L.X_SIGNAL, vol)
        if od.kind == S.PK_EXIT:
            return
        if row < 0 or (row != od.row and not continuous):
            denials[K.REASONS[K.R_OUTSIDE_HOURS]] += 1
            return
        res = rk.check(EntryIntent(int(ts[i]), od.d, od.conf, od.sd / tick, breakers=od.brk,
                                   price=float(px)))
        if not isinstance(res, Approved):
            denials[res.reason] += 1
            return
        ref, eslip, market = px, slip, True
        if sp[L.SP_ENTRY_LIMIT] > 0:
            eslip, market = float(sp[L.SP_SLIP_LIMIT]), False
            if at_open:
                if od.d > 0:
                    ok = lo[i] < od.limit if through else lo[i] <= od.limit
                    ref = min(od.limit, px)
                else:
                    ok = h[i] > od.limit if through else h[i] >= od.limit
                    ref = max(od.limit, px)
                if not ok:
                    return
        eslip, eimp = L.fill_slip(sp, p, market, eslip, ref, float(res.contracts), vol)
        stop, tgt = S.bracket_levels(sp, float(od.d), ref, eslip, od.sd, od.td, tick)
        pos = _Pos(od.d, res.contracts, ref, eslip, i, stop, tgt, ref, ref, od.conf, od.pclass,
                   row, efee=float(L.fee_usd(p, not market, ref, float(res.contracts))),
                   eimp=eimp)

    for i in range(n):
        row = int(pr.rows[i])
        if row != cur_row:
            cur_row = row
            if row >= 0:
                rk.on_time(int(ts[i]))
        vprev = float(v[i - 1] if i > 0 else v[i])   # last completed bar (market impact)
        if order is not None and not optimistic:
            do_order(i, o[i], True, row, vprev)
        slip = slip_at(i, prev_bits)
        if pos is not None:
            if row < 0 or (row != pos.row and not continuous) \
                    or int(ts[i]) + pr.bar_ns > sched[row, K.S_EXIT]:
                close(i, o[i], slip, L.X_EOD, vprev)
            elif pos.entry_i < i and S.time_stop_due(sp, int(ts[pos.entry_i]), int(ts[i])):
                close(i, o[i], slip, L.X_TIME, vprev)
            else:
                _bracket(i, pos, o, h, lo, ts, sp, rk, slip, through, pr,
                         lambda *a: close(*a, vprev))
            if pos is None:
                last_exit = i
        if pos is not None:
            pos.hi, pos.lo = max(pos.hi, h[i]), min(pos.lo, lo[i])
            pos.stop = float(S.breakeven_stop(sp, float(pos.d), pos.entry,
                                              pos.hi if pos.d > 0 else pos.lo, pos.stop, tick))
            if rk.mark(open_net(c[i])) is not None:
                close(i, c[i], slip, L.X_RISK, float(v[i]))
                last_exit = i
        bits = rk.on_bar(int(ts[i]), h[i], lo[i], c[i], v[i])   # breaker inputs at the close
        act = int(S.action_of(int(direction[i]), float(conf[i]), min_conf))
        if act != 0 and row >= 0:
            kind = int(S.decide(0 if pos is None else pos.d, act, i - last_exit,
                                int(sp[L.SP_COOLDOWN]), int(sp[L.SP_OPPOSITE])))
            if kind != S.PK_NONE:
                sd = td = 0.0
                if kind != S.PK_EXIT:
                    sd, td = S.bracket_distance(i, act, c, h, lo, atr, sp, tick)
                order = _Order(kind, act, float(conf[i]), int(pcls[i]), sd, td, row, float(c[i]),
                               bits)
                if optimistic:
                    had = pos is not None
                    do_order(i, c[i], False, row, float(v[i]))
                    if had and pos is None:
                        last_exit = i
        if pos is not None and (i + 1 >= n or (not continuous and (
                pr.rows[i + 1] != row or ts[i + 1] >= sched[row, K.S_FLAT]))):
            close(i, c[i], slip, L.X_EOD, float(v[i]))
            last_exit = i
        events.extend(rk.events(i))
        prev_bits = bits
    tr = np.array(trades, dtype=np.float64).reshape(-1, L.N_TCOLS)
    return ReferenceResult(E.trades_frame(tr, ts, float(p[K.P_LOT_SIZE])), events, dict(denials))


def _bracket(i: int, pos: _Pos, o: np.ndarray, h: np.ndarray, lo: np.ndarray, ts: np.ndarray,
             sp: np.ndarray, rk: RiskKernel, slip: float, through: bool, pr: E.Prepared,
             close) -> None:  # noqa: ANN001 - a local closure
    """Stop / target / risk floor inside bar i, in the documented order."""
    p, fs = rk.arrays.p, rk.fs
    rl, rwhy = K.floor_price(p, fs, pos.d, pos.n, pos.entry,
                             pos.eslip * p[K.P_TICK_VALUE] * pos.n + pos.efee)
    lslip = float(sp[L.SP_SLIP_LIMIT])
    sgn = pos.d
    # Mirror shorts onto longs: a short's stop above is a long's stop below in -price.
    binds = rwhy != K.R_OK and sgn * rl >= sgn * pos.stop
    eff = rl if binds else pos.stop
    sreason = L.X_RISK if binds else L.X_STOP
    sslip = slip if (binds or sp[L.SP_STOP_FILL] == 0) else 0.0
    op, hi_, lo_ = sgn * o[i], (sgn * h[i] if sgn > 0 else -lo[i]), (sgn * lo[i] if sgn > 0 else -h[i])
    e, t = sgn * eff, sgn * pos.tgt
    if op <= e:
        close(i, o[i], sslip, sreason)
        return
    if op > t or (not through and op >= t):
        close(i, pos.tgt, lslip, L.X_TARGET)
        return
    s_hit = lo_ <= e
    t_hit = hi_ > t if through else hi_ >= t
    if s_hit and t_hit:
        pos.amb = True
        first = "stop"
        mode = int(sp[L.SP_SAME_BAR])
        if mode == 1:
            first = "target"
        elif mode == 2 and len(pr.ts1):
            t0, t1 = ts[i], ts[i] + int(sp[L.SP_BAR_NS])
            for j in range(int(np.searchsorted(pr.ts1, t0)), len(pr.ts1)):
                if pr.ts1[j] >= t1:
                    break
                hj = sgn * pr.h1[j] if sgn > 0 else -pr.l1[j]
                lj = sgn * pr.l1[j] if sgn > 0 else -pr.h1[j]
                sh, th = lj <= e, (hj > t if through else hj >= t)
                if sh or th:
                    first = "target" if (th and not sh) else "stop"
                    break
        if first == "stop":
            close(i, eff, sslip, sreason)
        else:
            close(i, pos.tgt, lslip, L.X_TARGET)
        return
    if s_hit:
        close(i, eff, sslip, sreason)
    elif t_hit:
        close(i, pos.tgt, lslip, L.X_TARGET)
