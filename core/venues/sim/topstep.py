"""The Topstep rule layer of the simulator (topstepx-gateway.md §9), as a matching-engine hook.

What the simulated Topstep risk system does (numbers in :class:`TopstepRules`, dated):

* **Maximum Loss Limit** (§9.1): the floor is ``highest end-of-day balance - MLL``, trailing
  **up only**, and it **locks** at the starting balance (50K: once an EOD balance of $52,000 is
  seen the floor stays at $50,000; an XFA starts at $0 and locks at $0). It is checked
  **intraday on every quote and print, open P&L included** (longs marked at the bid, shorts at
  the ask); touching the floor is a breach → every working order is cancelled, every position
  closed at market, the account gets ``canTrade=false`` (sticky: the account has failed).
  The end-of-day update runs when the market clock first reaches ``eod_time`` (default 16:00 CT,
  the CME daily close; the exact time Topstep uses is UNCONFIRMED).
* **Flat by 15:10 CT** (§9.3): on the first market event at or after ``flat_by`` Central time the
  layer cancels working orders and flattens; new orders are rejected with errorCode 5
  (OutsideTradingHours) until ``entries_blocked_until`` (17:00 CT). Wall times are converted
  with the ``America/Chicago`` zone, so the cutoff follows DST.
* **Optional Daily Loss Limit** (§9.1, 2026 purchase option; off by default): when the day's
  P&L (equity minus the balance at the 17:00 CT session start, open P&L included) reaches
  ``-daily_loss_limit`` the account is flattened and locked (``canTrade=false``) until the next
  session start — a forced break, not a failure.
* **Contract cap** (§9.1): the account's worst-case exposure — open position plus every working
  non-bracket order on the same side plus the new order — in mini-equivalents (a micro counts
  ``1/micro_ratio``, MES 1/10) must stay within ``max_minis``; otherwise errorCode 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from core.calendar import local_time_ns
from core.domain.types import OrderStatus, Side
from core.venues.sim import errors as E
from core.venues.sim.models import PlaceResult, SimAccount, SimContract


@dataclass(frozen=True, slots=True)
class TopstepRules:
    """Topstep account parameters (defaults: 50K Trading Combine, snapshot 2026; §9.1)."""

    starting_balance: float = 50_000.0
    max_loss_limit: float = 2_000.0
    profit_target: float | None = 3_000.0
    max_minis: float = 5.0
    #: Optional purchased DLL (2026: $1,000 / $2,000 / $3,000); None = no DLL (the default).
    daily_loss_limit: float | None = None
    session_start: str = "17:00"
    flat_by: str = "15:10"
    entries_blocked_until: str = "17:00"
    eod_time: str = "16:00"
    timezone: str = "America/Chicago"
    as_of: str = "2026-10-02"

    @classmethod
    def combine(cls, size: int) -> TopstepRules:
        """Trading Combine rules for a 50K/100K/150K account (§9.1 table)."""
        table = {50_000: (2_000.0, 3_000.0, 5.0), 100_000: (3_000.0, 6_000.0, 10.0),
                 150_000: (4_500.0, 9_000.0, 15.0)}
        mll, target, minis = table[size]
        return cls(starting_balance=float(size), max_loss_limit=mll, profit_target=target,
                   max_minis=minis)


@dataclass(slots=True)
class AccountRiskState:
    """Per-account MLL bookkeeping."""

    high_eod_balance: float
    mll_level: float
    next_eod_ns: int = 0
    breached: bool = False
    target_reached: bool = False
    #: Daily loss limit bookkeeping: balance at the session start and the next session start.
    day_start_balance: float | None = None
    next_session_ns: int = 0
    dll_hit: bool = False


@dataclass(slots=True)
class TopstepLayer:
    """Topstep rules applied to chosen accounts of a :class:`MatchingEngine` (a ``RiskHook``).

    Args:
        rules: Rule numbers per account id; accounts not listed are not policed.
    """

    rules: dict[int, TopstepRules]
    state: dict[int, AccountRiskState] = field(default_factory=dict)
    #: Trading day (CT date ordinal) already auto-flattened, so it is done once per day.
    _flattened_day: int = -1
    _last_ns: int = 0
    #: (local day start, next day start, window lo, window hi) of the last dates seen
    _days: list[tuple[int, int, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for aid, r in self.rules.items():
            self.state[aid] = AccountRiskState(high_eod_balance=r.starting_balance,
                                               mll_level=r.starting_balance - r.max_loss_limit)

    # ------------------------------------------------------------------ time helpers
    def _tz(self) -> str:
        return next(iter(self.rules.values())).timezone if self.rules else "America/Chicago"

    def blocked_window(self, ts_ns: int) -> tuple[int, int]:
        """UTC ns ``[flat_by, entries_blocked_until)`` on the Central-time date of ``ts_ns``."""
        for c in self._days:  # a date seen recently: no tz math (hot path)
            if c[0] <= ts_ns < c[1]:
                return c[2], c[3]
        tz = self._tz()
        d = datetime.fromtimestamp(ts_ns / 1e9, tz=timezone.utc).astimezone(ZoneInfo(tz)).date()
        r = next(iter(self.rules.values())) if self.rules else TopstepRules()
        nxt = d.fromordinal(d.toordinal() + 1)
        lo = local_time_ns(d, r.flat_by, tz)
        hi = local_time_ns(d, r.entries_blocked_until, tz)
        self._days = [(local_time_ns(d, "00:00", tz), local_time_ns(nxt, "00:00", tz), lo, hi),
                      *self._days[:3]]
        return lo, hi

    def in_blocked_window(self, ts_ns: int) -> bool:
        """Whether new orders are blocked at ``ts_ns`` (15:10–17:00 CT by default)."""
        lo, hi = self.blocked_window(ts_ns)
        return lo <= ts_ns < hi

    def _next_eod(self, r: TopstepRules, ts_ns: int) -> int:
        return self._next_time(r.eod_time, r.timezone, ts_ns)

    @staticmethod
    def _next_time(hhmm: str, tz: str, ts_ns: int) -> int:
        """The first ``hh:mm`` local time strictly after ``ts_ns`` (DST-correct)."""
        d = datetime.fromtimestamp(ts_ns / 1e9, tz=timezone.utc).astimezone(ZoneInfo(tz)).date()
        t = local_time_ns(d, hhmm, tz)
        if t <= ts_ns:
            t = local_time_ns(d.fromordinal(d.toordinal() + 1), hhmm, tz)
        return t

    # ------------------------------------------------------------------ RiskHook
    def check_place(self, engine: object, account: SimAccount, contract: SimContract, side: Side,
                    size: int) -> PlaceResult | None:
        """Reject orders in the flatten window, on failed accounts and above the contract cap."""
        r = self.rules.get(account.id)
        if r is None:
            return None
        now = engine.clock.now_ns()  # type: ignore[attr-defined]
        if self.in_blocked_window(now):
            return PlaceResult(E.PLACE_OUTSIDE_HOURS, f"Trading is blocked between {r.flat_by} "
                               f"and {r.entries_blocked_until} {r.timezone} (Topstep flatten rule).")
        sign = int(side)
        total = 0.0
        for cid, c in engine.contracts.items():  # type: ignore[attr-defined]
            pos = engine.ledger.position(account.id, cid)  # type: ignore[attr-defined]
            net = pos.net if pos else 0
            buys = sells = 0
            for o in engine.working_orders(account.id, cid):  # type: ignore[attr-defined]
                if o.parent_order_id is not None or o.status == OrderStatus.SUSPENDED:
                    continue  # bracket legs only ever reduce the position
                if o.side == Side.BUY:
                    buys += o.remaining
                else:
                    sells += o.remaining
            if cid == contract.id:
                buys += size if sign > 0 else 0
                sells += size if sign < 0 else 0
            worst = max(net + buys, -net + sells, abs(net))
            total += worst / max(1, c.micro_ratio)
        if total > r.max_minis + 1e-9:
            return PlaceResult(E.PLACE_REJECTED, f"Maximum position size exceeded: {total:g} "
                               f"mini-equivalents > {r.max_minis:g} allowed.")
        return None

    def after_market(self, engine: object) -> None:
        """EOD trailing, intraday MLL check and the 15:10 CT auto-flatten."""
        now = engine.clock.now_ns()  # type: ignore[attr-defined]
        for aid, r in self.rules.items():
            st = self.state[aid]
            acct = engine.accounts[aid]  # type: ignore[attr-defined]
            if st.next_eod_ns == 0:
                st.next_eod_ns = self._next_eod(r, now)
            elif now >= st.next_eod_ns:
                st.high_eod_balance = max(st.high_eod_balance, acct.balance)
                # trails up only, and never above the starting balance (the lock)
                st.mll_level = max(st.mll_level, min(st.high_eod_balance - r.max_loss_limit,
                                                     r.starting_balance))
                st.next_eod_ns = self._next_eod(r, now)
            if st.next_session_ns == 0 or now >= st.next_session_ns:
                st.day_start_balance = acct.balance
                st.next_session_ns = self._next_time(r.session_start, r.timezone, now)
                if st.dll_hit and not st.breached:  # the forced break ends with the session
                    st.dll_hit = False
                    acct.can_trade = True
                    acct.disabled_reason = None
                    engine.emit_account(aid)  # type: ignore[attr-defined]
            if st.breached:
                continue
            has_pos = engine.ledger.has_position(aid)  # type: ignore[attr-defined]
            eq = engine.equity(aid) if has_pos else acct.balance  # type: ignore[attr-defined]
            if (r.daily_loss_limit is not None and not st.dll_hit
                    and eq - (st.day_start_balance or 0.0) <= -r.daily_loss_limit + 1e-9):
                st.dll_hit = True  # a forced break, not a failure: locked until next session
                acct.can_trade = False
                acct.disabled_reason = (f"Daily Loss Limit hit: {eq - st.day_start_balance:.2f} "
                                        f"today; trading resumes at {r.session_start} {r.timezone}")
                engine.flatten_account(aid)  # type: ignore[attr-defined]
                engine.emit_account(aid)  # type: ignore[attr-defined]
                continue
            if eq <= st.mll_level + 1e-9:
                st.breached = True
                acct.can_trade = False
                acct.disabled_reason = (f"Maximum Loss Limit breached: equity {eq:.2f} <= "
                                        f"{st.mll_level:.2f}")
                engine.flatten_account(aid)  # type: ignore[attr-defined]
                engine.emit_account(aid)  # type: ignore[attr-defined]
            elif r.profit_target is not None and acct.balance - r.starting_balance >= r.profit_target:
                st.target_reached = True
        if not self.rules:
            return
        lo, hi = self.blocked_window(now)
        prev_lo, _ = self.blocked_window(now - 86_400_000_000_000)
        # Flatten on entering the window, and also when a cutoff passed between two events
        # (e.g. RTH-only data ends 15:00 CT): then at the first prices available after it.
        due = [w for w in (prev_lo, lo) if self._last_ns and self._last_ns < w <= now]
        if lo <= now < hi:
            due.append(lo)
        self._last_ns = now
        due = [w for w in due if w > self._flattened_day]
        if due:
            self._flattened_day = max(due)
            for aid in self.rules:
                engine.flatten_account(aid)  # type: ignore[attr-defined]
