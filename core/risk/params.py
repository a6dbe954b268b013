"""Profile → the kernel's parameter arrays, and the per-day end-of-day schedule table.

Every number comes from the profile; this module only lays them out for the compiled rules
in :mod:`core.risk.kernel`. Schedule deadlines are computed per trading day in exchange
wall time with ``core.calendar`` (DST-proof, early closes respected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numba as nb
import numpy as np
import pandas as pd

from core import calendar as cal
from core.config import Profile
from core.domain import get_instrument
from core.errors import ConfigError
from core.risk import kernel as K


#: "No contract cap" for crypto lots (a finite number: the kernel's arrays must be finite).
_NO_CAP = 1e15


@dataclass(frozen=True)
class RiskArrays:
    """The compiled kernel's inputs built from one profile.

    Attributes:
        p: Parameter vector (index constants ``P_*`` in core.risk.kernel).
        tiers: (min_balance, max_contracts, risk_pct) rows, ascending.
        confs: (min_confidence, multiplier) rows, ascending.
        pauses: (losses, minutes) rows, ascending.
    """

    p: np.ndarray
    tiers: np.ndarray
    confs: np.ndarray
    pauses: np.ndarray


def risk_arrays(profile: Profile) -> RiskArrays:
    """Lay out a profile's risk numbers for the kernel.

    The hard contract cap is the smaller of ``risk.max_contracts`` and Topstep's
    ``max_minis`` converted with the instrument's micro ratio (MES counts 1/10 of a mini).
    The effective daily loss is the house ``risk.max_daily_loss``; Topstep's optional DLL is
    kept separately so a breach is reported as the forced break it is.

    Sizes are in lots (core/risk/sizing.py): ``P_TICK_VALUE`` is the value of one tick for one
    lot (``Instrument.lot_tick_value``). Percentage-tick instruments (crypto) have no contract
    caps — ``max_contracts`` and the tiers' ``max_contracts`` count futures contracts — their
    size is capped by ``risk.max_position_pct`` of the balance and refused below the
    instrument's minimum notional; fees come from ``costs.*_fee_pct`` or the instrument.
    With ``risk.limits_unit = "percent"`` the limits become fractions of the balances they
    refer to (core/risk/limits.py), and the kill switch, the minimum balance and the tiers'
    ``min_balance`` are % of the starting balance.
    """
    r = profile.risk
    inst = get_instrument(profile.instrument)
    p = np.zeros(K.N_PARAMS, dtype=np.float64)
    start = r.starting_balance
    p[K.P_START_BAL] = start
    if r.limits_unit == "percent":
        p[K.P_DAILY_LOSS_FRAC] = r.max_daily_loss / 100.0
        p[K.P_DAILY_DD_FRAC] = r.max_daily_drawdown / 100.0
        p[K.P_RISK_TRADE_FRAC] = r.max_risk_per_trade / 100.0
        p[K.P_ACCT_DD_FRAC] = r.account_drawdown_stop / 100.0
        p[K.P_KILL] = r.kill_switch_loss / 100.0 * start
        p[K.P_MIN_BAL] = r.min_balance / 100.0 * start
    else:
        p[K.P_MAX_DAILY_LOSS] = r.max_daily_loss
        p[K.P_MAX_DAILY_DD] = r.max_daily_drawdown
        p[K.P_MAX_RISK_TRADE] = r.max_risk_per_trade
        p[K.P_ACCT_DD] = r.account_drawdown_stop
        p[K.P_KILL] = r.kill_switch_loss
        p[K.P_MIN_BAL] = r.min_balance
    p[K.P_MIN_CONF] = r.min_confidence
    cap = float(r.max_contracts)
    ts = profile.topstep
    if ts is not None:
        cap = min(cap, float(ts.max_minis * inst.micro_ratio))
    p[K.P_MAX_CONTRACTS] = cap
    p[K.P_TICK_SIZE] = inst.tick_size
    p[K.P_TICK_VALUE] = inst.lot_tick_value
    p[K.P_LOT_SIZE] = inst.lot_size
    p[K.P_COMMISSION_RT] = profile.costs.commission_round_trip
    costs = profile.costs
    p[K.P_FEE_MAKER] = (inst.maker_fee if costs.maker_fee_pct is None
                        else costs.maker_fee_pct / 100.0)
    p[K.P_FEE_TAKER] = (inst.taker_fee if costs.taker_fee_pct is None
                        else costs.taker_fee_pct / 100.0)
    p[K.P_MIN_NOTIONAL] = inst.min_notional
    p[K.P_MAX_NOTIONAL] = 0.0 if r.max_position_pct is None else r.max_position_pct / 100.0
    if inst.percent:       # lots, not contracts: capped by max_position_pct instead
        p[K.P_MAX_CONTRACTS] = _NO_CAP
    p[K.P_REDUCE_FACTOR] = profile.schedule.reduce_factor
    p[K.P_VOL_MULT] = r.volatility_breaker_multiple
    p[K.P_VOL_ACTION] = 1.0 if r.volatility_breaker_action == "pause" else 0.0
    p[K.P_VOLU_RATIO] = r.volume_floor_ratio
    p[K.P_VOLU_ACTION] = 1.0 if r.volume_floor_action == "pause" else 0.0
    p[K.P_SPREAD_PAUSE] = r.spread_pause_ticks
    p[K.P_SPREAD_RESUME] = r.spread_resume_ticks
    p[K.P_BREAKER_PERIOD] = max(int(profile.strategy.atr_period), 1)
    if ts is not None:
        p[K.P_HAS_MLL] = 1.0
        p[K.P_MLL] = ts.max_loss_limit
        p[K.P_MLL_LOCK] = r.starting_balance
        p[K.P_TOPSTEP_DLL] = ts.daily_loss_limit or 0.0
        p[K.P_TIERS_DAY_START] = 1.0 if ts.program == "xfa" else 0.0
        p[K.P_PROFIT_TARGET] = ts.profit_target or 0.0
        p[K.P_CONSISTENCY] = ts.consistency_pct or 0.0
        # Worst modelled exit slippage plus one tick of level rounding, at the full contract cap
        # (topstepx-gateway §9.7: flatten at the floor plus a buffer), so our liquidation fills
        # above Topstep's line (50K: 50 MES × 4 ticks × $1.25 = $250 above the MLL).
        worst = max(profile.costs.slippage_ticks_eth, profile.costs.slippage_ticks_volatile,
                    profile.costs.slippage_ticks)
        p[K.P_MLL_BUFFER] = cap * (worst + 1.0) * inst.tick_value
        p[K.P_MLL_INTRADAY] = 1.0 if ts.mll_trailing == "intraday" else 0.0
    tiers = np.array([[t.min_balance, t.max_contracts, t.risk_pct] for t in r.size_tiers],
                     dtype=np.float64).reshape(-1, 3)
    if r.limits_unit == "percent":
        tiers[:, 0] *= start / 100.0
    if inst.percent:
        tiers[:, 1] = _NO_CAP
    confs = np.array([[c.min_confidence, c.multiplier] for c in r.confidence_steps],
                     dtype=np.float64).reshape(-1, 2)
    pauses = np.array([[lp.losses, lp.minutes] for lp in r.loss_pauses],
                      dtype=np.float64).reshape(-1, 2)
    # A NaN limit compares False everywhere and silently switches its rule off: refuse it
    # here too (profiles are validated on load; this guards profiles built in code).
    for name, arr in (("risk parameters", p), ("size tiers", tiers), ("confidence steps", confs),
                      ("loss pauses", pauses)):
        if not np.isfinite(arr).all():
            raise ConfigError(f"profile {profile.name}: {name} contain NaN or infinity",
                              hint="every limit must be a finite number; run "
                                   "`scalpdesk profile validate` on the profile")
    return RiskArrays(p=p, tiers=tiers, confs=confs, pauses=pauses)


@dataclass(frozen=True)
class Schedule:
    """Per-trading-day deadlines (UTC ns) of the end-of-day schedule.

    Attributes:
        day: Trading day (days since 1970-01-01), ascending.
        open_ns: Globex session open; ``close_ns``: session close.
        table: int64 (n_days, 5): entries start, reduce size, no new entries, market exit,
            must be flat (columns ``S_*`` of core.risk.kernel).
    """

    day: np.ndarray
    open_ns: np.ndarray
    close_ns: np.ndarray
    table: np.ndarray
    rth_open_ns: np.ndarray | None = None
    rth_close_ns: np.ndarray | None = None
    continuous: bool = False
    notes: tuple[str, ...] = ()

    def rows_and_rth(self, ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(schedule row int32, RTH flag uint8) of every timestamp; one linear pass if sorted."""
        ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
        if self.rth_open_ns is None or self.rth_close_ns is None or len(ts) < 2 \
                or _unsorted(ts):
            rows = self.row_of(ts)
            if self.continuous:
                return rows, (rows >= 0).astype(np.uint8)
            return rows, cal.rth_mask(ts).astype(np.uint8) if len(ts) else np.zeros(0, np.uint8)
        return _rows_rth_sorted(ts, self.open_ns, self.close_ns, self.rth_open_ns,
                                self.rth_close_ns)

    def row_of(self, ts_ns: np.ndarray) -> np.ndarray:
        """Schedule row (int32) of every timestamp; -1 outside any session."""
        ts = np.asarray(ts_ns, dtype=np.int64)
        if self.continuous:
            k = np.searchsorted(self.open_ns, ts, side="right").astype(np.int64) - 1
            ok = (k >= 0) & (k < len(self.open_ns))
            kc = np.clip(k, 0, max(len(self.open_ns) - 1, 0))
            if len(self.open_ns):
                ok &= ts < self.close_ns[kc]
            return np.where(ok, kc, -1).astype(np.int32)
        td = cal.trading_day_of(ts_ns)
        rows = np.searchsorted(self.day, td).astype(np.int32)
        rows = np.minimum(rows, max(len(self.day) - 1, 0))
        ok = (td >= 0) & (len(self.day) > 0)
        if len(self.day):
            ok &= self.day[rows] == td
        return np.where(ok, rows, -1).astype(np.int32)


_NS_MIN = 60_000_000_000


def _min_ns(a: int, b: int) -> int:
    return a if a < b else b


def build_schedule(profile: Profile, start: object, end: object) -> Schedule:
    """Deadlines for every trading day from ``start`` to ``end`` (inclusive).

    CME sessions (``schedule.sessions = "cme"``): each step is the profile's wall time on that
    trading day in its time zone. The must-be-flat time is the EFFECTIVE deadline: the
    profile's ``flat_at``, never later than the session close minus
    ``schedule.close_margin_minutes`` (early closes) nor, on Topstep profiles, than
    ``topstep.flat_by`` in Chicago time. When the effective deadline is earlier than
    ``flat_at``, the whole schedule (reduce, no new entries, market exit) moves earlier by the
    same amount, keeping its offsets — so on the day after Thanksgiving (13:15 ET close) the
    $1k profile stops new entries at 12:55 and is flat by 13:10, not all at the close.
    Topstep profiles never enter before ``entries_blocked_until`` (Globex reopens then);
    RTH-only profiles start entries at ``schedule.entries_resume_at`` (e.g. 09:30 ET).

    Continuous sessions (24/7 markets): one row per calendar day from ``schedule.daily_cut``
    in ``schedule.timezone``; entries all day, no end-of-day exit (the deadlines lie past
    the day's end), daily limits roll at the cut.
    """
    s = profile.schedule
    if s.sessions == "continuous":
        return _continuous_schedule(profile, start, end)
    tsp = profile.topstep
    ses = cal.sessions(start, end)
    days = (ses["trading_day"].to_numpy().astype("datetime64[D]").astype(np.int64))
    n = len(ses)
    table = np.zeros((n, 5), dtype=np.int64)
    opens = ses["open_ns"].to_numpy()
    closes = ses["close_ns"].to_numpy()
    rth_open = ses["rth_open_ns"].to_numpy()
    rth_close = ses["rth_close_ns"].to_numpy()
    margin = int(round(s.close_margin_minutes * _NS_MIN))
    for k in range(n):
        d = date(1970, 1, 1) + timedelta(days=int(days[k]))
        close = int(closes[k])
        nominal = cal.local_time_ns(d, s.flat_at, s.timezone)
        flat = _min_ns(nominal, close - margin)
        if tsp is not None:
            flat = _min_ns(flat, cal.local_time_ns(d, tsp.flat_by, tsp.timezone))
        shift = max(nominal - flat, 0)
        exit_ = _min_ns(cal.local_time_ns(d, s.exit_at, s.timezone) - shift, flat)
        no_new = _min_ns(cal.local_time_ns(d, s.no_new_entries_at, s.timezone) - shift, exit_)
        reduce_ = _min_ns(cal.local_time_ns(d, s.reduce_size_at, s.timezone) - shift, no_new)
        if s.rth_only:
            entry = int(rth_open[k]) if s.entries_resume_at is None else \
                cal.local_time_ns(d, s.entries_resume_at, s.timezone)
            entry = max(entry, int(rth_open[k]))
            if rth_close[k] <= rth_open[k]:   # holiday session without RTH: no entries
                entry = flat
        else:
            entry = int(opens[k])
            if tsp is not None:
                # Orders are blocked until entries_blocked_until (CT) on the evening the session opens.
                eve = pd.Timestamp(int(opens[k]), unit="ns", tz="UTC").tz_convert(tsp.timezone).date()
                blocked = cal.local_time_ns(eve, tsp.entries_blocked_until, tsp.timezone)
                entry = max(entry, blocked)
        table[k] = (min(entry, no_new), reduce_, no_new, exit_, flat)
    return Schedule(day=days, open_ns=opens.astype(np.int64), close_ns=closes.astype(np.int64),
                    table=table, rth_open_ns=rth_open.astype(np.int64),
                    rth_close_ns=rth_close.astype(np.int64))


def _continuous_schedule(profile: Profile, start: object, end: object) -> Schedule:
    """24/7 sessions: one trading day per calendar day, rolling at ``schedule.daily_cut``."""
    s = profile.schedule
    d0 = pd.Timestamp(str(start)).date()
    d1 = pd.Timestamp(str(end)).date()
    n = max((d1 - d0).days + 1, 0)
    days = np.array([(d0 - date(1970, 1, 1)).days + k for k in range(n)], dtype=np.int64)
    opens = np.array([cal.local_time_ns(d0 + timedelta(days=k), s.daily_cut, s.timezone)
                      for k in range(n + 1)], dtype=np.int64)
    closes = opens[1:].copy()
    opens = opens[:n].copy()
    never = closes + 1   # past the day's end: no end-of-day phase is ever reached
    table = np.stack([opens, never, never, never, never], axis=1).astype(np.int64) \
        if n else np.zeros((0, 5), np.int64)
    return Schedule(day=days, open_ns=opens, close_ns=closes, table=table, rth_open_ns=opens,
                    rth_close_ns=closes, continuous=True)


def schedule_covering(profile: Profile, ts_ns: np.ndarray) -> Schedule:
    """The schedule of every trading day the (sorted) timestamps can belong to."""
    if len(ts_ns) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Schedule(empty, empty, empty, np.zeros((0, 5), np.int64))
    lo = np.datetime64(int(ts_ns[0]) - 2 * 86_400 * 10**9, "ns").astype("datetime64[D]")
    hi = np.datetime64(int(ts_ns[-1]) + 2 * 86_400 * 10**9, "ns").astype("datetime64[D]")
    return build_schedule(profile, str(lo), str(hi))


def schedule_for_timestamps(profile: Profile, ts_ns: np.ndarray) -> tuple[Schedule, np.ndarray]:
    """The schedule covering ``ts_ns`` and each timestamp's row in it (-1 outside sessions)."""
    sch = schedule_covering(profile, ts_ns)
    if len(ts_ns) == 0:
        return sch, np.zeros(0, np.int32)
    rows, _rth = sch.rows_and_rth(ts_ns)
    return sch, rows


@nb.njit(cache=True, nogil=True)
def _rows_rth_sorted(ts: np.ndarray, opens: np.ndarray, closes: np.ndarray, rth_o: np.ndarray,
                     rth_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted timestamps with sorted, disjoint sessions: row (-1 outside) and RTH flag."""
    n = ts.shape[0]
    rows = np.full(n, -1, dtype=np.int32)
    rth = np.zeros(n, dtype=np.uint8)
    k = 0
    m = opens.shape[0]
    for i in range(n):
        t = ts[i]
        while k < m and closes[k] <= t:
            k += 1
        if k < m and opens[k] <= t:
            rows[i] = k
            if rth_o[k] <= t < rth_c[k]:
                rth[i] = 1
    return rows, rth


@nb.njit(cache=True, nogil=True)
def _unsorted(ts: np.ndarray) -> bool:
    for i in range(1, ts.shape[0]):
        if ts[i] < ts[i - 1]:
            return True
    return False
