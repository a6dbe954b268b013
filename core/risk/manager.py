"""The Python face of the risk kernel: a profile in, decisions out as VALUES.

:class:`RiskKernel` owns one account's state arrays and calls the compiled rules of
:mod:`core.risk.kernel` (the very functions the backtest loop runs) one event at a time — the
per-event path the live engine uses. ``check`` returns :class:`Approved` or :class:`Denied`
(never raises for a rule or a bad input); the trading state machine ACTIVE → REDUCING →
PAUSED → HALTED is visible through :meth:`RiskKernel.status` and reported as it changes by
:meth:`RiskKernel.poll`. Operator intents (pause, resume, kill, re-arm, review) are kernel
inputs, so a journal replay applies them. State round-trips through the versioned, named
:meth:`RiskKernel.snapshot` / :meth:`RiskKernel.restore`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import Profile
from core.risk import breakers as BR
from core.risk import events as RE
from core.risk import kernel as K
from core.risk.params import RiskArrays, Schedule, build_schedule, risk_arrays
from core.risk.validation import invalid_intent, parse_snapshot


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
        breakers: Breaker bits already computed (core.risk.breakers.step); when given they
            replace the four raw inputs above. None with no raw inputs: the bits of the last
            bar fed to :meth:`RiskKernel.on_bar`.
        price: The entry's reference price. Required for instruments with notional rules
            (crypto: minimum notional, position cap in % of the balance); unused otherwise.
            ``Approved.contracts`` then counts lots of the instrument's lot size.
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
    breakers: int | None = None
    price: float | None = None


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
    """What the operator sees: the state machine and the numbers behind it.

    ``halts`` lists every halting limit breached (a loss may cross several); ``failed`` is
    True when a prop-firm rule that ends the account (Topstep's MLL) was breached.
    """

    mode: str
    reason: str
    paused_until_ns: int | None
    balance: float
    day_pnl: float
    day_peak_equity: float
    mll_level: float | None
    consecutive_losses: int
    consistency: float | None
    halts: tuple[str, ...] = ()
    failed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskStateChanged:
    """The visible state machine moved (``old`` → ``new``) at ``ts_ns``, and why."""

    ts_ns: int
    old: str
    new: str
    reason: str


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
        self._bs = BR.new_state()
        self.breakers = 0          #: breaker bits after the last bar fed to on_bar
        self.atr = 0.0             #: ATR after the last bar fed to on_bar
        self._prev = RE.new_prev()
        self._last_mode: str | None = None
        self._row_cache: tuple[int, int, int] | None = None   # (row, open ns, close ns)

    # ------------------------------------------------------------------ schedule
    def _sched_row(self, ts_ns: int) -> tuple[np.ndarray, int]:
        # Per-event callers ask about the same session over and over: answer from the cached
        # session bounds in O(1) (a calendar lookup costs ~1 ms).
        c = self._row_cache
        if c is not None and c[1] <= ts_ns < c[2] and self._schedule is not None:
            return self._schedule.table, c[0]
        table, row = self._sched_row_slow(ts_ns)
        sch = self._schedule
        if row >= 0 and sch is not None:
            self._row_cache = (row, int(sch.open_ns[row]), int(sch.close_ns[row]))
        return table, row

    @property
    def halted(self) -> bool:
        """HALTED: a halting limit or an operator kill is in force."""
        return bool(self.ist[K.I_HALT] != 0)

    def _sched_row_slow(self, ts_ns: int) -> tuple[np.ndarray, int]:
        sch = self._schedule
        ts = np.array([ts_ns], dtype=np.int64)
        if sch is not None and len(sch.day):
            row = int(sch.row_of(ts)[0])
            if row >= 0 or sch.open_ns[0] <= ts_ns < sch.close_ns[-1]:
                return sch.table, row
        d = np.datetime64(int(ts_ns), "ns").astype("datetime64[D]")
        sch = build_schedule(self.profile, str(d - 3), str(d + 40))
        self._schedule = sch
        self._row_cache = None
        return sch.table, int(sch.row_of(ts)[0])

    def trading_day(self, ts_ns: int) -> int:
        """Trading day (days since 1970) of ``ts_ns`` under the profile's sessions; -1 outside."""
        _table, row = self._sched_row(ts_ns)
        return -1 if row < 0 else int(self._schedule.day[row])  # type: ignore[union-attr]

    def phase(self, ts_ns: int) -> int:
        """End-of-day schedule phase at ``ts_ns`` (``PH_*`` constants of core.risk.kernel)."""
        table, row = self._sched_row(ts_ns)
        return int(K.schedule_phase(table, row, np.int64(ts_ns)))

    def must_flatten(self, ts_ns: int) -> bool:
        """True from the schedule's market-exit time on (and outside sessions)."""
        return self.phase(ts_ns) in (K.PH_EXIT, K.PH_FLAT) or self.trading_day(ts_ns) < 0

    # ------------------------------------------------------------------ events
    def on_time(self, ts_ns: int) -> None:
        """Advance the trading day when ``ts_ns`` belongs to a new one (EOD settlement)."""
        day = self.trading_day(ts_ns)
        if day >= 0:
            K.on_day_start(self.arrays.p, self.fs, self.ist, day)

    def on_bar(self, ts_ns: int, high: float, low: float, close: float, volume: float) -> int:
        """Feed one closed bar to the circuit-breaker step; returns the breaker bits."""
        a, bits = BR.step(self._bs, self.arrays.p, int(self.arrays.p[K.P_BREAKER_PERIOD]),
                          float(high), float(low), float(close), float(volume))
        self.atr, self.breakers = float(a), int(bits)
        return self.breakers

    def mark(self, open_pnl_net: float) -> Denied | None:
        """Mark to market; a :class:`Denied` means a limit was touched: flatten now.

        Every limit crossed is recorded (not only the tightest one).

        Args:
            open_pnl_net: Open P&L from the ACTUAL fill price (slippage included) at the
                current price, minus the position's round-trip commission.
        """
        if not math.isfinite(open_pnl_net):
            return Denied(f"{K.REASONS[K.R_INVALID_INPUT]}: open P&L {open_pnl_net!r}",
                          K.R_INVALID_INPUT, self._mode_name(0))
        why = int(K.mark(self.arrays.p, self.fs, self.ist, float(open_pnl_net)))
        return None if why == K.R_OK else Denied(K.REASONS[why], why, self._mode_name(0))

    def on_trade_closed(self, net_pnl: float, ts_ns: int) -> Denied | None:
        """Book a closed trade's net P&L (after costs); returns a breach if one happened."""
        if not math.isfinite(net_pnl):
            raise ValueError(f"net P&L must be a finite number, got {net_pnl!r}")
        why = int(K.on_trade_closed(self.arrays.p, self.arrays.pauses, self.fs, self.ist,
                                    float(net_pnl), np.int64(ts_ns)))
        return None if why == K.R_OK else Denied(K.REASONS[why], why, self._mode_name(ts_ns))

    def check(self, intent: EntryIntent) -> Approved | Denied:
        """Approve (with a size) or deny a new entry. Never raises: bad inputs are Denied."""
        a = self.arrays
        bad = invalid_intent(intent)
        if not bad and intent.price is None and (a.p[K.P_MIN_NOTIONAL] > 0
                                                  or a.p[K.P_MAX_NOTIONAL] > 0):
            bad = (f"price is required for {self.profile.instrument} (minimum notional and "
                   "position cap in % of the balance)")
        if bad:
            return Denied(f"{K.REASONS[K.R_INVALID_INPUT]}: {bad}", K.R_INVALID_INPUT,
                          self._mode_name(0))
        self.on_time(intent.ts_ns)
        if intent.spread_ticks is not None:
            K.spread_update(a.p, self.fs, float(intent.spread_ticks))
        if intent.breakers is not None:
            bits = int(intent.breakers)
        elif intent.atr or intent.atr_normal or intent.volume or intent.volume_avg:
            bits = int(K.breaker_bits(a.p, intent.atr, intent.atr_normal, intent.volume,
                                      intent.volume_avg))
        else:
            bits = self.breakers
        table, row = self._sched_row(intent.ts_ns)
        ph = int(K.schedule_phase(table, row, np.int64(intent.ts_ns)))
        n, why = K.check_entry(a.p, a.tiers, a.confs, self.fs, self.ist, np.int64(intent.ts_ns),
                               float(intent.confidence), float(intent.stop_ticks), ph, bits,
                               int(intent.open_contracts),
                               0.0 if intent.price is None else float(intent.price))
        mode = K.MODE_NAMES[int(K.mode_of(self.fs, self.ist, np.int64(intent.ts_ns), ph, bits))]
        if n > 0:
            return Approved(int(n), mode)
        return Denied(K.REASONS[int(why)], int(why), mode)

    # ------------------------------------------------------------------ operator intents
    def pause(self) -> None:
        """Operator pause: no new entries until :meth:`resume` (positions keep their brackets)."""
        K.apply_intent(self.fs, self.ist, K.INT_PAUSE)

    def resume(self) -> None:
        """Lift an operator pause (never a limit stop, a halt or a loss-streak pause)."""
        K.apply_intent(self.fs, self.ist, K.INT_RESUME)

    def kill(self) -> None:
        """Operator kill: HALTED until :meth:`rearm`; the caller flattens and cancels."""
        K.apply_intent(self.fs, self.ist, K.INT_KILL)

    def rearm(self) -> bool:
        """Lift an operator kill. Never lifts the kill switch, the MLL or a day stop.

        Returns:
            True if an operator kill was lifted.
        """
        return bool(K.apply_intent(self.fs, self.ist, K.INT_REARM))

    def review_done(self) -> bool:
        """Manual review of an account-drawdown stop done: lift it (peak resets to the balance)."""
        return bool(K.apply_intent(self.fs, self.ist, K.INT_REVIEWED))

    def reset_halt(self) -> None:
        """Alias of :meth:`review_done` (kept for callers of the first API)."""
        self.review_done()

    # ------------------------------------------------------------------ status / transitions
    def _mode_name(self, ts_ns: int) -> str:
        ph = self.phase(ts_ns) if ts_ns else K.PH_OPEN
        return K.MODE_NAMES[int(K.mode_of(self.fs, self.ist, np.int64(ts_ns), ph,
                                          self.breakers))]

    def status(self, ts_ns: int) -> RiskStatus:
        """The state machine at ``ts_ns`` with the numbers an operator needs."""
        fs, ist, p = self.fs, self.ist, self.arrays.p
        ph = self.phase(ts_ns)
        mode = int(K.mode_of(fs, ist, np.int64(ts_ns), ph, self.breakers))
        halts = tuple(K.REASONS[r] for r in K.HALT_ORDER if int(ist[K.I_BREACHES]) >> r & 1)
        failed = bool(p[K.P_HAS_MLL] and int(ist[K.I_BREACHES]) >> K.R_MLL & 1)
        if ist[K.I_HALT]:
            reason = "; ".join(halts)
            if failed:
                reason += " — the account has failed Topstep's rules"
        elif ist[K.I_DAY_STOP]:
            reason = K.REASONS[int(ist[K.I_DAY_STOP])] + " (until the next session)"
        elif ist[K.I_MANUAL_PAUSE]:
            reason = K.REASONS[K.R_MANUAL_PAUSE]
        elif ts_ns < ist[K.I_PAUSE_UNTIL]:
            reason = K.REASONS[K.R_LOSS_PAUSE]
        elif ph in (K.PH_NO_NEW, K.PH_EXIT, K.PH_FLAT):
            reason = K.REASONS[K.R_NO_NEW_ENTRIES]
        elif ph == K.PH_CLOSED:
            reason = K.REASONS[K.R_OUTSIDE_HOURS]
        elif ph == K.PH_REDUCE:
            reason = "end-of-day size reduction"
        elif self.breakers:
            reason = "circuit breaker"
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
            consistency=None if np.isnan(cr) else cr, halts=halts, failed=failed,
        )

    def poll(self, ts_ns: int) -> RiskStateChanged | None:
        """The state-change output: a :class:`RiskStateChanged` when the mode moved since the
        last poll (the first poll always reports), else None."""
        st = self.status(ts_ns)
        if st.mode == self._last_mode:
            return None
        old, self._last_mode = self._last_mode, st.mode
        return RiskStateChanged(int(ts_ns), old or "START", st.mode, st.reason)

    def events(self, at: int) -> list[tuple[int, int, float]]:
        """Risk events since the last call (core.risk.events.step): (at, reason code, balance)."""
        ev = np.zeros((2 * K.N_REASONS, 3), dtype=np.float64)
        cnt = np.zeros(1, dtype=np.int64)
        RE.step(int(at), self.arrays.p, self.fs, self.ist, self._prev, ev, cnt, 0)
        return [(int(r[0]), int(r[1]), float(r[2])) for r in ev[: cnt[0]]]

    # ------------------------------------------------------------------ persistence
    def gauges(self, open_pnl_net: float = 0.0) -> list[dict[str, Any]]:
        """How close equity (balance + ``open_pnl_net``) is to each limit's floor, in dollars
        (core.risk.gauges: the floors the kernel enforces, read, never decided again)."""
        from core.risk.gauges import limit_gauges

        return limit_gauges(self.arrays.p, self.fs, float(self.fs[K.F_BALANCE]) + open_pnl_net)

    def exit_at_ns(self, ts_ns: int) -> int | None:
        """The market-exit deadline (UTC ns) of the trading day of ``ts_ns`` (the engine is
        flat from then on), or None outside a session or when the schedule has no exit."""
        table, row = self._sched_row(ts_ns)
        if row < 0:
            return None
        t = int(table[row, K.S_EXIT])
        return t if 0 < t < (1 << 62) else None

    def snapshot(self) -> dict[str, Any]:
        """The state as a versioned mapping of named fields (JSON-ready; restore with
        :meth:`restore`). A missing MLL level (no MLL) is stored as None."""
        fs = {k: (None if math.isinf(v) else float(v)) for k, v in zip(K.FS_NAMES, self.fs)}
        ist = {k: int(v) for k, v in zip(K.IST_NAMES, self.ist)}
        return {"version": K.SNAPSHOT_VERSION, "profile": self.profile.name,
                "floats": fs, "ints": ist}

    def restore(self, snap: dict[str, Any]) -> None:
        """Load a :meth:`snapshot` (risk state survives restarts).

        Raises:
            ConfigError: Another version, missing or unknown fields, non-finite or
                out-of-range values — a malformed snapshot is refused, never half-loaded.
        """
        fs, ist = parse_snapshot(snap, self.arrays.p)
        self.fs, self.ist = fs, ist
        self._prev = RE.new_prev()
        self._prev[RE.PV_BREACHES] = ist[K.I_BREACHES]
        self._prev[RE.PV_DAY_BREACHES] = ist[K.I_DAY_BREACHES]
        self._prev[RE.PV_PAUSE_UNTIL] = ist[K.I_PAUSE_UNTIL]
        self._prev[RE.PV_MANUAL] = ist[K.I_MANUAL_PAUSE]
        self._prev[RE.PV_DAY] = ist[K.I_DAY]
