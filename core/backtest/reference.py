"""A plain-Python reference loop of the backtest rules, bar by bar, no fast path.

It restates the fill and exit rules of core/backtest/loop.py in the most direct way (one
object per position, every bar visited, no skipping) and calls the SAME risk kernel
functions (core.risk.kernel: there is one rule kernel). The differential test
(tests/unit/test_backtest_differential.py) pins the compiled loop to it trade for trade on
random signals and price paths. It is slow (~1 µs-10 µs per bar): use it on small slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.backtest import engine as E
from core.backtest import loop as L
from core.strategy.signals import Signals
from core.config import Profile
from core.risk import kernel as K


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


@dataclass
class _Order:
    kind: str            # "entry" | "exit" | "reverse"
    d: int
    conf: float
    pclass: int
    sd: float
    td: float
    row: int
    limit: float
    brk: int


def run_reference(bars: pd.DataFrame, signals: Signals, *, profile: Profile,
                  bars_1s: pd.DataFrame | None = None) -> pd.DataFrame:
    """The trade log (same columns as ``run_backtest(...).trades``) from the reference loop."""
    pr = E.prepare(bars, profile, atr=signals.atr, bars_1s=bars_1s)
    a = pr.arrays
    ts, o, h, lo, c = a["ts"], a["open"], a["high"], a["low"], a["close"]
    n = len(ts)
    action = E.actions_of(signals, n, profile.risk.min_confidence)
    conf = np.asarray(signals.confidence, dtype=np.float64)
    pcls = signals.predicted_class if signals.predicted_class is not None else signals.direction
    pcls = np.asarray(pcls, dtype=np.int8)
    ra, sp, sched = pr.risk, pr.sp, pr.sched
    p = ra.p
    tick, tv = p[K.P_TICK_SIZE], p[K.P_TICK_VALUE]
    pv = tv / tick
    comm_rt = p[K.P_COMMISSION_RT]
    fill_mode = int(sp[L.SP_FILL_MODE])
    through = fill_mode == L.FM_CONSERVATIVE
    optimistic = fill_mode == L.FM_OPTIMISTIC
    fs, ist = K.new_state(p)
    trades: list[list[float]] = []
    pos: _Pos | None = None
    order: _Order | None = None
    last_exit = -(1 << 40)
    cur_row = -2

    def slip_at(i: int, brk: int) -> float:
        model = int(sp[L.SP_SLIP_MODEL])
        if model == 2 and brk & (K.B_VOL_HALVE | K.B_VOL_PAUSE):
            return float(sp[L.SP_SLIP_VOL])
        if model >= 1 and not pr.rth[i]:
            return float(sp[L.SP_SLIP_ETH])
        return float(sp[L.SP_SLIP_RTH])

    def close(i: int, px: float, slip: float, reason: int) -> None:
        nonlocal pos
        assert pos is not None
        gross = pos.d * (px - pos.entry) * pv * pos.n
        comm = comm_rt * pos.n
        slip_usd = (pos.eslip + slip) * tv * pos.n
        hi, lo_ = max(pos.hi, px), min(pos.lo, px)
        fav = (hi - pos.entry) if pos.d > 0 else (pos.entry - lo_)
        adv = (pos.entry - lo_) if pos.d > 0 else (hi - pos.entry)
        trades.append([pos.entry_i, i, pos.d, pos.entry, px, pos.n, gross, comm, slip_usd,
                       gross - comm - slip_usd, reason, pos.conf, pos.pclass,
                       max(fav, 0.0) * pv * pos.n, max(adv, 0.0) * pv * pos.n, float(pos.amb),
                       pos.eslip * tv * pos.n])
        K.on_trade_closed(p, ra.pauses, fs, ist, gross - comm - slip_usd, np.int64(ts[i]))
        pos = None

    def open_net(px: float) -> float:
        if pos is None:
            return 0.0
        return pos.d * (px - pos.entry) * pv * pos.n - (comm_rt + pos.eslip * tv) * pos.n

    def do_order(i: int, px: float, at_open: bool, row: int) -> None:
        nonlocal order, pos
        od = order
        order = None
        assert od is not None
        slip = slip_at(i, od.brk)
        if od.kind in ("exit", "reverse") and pos is not None:
            close(i, px, slip, L.X_SIGNAL)
        if od.kind == "exit":
            return
        if row < 0 or row != od.row:
            return
        ph = K.schedule_phase(sched, row, np.int64(ts[i]))
        nc, _why = K.check_entry(p, ra.tiers, ra.confs, fs, ist, np.int64(ts[i]), od.conf,
                                 od.sd / tick, ph, od.brk, 0)
        if nc <= 0:
            return
        ref, eslip = px, slip
        if sp[L.SP_ENTRY_LIMIT] > 0:
            eslip = float(sp[L.SP_SLIP_LIMIT])
            if at_open:
                if od.d > 0:
                    ok = lo[i] < od.limit if through else lo[i] <= od.limit
                    ref = min(od.limit, px)
                else:
                    ok = h[i] > od.limit if through else h[i] >= od.limit
                    ref = max(od.limit, px)
                if not ok:
                    return
        pos = _Pos(od.d, int(nc), ref, eslip, i, ref - od.d * od.sd, ref + od.d * od.td, ref, ref,
                   od.conf, od.pclass, row)

    for i in range(n):
        row = int(pr.rows[i])
        if row != cur_row:
            cur_row = row
            if row >= 0:
                K.on_day_start(p, fs, ist, int(pr.sched_day[row]))
        if order is not None and not optimistic:
            do_order(i, o[i], True, row)
        slip = slip_at(i, int(pr.brk[i - 1]) if i > 0 else 0)
        if pos is not None:
            ph = K.schedule_phase(sched, row, np.int64(ts[i])) if row >= 0 else K.PH_FLAT
            te = sp[L.SP_TIME_STOP_NS]
            if ph >= K.PH_EXIT or row != pos.row:
                close(i, o[i], slip, L.X_EOD)
            elif te > 0 and pos.entry_i < i and ts[i] - ts[pos.entry_i] >= int(te):
                close(i, o[i], slip, L.X_TIME)
            else:
                _bracket(i, pos, o, h, lo, ts, sp, p, fs, slip, through, pr, close)
            if pos is None:
                last_exit = i
        if pos is not None:
            pos.hi, pos.lo = max(pos.hi, h[i]), min(pos.lo, lo[i])
            be = sp[L.SP_BE_TICKS]
            if be >= 0:
                if pos.d > 0 and pos.hi - pos.entry >= be * tick - 1e-9:
                    pos.stop = max(pos.stop, pos.entry)
                elif pos.d < 0 and pos.entry - pos.lo >= be * tick - 1e-9:
                    pos.stop = min(pos.stop, pos.entry)
            if K.mark(p, fs, ist, open_net(c[i])) != K.R_OK:
                close(i, c[i], slip, L.X_RISK)
                last_exit = i
        act = int(action[i])
        if act != 0 and row >= 0:
            kind = None
            if pos is None:
                if act in (1, -1) and i - last_exit > int(sp[L.SP_COOLDOWN]):
                    kind = "entry"
            elif act == 2:
                kind = "exit"
            elif act == -pos.d:
                kind = "reverse" if sp[L.SP_REVERSAL] > 0 else "exit"
            if kind is not None:
                sd = td = 0.0
                if kind != "exit":
                    sd, td = _dist(i, act, c, h, lo, pr.atr, sp, tick)
                order = _Order(kind, act, float(conf[i]), int(pcls[i]), sd, td, row, float(c[i]),
                               int(pr.brk[i]))
                if optimistic:
                    had = pos is not None
                    do_order(i, c[i], False, row)
                    if had and pos is None:
                        last_exit = i
        if pos is not None and (i + 1 >= n or pr.rows[i + 1] != row
                                or ts[i + 1] >= sched[row, K.S_FLAT]):
            close(i, c[i], slip, L.X_EOD)
            last_exit = i
    tr = np.array(trades, dtype=np.float64).reshape(-1, L.N_TCOLS)
    return E.trades_frame(tr, ts)


def _dist(i: int, d: int, c: np.ndarray, h: np.ndarray, lo: np.ndarray, atr: np.ndarray,
          sp: np.ndarray, tick: float) -> tuple[float, float]:
    ratio = sp[L.SP_TARGET_TICKS] / sp[L.SP_STOP_TICKS]
    if sp[L.SP_BRACKET] == 1 and len(atr) and atr[i] > 0:
        st = max(1.0, math.ceil(sp[L.SP_ATR_MULT] * atr[i] / tick - 1e-9))
    elif sp[L.SP_BRACKET] == 2:
        j0 = max(0, i - int(sp[L.SP_LOOKBACK]) + 1)
        if d > 0:
            st = max(1.0, math.ceil((c[i] - lo[j0:i + 1].min()) / tick - 1e-9) + 1.0)
        else:
            st = max(1.0, math.ceil((h[j0:i + 1].max() - c[i]) / tick - 1e-9) + 1.0)
    else:
        st = float(sp[L.SP_STOP_TICKS])
    tt = max(1.0, math.ceil(st * ratio - 1e-9))
    return st * tick, tt * tick


def _bracket(i: int, pos: _Pos, o: np.ndarray, h: np.ndarray, lo: np.ndarray, ts: np.ndarray,
             sp: np.ndarray, p: np.ndarray, fs: np.ndarray, slip: float, through: bool,
             pr: E.Prepared, close) -> None:  # noqa: ANN001 - a local closure
    """Stop / target / risk floor inside bar i, in the documented order."""
    rl, rwhy = K.floor_price(p, fs, pos.d, pos.n, pos.entry, pos.eslip * p[K.P_TICK_VALUE] * pos.n)
    lslip = float(sp[L.SP_SLIP_LIMIT])
    sgn = pos.d
    # Mirror shorts onto longs: a short's stop above is a long's stop below in -price.
    binds = rwhy != K.R_OK and sgn * rl >= sgn * pos.stop
    eff = rl if binds else pos.stop
    sreason = L.X_RISK if binds else L.X_STOP
    op, hi_, lo_ = sgn * o[i], (sgn * h[i] if sgn > 0 else -lo[i]), (sgn * lo[i] if sgn > 0 else -h[i])
    e, t = sgn * eff, sgn * pos.tgt
    if op <= e:
        close(i, o[i], slip, sreason)
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
            close(i, eff, slip, sreason)
        else:
            close(i, pos.tgt, lslip, L.X_TARGET)
        return
    if s_hit:
        close(i, eff, slip, sreason)
    elif t_hit:
        close(i, pos.tgt, lslip, L.X_TARGET)
