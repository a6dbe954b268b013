"""The Python face of the risk kernel: a profile in, decisions out as VALUES.

:class:`RiskKernel` owns one account's state arrays and calls the compiled rules of
:mod:`core.risk.kernel` (the very functions the backtest loop runs). ``check`` returns
:class:`Approved` or :class:`Denied` — never raises for a rule — and :meth:`RiskKernel.status`
shows the trading state machine ACTIVE → REDUCING → PAUSED(until) → HALTED.
State round-trips through :meth:`RiskKernel.snapshot` / :meth:`RiskKernel.restore` so the
journal can make it survive restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core import calendar as cal
from core.config import Profile
from core.risk import kernel as K
from core.risk.params import RiskArrays, Schedule, build_schedule, risk_arrays


@dataclass(frozen=True, slots=True)
class EntryIntent:
    """A request to open a position.

    Attributes:
        ts_ns: Decision time, UTC ns.
        direction: +1 long, -1 short.
        confidence: Model probability of the predicted class (0..1).
        stop_ticks: Distance of the protective stop in ticks (sizes the trade).
        atr, atr_normal, volume, volume_avg: Circuit-breaker inputs (0 = unknown, no breaker).
        spread_ticks: Current bid/ask spread in ticks when quotes exist (None = unknown).
        open_contracts: Contracts already on the account (position + working orders that
            could fill), counted against the contract cap.
    """

    ts_ns: int
    direction: int
    confidence: float
    stop_ticks: float
    atr: float = 0.0
    atr_normal: float = 0.0
    volume: float = 0.0
    volume_avg: float = 0.0
    spread_ticks: float | None = None
    open_contracts: int = 0


@dataclass(frozen=True, slots=True)
class Approved:
    """The entry may go ahead with ``contracts`` (already sized and capped)."""

    contracts: int
    mode: str

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    """The entry is refused; ``reason`` says why in words, ``code`` is the kernel's reason."""

    reason: str
    code: int
    mode: str

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class RiskStatus:
    """What the operator sees: the state machine and the numbers behind it."""

    mode: str
    reason: str
    paused_until_ns: int | None
    balance: float
    day_pnl: float
    day_peak_equity: float
    mll_level: float | None
    consecutive_losses: int
    consistency: float | None
    extra: dict[str, Any] = field(default_factory=dict)


class RiskKernel:
    """One account's risk rules and state, built from a profile.

    Args:
        profile: The profile whose numbers are enforced.
        schedule: Deadlines table; built lazily around each timestamp when omitted.
    """

    def __init__(self, profile: Profile, schedule: Schedule | None = None) -> None:
        self.profile = profile
        self.arrays: RiskArrays = risk_arrays(profile)
        self.fs, self.ist = K.new_state(self.arrays.p)
        self._schedule = schedule

    # ------------------------------------------------------------------ schedule
    def _sched_row(self, ts_ns: int) -> tuple[np.ndarray, int]:
        day = int(cal.trading_day_of(np.array([ts_ns], dtype=np.int64))[0])
        if day < 0:
            return np.zeros((0, 5), np.int64), -1
        sch = self._schedule
        if sch is None or not len(sch.day) or not sch.day[0] <= day <= sch.day[-1]:
            d = np.datetime64(day, "D")
            sch = build_schedule(self.profile, str(d - 3), str(d + 40))
            self._schedule = sch
        rows = np.nonzero(sch.day == day)[0]
        return sch.table, (int(rows[0]) if len(rows) else -1)

    def phase(self, ts_ns: int) -> int:
        """End-of-day schedule phase at ``ts_ns`` (``PH_*`` constants of core.risk.kernel)."""
        table, row = self._sched_row(ts_ns)
        return int(K.schedule_phase(table, row, np.int64(ts_ns)))

    def must_flatten(self, ts_ns: int) -> bool:
        """True from the schedule's market-exit time on (and outside sessions)."""
        return self.phase(ts_ns) in (K.PH_EXIT, K.PH_FLAT)

    # ------------------------------------------------------------------ events
    def on_time(self, ts_ns: int) -> None:
        """Advance the trading day when ``ts_ns`` belongs to a new one (EOD settlement)."""
        day = int(cal.trading_day_of(np.array([ts_ns], dtype=np.int64))[0])
        if day >= 0:
            K.on_day_start(self.arrays.p, self.fs, self.ist, day)

    def mark(self, open_pnl_net: float) -> Denied | None:
        """Mark to market; a :class:`Denied` means a limit was touched: flatten now.

        Args:
            open_pnl_net: Open P&L from the ACTUAL fill price (slippage included) at the
                current price, minus the position's round-trip commission.
        """
        why = int(K.mark(self.arrays.p, self.fs, self.ist, float(open_pnl_net)))
        return None if why == K.R_OK else Denied(K.REASONS[why], why, self._mode_name(0))

    def on_trade_closed(self, net_pnl: float, ts_ns: int) -> Denied | None:
        """Book a closed trade's net P&L (after costs); returns a breach if one happened."""
        why = int(K.on_trade_closed(self.arrays.p, self.arrays.pauses, self.fs, self.ist,
                                    float(net_pnl), np.int64(ts_ns)))
        return None if why == K.R_OK else Denied(K.REASONS[why], why, self._mode_name(ts_ns))

    def check(self, intent: EntryIntent) -> Approved | Denied:
        """Approve (with a size) or deny a new entry. Never raises for a rule."""
        a = self.arrays
        self.on_time(intent.ts_ns)
        if intent.spread_ticks is not None:
            K.spread_update(a.p, self.fs, float(intent.spread_ticks))
        bits = int(K.breaker_bits(a.p, intent.atr, intent.atr_normal, intent.volume,
                                  intent.volume_avg))
        table, row = self._sched_row(intent.ts_ns)
        ph = int(K.schedule_phase(table, row, np.int64(intent.ts_ns)))
        n, why = K.check_entry(a.p, a.tiers, a.confs, self.fs, self.ist, np.int64(intent.ts_ns),
                               float(intent.confidence), float(intent.stop_ticks), ph, bits,
                               int(intent.open_contracts))
        mode = K.MODE_NAMES[int(K.mode_of(self.fs, self.ist, np.int64(intent.ts_ns), ph, bits))]
        if n > 0:
            return Approved(int(n), mode)
        return Denied(K.REASONS[int(why)], int(why), mode)

    # ------------------------------------------------------------------ status / persistence
    def _mode_name(self, ts_ns: int) -> str:
        ph = self.phase(ts_ns) if ts_ns else K.PH_OPEN
        return K.MODE_NAMES[int(K.mode_of(self.fs, self.ist, np.int64(ts_ns), ph, 0))]

    def status(self, ts_ns: int) -> RiskStatus:
        """The state machine at ``ts_ns`` with the numbers an operator needs."""
        fs, ist, p = self.fs, self.ist, self.arrays.p
        ph = self.phase(ts_ns)
        mode = int(K.mode_of(fs, ist, np.int64(ts_ns), ph, 0))
        if ist[K.I_HALT]:
            reason = K.REASONS[int(ist[K.I_HALT])]
        elif ist[K.I_DAY_STOP]:
            reason = K.REASONS[int(ist[K.I_DAY_STOP])] + " (until the next session)"
        elif ts_ns < ist[K.I_PAUSE_UNTIL]:
            reason = K.REASONS[K.R_LOSS_PAUSE]
        elif ph in (K.PH_NO_NEW, K.PH_EXIT, K.PH_FLAT):
            reason = K.REASONS[K.R_NO_NEW_ENTRIES]
        elif ph == K.PH_CLOSED:
            reason = K.REASONS[K.R_OUTSIDE_HOURS]
        elif ph == K.PH_REDUCE:
            reason = "end-of-day size reduction"
        else:
            reason = "ok"
        until = int(ist[K.I_PAUSE_UNTIL]) if ts_ns < ist[K.I_PAUSE_UNTIL] else None
        cr = float(K.consistency_ratio(p, fs))
        return RiskStatus(
            mode=K.MODE_NAMES[mode], reason=reason, paused_until_ns=until,
            balance=float(fs[K.F_BALANCE]), day_pnl=float(fs[K.F_LAST_EQUITY] - fs[K.F_DAY_START_BAL]),
            day_peak_equity=float(fs[K.F_DAY_PEAK_EQ]),
            mll_level=float(fs[K.F_MLL_LEVEL]) if p[K.P_HAS_MLL] else None,
            consecutive_losses=int(ist[K.I_CONSEC_LOSSES]),
            consistency=None if np.isnan(cr) else cr,
        )

    def snapshot(self) -> dict[str, list[float] | list[int]]:
        """Plain lists of the state (for the journal): restore with :meth:`restore`."""
        return {"fs": self.fs.tolist(), "ist": self.ist.tolist()}

    def restore(self, snap: dict[str, Any]) -> None:
        """Load a :meth:`snapshot` (risk state survives restarts)."""
        self.fs = np.asarray(snap["fs"], dtype=np.float64).copy()
        self.ist = np.asarray(snap["ist"], dtype=np.int64).copy()

    def reset_halt(self) -> None:
        """Manual review done: clear an account-drawdown halt (never the kill switch or MLL)."""
        if self.ist[K.I_HALT] == K.R_ACCOUNT_DRAWDOWN:
            self.ist[K.I_HALT] = 0
            self.fs[K.F_PEAK_BAL] = self.fs[K.F_BALANCE]
