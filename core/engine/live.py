"""The live engine: prints → bars → signal → the SAME decision and risk steps → broker orders.

Per closed bar (requirements §9, the backtester's event order): update the risk day and the
breaker step → market exits the schedule demands → the signal (model or any source) → the
strategy's decision step (entry / exit / reverse / cooldown, core.strategy.steps) → bracket
distances (same step) → the risk kernel's check (core.risk.RiskKernel) → a market entry with
a native OCO bracket. Nothing here restates a rule: every decision is a call into
core/strategy or core/risk; this module only talks to the broker about them.

Orders are write-ahead: every order is journaled with its deterministic tag BEFORE it is sent
(core.engine.sending), and its outcome is confirmed, rejected, refused locally or
unknown — an unknown outcome is resolved by looking the tag up, never by sending again.
The broker is the source of truth for the position: its position events win; a mismatch with
what our fills imply raises an alert and blocks new entries until acknowledged.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from core.clock import Clock, LiveClock
from core.config import Profile
from core.domain import Bar, Contract, Order, Side
from core.engine import orders as O
from core.engine.bars import BarBuilder, SessionIndex
from core.engine.client_oco import ClientBrackets
from core.engine.feeds import QuoteBoard
from core.engine.guard import Guard
from core.engine.operator import Operator
from core.engine.roundtrips import RoundTrips
from core.engine.sending import OrderSender, side_of  # noqa: F401 - side_of re-exported
from core.engine.state import EngineState, JournalPort, sign_of  # noqa: F401 - re-exported
from core.engine.signals import prediction_event
from core.risk import Approved, EntryIntent, RiskKernel
from core.strategy import steps as S
from core.strategy.settings import strategy_array
from core.venues.base import (
    AccountEvent, Bracket, ConnectionEvent, ConnectionState, FillEvent, OrderEvent,
    PositionEvent, QuoteEvent, TradeEvent, Venue,
)

log = logging.getLogger(__name__)

#: A signal source: the closed bar → (direction −1/0/+1, confidence 0..1).
SignalFn = Callable[[Bar], tuple[int, float]]
HIST = 512      # bars kept for the bracket step (structure lookback, ATR)


class LiveEngine:
    """One account, one contract, one strategy.

    Args:
        profile: The profile whose rules apply.
        venue: A connected venue watching ``account_id``.
        journal: Write-ahead journal (see :class:`JournalPort`).
        clock: Time source.
        account_id: The account traded.
        contract: The contract traded.
        signal: Signal source for each closed bar.
        bar_seconds: The model's bar size.
        run_id: Prefix of every order tag (unique per engine run).
        armed: Automatic entries on (live accounts start disarmed).
        publish: Receives engine events (dicts) for the journal, the control socket, logs.
    """

    def __init__(self, *, profile: Profile, venue: Venue, journal: JournalPort, clock: Clock,
                 account_id: int, contract: Contract, signal: SignalFn, bar_seconds: int,
                 run_id: str, armed: bool = False,
                 publish: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.profile = profile
        self.venue = venue
        self.journal = journal
        self.clock = clock
        self.account_id = account_id
        self.contract = contract
        self.signal = signal
        self.run_id = run_id
        self.publish = publish or (lambda ev: None)
        self.risk = RiskKernel(profile)
        snap = journal.last_risk()
        if snap is not None:
            self.risk.restore(snap)            # daily P&L, pauses, halts survive restarts
        self.bars = BarBuilder(bar_seconds, SessionIndex(profile), contract_id=contract.id)
        self.bar_ns = int(bar_seconds) * 1_000_000_000
        self.book = O.OrderBook()
        self.state = EngineState(armed=armed)
        self.tick = float(contract.tick_size or profile_tick(profile))
        self.sp = strategy_array(profile, self.bar_ns)   # the backtester's settings vector
        self._h: deque[float] = deque(maxlen=HIST)
        self._l: deque[float] = deque(maxlen=HIST)
        self._c: deque[float] = deque(maxlen=HIST)
        self._atr: deque[float] = deque(maxlen=HIST)
        self.rt = RoundTrips(contract.tick_value / self.tick)   # fills → booked round trips
        self.broker_orders: dict[int, Order] = {}   # every order the broker reports (legs too)
        self.cancelling: set[int] = set()
        self.guard = Guard(self)
        self.sender = OrderSender(self)              # decisions → journaled, tagged orders
        self.oco = ClientBrackets(self)              # OCO kept here when native is refused
        self.native_brackets = profile.venue.brackets != "client"
        self.ops = Operator(self)                    # the control socket's target
        self.alerts: dict[str, dict[str, Any]] = {}  # unacknowledged alerts by id
        self._last_mode: str | None = None
        self.feeds: dict[str, ConnectionState] = {}  # hub → its last state
        self.broker_balance: float | None = None     # the broker's balance (MLL headroom)
        self.balance_seen_ns: int | None = None
        self.quotes_coalesced = 0                    # stale quotes skipped in bursts
        self.shadow: Any = None                      # a ShadowModel predicting without trading
        self.reconcile_every_ns = 30 * 1_000_000_000
        self.reconciled_ns = 0                       #: last SUCCESSFUL reconciliation
        self._reconcile_tried_ns = 0                 #: last attempt (failures retry next period)
        # This run's fills only: earlier ones are in the journal's risk state (or, for a
        # position closed while the engine was down, booked by the guard's recovery).
        self.fills_since_ns = clock.now_ns()
        self._wall = LiveClock()                     # "recently" is wall time, even in a replay
        self._touched_ns = 0
        self.shutdown_policy: str | None = None      #: set by `ctl stop` (None: the profile's)
        self.on_stop: Callable[[], None] | None = None   #: the runner's stop (set by it)
        self.info: dict[str, Any] = {}               #: book, account name (set by the runner)
        self.quote = QuoteBoard()                    #: top of book, session volume and change
        self.last_prediction: dict[str, Any] | None = None   #: the model's latest prediction
        self.last_shadow: dict[str, Any] | None = None       #: the shadow model's latest
        self.last_action: int | None = None                  #: the signal after the floor
        self._reconcile_due = False

    # ------------------------------------------------------------------ events in
    async def on_event(self, ev: Any) -> None:
        """Apply one venue event (quotes, prints, orders, fills, positions, connections)."""
        if isinstance(ev, TradeEvent):
            if ev.tick.contract_id == self.contract.id:
                self.state.last_price = float(ev.tick.price)
                for bar in self.bars.on_trade(ev.tick.ts, ev.tick.price, ev.tick.size):
                    await self.on_bar(bar)
                await self._mark()
        elif isinstance(ev, QuoteEvent):
            q = ev.quote
            if q.contract_id == self.contract.id:
                self.quote.apply(q, self.risk.trading_day(int(q.ts)))
                # For the console (the control fan-out keeps the latest per contract); neither
                # journaled nor printed.
                self.publish({"type": "QuoteUpdated", "contract_id": q.contract_id,
                              "bid": q.bid, "ask": q.ask, "last": q.last, "volume": q.volume,
                              "ts_ns": int(q.ts)})
                if q.last is not None:
                    self.state.last_price = float(q.last)
                    await self._mark()
        elif isinstance(ev, OrderEvent):
            self.touched()
            self.adopt_order(ev.order)
        elif isinstance(ev, FillEvent):
            self.touched()
            await self._on_fill(ev)
        elif isinstance(ev, PositionEvent):
            self.touched()
            self._on_position(ev)
        elif isinstance(ev, ConnectionEvent):
            self.feeds[ev.hub] = ev.state
            self.publish({"type": "FeedHealthChanged", "ts_ns": self.clock.now_ns(),
                          "hub": ev.hub, "state": str(ev.state.value), "age_s": None, "drops": 0})
            if ev.state == ConnectionState.RESYNCED:
                # After every reconnect the broker's state is reconciled (fail-closed).
                self._reconcile_due = True
        elif isinstance(ev, AccountEvent):
            if ev.account.id == self.account_id:
                self.broker_balance = float(ev.account.balance)
                self.balance_seen_ns = self.clock.now_ns()

    async def on_time(self) -> None:
        """Timer tick: close a quiet bar on the clock, enforce the schedule and the protection
        invariant (checked every cycle, not only on transitions)."""
        now = self.clock.now_ns()
        for bar in self.bars.on_time(now):
            await self.on_bar(bar)
        if self.state.position and self.risk.must_flatten(now):
            await self.flatten(reason="end-of-day schedule")
        await self.oco.sync()
        await self.guard.protect()
        if self._reconcile_due or now - self._reconcile_tried_ns >= self.reconcile_every_ns:
            self._reconcile_due = False
            first = not self._reconcile_tried_ns
            self._reconcile_tried_ns = now     # a failure is retried next period (or resync)
            if await self.guard.reconcile(reason="start" if first else "periodic"):
                self.reconciled_ns = now
        self.publish_risk("")

    def touched(self) -> None:
        """Note broker activity now (orders, fills, positions): a REST snapshot taken around
        it may be older than the stream."""
        self._touched_ns = self._wall.now_ns()

    def wall_ns(self) -> int:
        """Wall time (for "recently", even in a replay)."""
        return self._wall.now_ns()

    def recently_busy(self, within_s: float = 3.0) -> bool:
        """Orders in flight or broker activity in the last ``within_s`` seconds (wall time)."""
        if any(o.state != O.WORKING for o in self.book.live()):
            return True
        return self._wall.now_ns() - self._touched_ns < within_s * 1e9

    def feed_block(self) -> str:
        """Why the feeds block new entries ('' when they do not): a market hub that is not
        connected (or stalled) blocks entries; user-hub silence while flat is normal."""
        m = self.feeds.get("market")
        if m in (ConnectionState.DISCONNECTED, ConnectionState.STALLED, ConnectionState.CLOSED):
            return f"market data {m.value}"
        u = self.feeds.get("user")
        if u in (ConnectionState.DISCONNECTED, ConnectionState.CLOSED):
            return f"order updates {u.value}"
        return ""

    def adopt_order(self, o: Order) -> None:
        """Take a broker order report (stream or REST): newest wins, ours update the book."""
        cur = self.broker_orders.get(o.id)
        if cur is None or o.updated_ts >= cur.updated_ts:
            self.broker_orders[o.id] = o
        self.book.apply_order(order_id=o.id, status=o.status, updated_ts=o.updated_ts,
                              tag=o.custom_tag, size=o.size, filled=o.filled_size,
                              fill_price=o.fill_price, limit_price=o.limit_price,
                              stop_price=o.stop_price)

    async def on_bar(self, bar: Bar) -> None:
        """A bar closed: the backtester's per-bar order of steps, decided at the bar's end."""
        now = bar.ts + self.bar_ns
        self.risk.on_time(now)
        bits = self.risk.on_bar(bar.ts, bar.high, bar.low, bar.close, bar.volume)
        self._h.append(bar.high)
        self._l.append(bar.low)
        self._c.append(bar.close)
        self._atr.append(self.risk.atr)
        self.state.bars += 1
        self.publish({"type": "BarClosed", "contract_id": bar.symbol, "ts_ns": bar.ts,
                      "bar_seconds": self.bar_ns // 1_000_000_000, "open": bar.open,
                      "high": bar.high, "low": bar.low, "close": bar.close,
                      "volume": bar.volume})
        if self.state.position and self.risk.must_flatten(now):
            await self.flatten(reason="end-of-day schedule")
            return
        if self.state.position:
            await self.sender.manage_open_position(bar, now)
        direction, confidence = self.signal(bar)
        if self.shadow is not None:
            sev = self.shadow.on_bar(bar)
            if sev is not None:
                self.last_shadow = sev
                self.publish(sev)
        pe = prediction_event(self.signal, bar)
        if pe is not None:
            self.last_prediction = pe
            self.publish(pe)
        act = int(S.action_of(int(direction), float(confidence), self.profile.risk.min_confidence))
        self.last_action = act
        # Our fills may be ahead of the broker's position event: either one open is a position.
        pos_dir = int(np.sign(self.state.position or self.rt.position))
        kind = int(S.decide(pos_dir, act, self.state.bars - self.state.last_exit_bar,
                            int(self.sp[S.SP_COOLDOWN]), int(self.sp[S.SP_OPPOSITE])))
        decision = {S.PK_NONE: "none", S.PK_ENTRY: "entry", S.PK_EXIT: "exit",
                    S.PK_REVERSE: "reverse"}[kind]
        ev = {"type": "SignalDecided", "ts_ns": now, "action": decision, "direction": act,
              "confidence": float(confidence), "contracts": 0, "reason": "", "denied_code": None}
        if kind in (S.PK_EXIT, S.PK_REVERSE):
            await self.sender.close_position(reason="signal")
        if kind in (S.PK_ENTRY, S.PK_REVERSE):
            await self._enter(now, act, float(confidence), bits, ev,
                              reversing=kind == S.PK_REVERSE)
        self.publish(ev)
        self.journal.save_risk(self.risk.snapshot())

    # ------------------------------------------------------------------ decisions → orders
    async def _enter(self, now: int, direction: int, confidence: float, bits: int,
                     ev: dict[str, Any], *, reversing: bool = False) -> None:
        if not self.state.armed:
            ev["reason"] = "disarmed"
            return
        if self.state.entries_blocked:
            ev["reason"] = f"entries blocked: {self.state.entries_blocked}"
            return
        fb = self.feed_block()
        if fb:
            ev["reason"] = f"entries blocked: {fb}"
            return
        busy = self.book.live(("entry",)) if reversing else \
            (self.book.live(("entry", "exit")) or self.rt.position)
        if busy:
            # An entry or exit still on its way (or fills the position event has not caught
            # up with): deciding again now would double the position. A reversal's own exit,
            # sent just before, is the one exception (the backtester reverses on one bar).
            ev["reason"] = "an order is still in flight"
            return
        h, lo, c = (np.fromiter(x, dtype=np.float64) for x in (self._h, self._l, self._c))
        atr = np.fromiter(self._atr, dtype=np.float64)
        sd, td = S.bracket_distance(len(c) - 1, direction, c, h, lo, atr, self.sp, self.tick)
        working = sum(o.size - o.filled for o in self.book.live(("entry",)))
        res = self.risk.check(EntryIntent(now, direction, confidence, sd / self.tick,
                                          breakers=bits,
                                          open_contracts=abs(self.state.position) + working))
        if not isinstance(res, Approved):
            ev["reason"], ev["denied_code"] = res.reason, res.code
            return
        ev["contracts"] = res.contracts
        bracket = Bracket(stop_ticks=int(round(sd / self.tick)),
                          target_ticks=int(round(td / self.tick)))
        await self.sender.send_entry(direction, res.contracts, bracket)

    async def flatten(self, *, reason: str) -> bool:
        """Cancel every working order and close the position; verified flat through REST."""
        return await self.guard.flatten(reason)

    def alert(self, alert_id: str, level: str, message: str, *, needs_ack: bool = False) -> None:
        """Publish an alert; those that need an acknowledgement are kept until `ctl ack`."""
        ev = {"type": "Alert", "ts_ns": self.clock.now_ns(), "alert_id": alert_id,
              "level": level, "code": alert_id.split("-")[0], "message": message,
              "needs_ack": needs_ack}
        if needs_ack:
            self.alerts[alert_id] = ev
        log.warning("%s: %s", level, message)
        self.publish(ev)

    def publish_risk(self, reason: str) -> None:
        """Publish RiskStateChanged when the risk mode moved."""
        ch = self.risk.poll(self.clock.now_ns())
        if ch is not None:
            rs = self.risk.status(self.clock.now_ns())
            self.publish({"type": "RiskStateChanged", "ts_ns": ch.ts_ns, "old": ch.old,
                          "new": ch.new, "reason": reason or ch.reason, "balance": rs.balance,
                          "day_pnl": rs.day_pnl,
                          "mll_headroom": self.mll_headroom(),
                          "reconciled_ns": self.balance_seen_ns})
            self.journal.save_risk(self.risk.snapshot())

    def mll_headroom(self) -> float | None:
        """Dollars above Topstep's MLL: the broker's balance (REST/account stream; the kernel's
        own balance until one arrives) plus the open P&L, minus the MLL level. None without
        an MLL. When the broker's balance was last seen is ``balance_seen_ns``."""
        lvl = self.risk.status(self.clock.now_ns()).mll_level
        if lvl is None:
            return None
        bal = self.broker_balance if self.broker_balance is not None else float(self.risk.fs[0])
        return bal + self.open_pnl() - lvl

    def sign_of_side(self, side: Side) -> int:
        """+1 buy, −1 sell."""
        return sign_of(side)

    # ------------------------------------------------------------------ broker state
    @property
    def trades(self) -> list[dict[str, Any]]:
        """The round trips booked this run, as the broker filled them."""
        return self.rt.trades

    async def _on_fill(self, ev: FillEvent) -> None:
        f = ev.fill
        if f.contract_id != self.contract.id or getattr(f, "voided", False):
            return
        if not self.rt.is_new(f.id):              # duplicated / replayed: booked once
            return
        order = self.book.apply_fill(fill_id=f.id, order_id=f.order_id, size=f.size,
                                     price=f.price)
        d = sign_of(f.side)
        fees = float(f.fees) + float(getattr(f, "commissions", 0.0) or 0.0)
        net = self.rt.on_fill(int(f.ts), d, int(f.size), float(f.price), fees,
                              lambda: self._exit_reason(f.order_id))
        self.publish({"type": "FillReceived", "ts_ns": f.ts, "fill_id": f.id,
                      "order_id": f.order_id, "tag": None if order is None else order.tag,
                      "contract_id": f.contract_id, "side": d, "size": f.size,
                      "price": f.price, "fees": f.fees})
        if net is not None:                       # a round trip completed: booked once
            self.risk.on_trade_closed(net, int(f.ts))
            self.state.trades_booked += 1
            self.state.last_exit_bar = self.state.bars
            self.journal.save_risk(self.risk.snapshot())
            if not self.guard.owns(f.order_id):
                # Closed by an order the engine never sent: Topstep's own liquidation (DLL,
                # MLL, 15:10 CT) or a manual close in the platform. Booked; said and journaled.
                self.alert(f"broker-close-{f.id}", "warning",
                           f"the position was closed by an order the engine did not send "
                           f"(order {f.order_id}: a Topstep force-close at the DLL, MLL or "
                           f"15:10 CT, or a manual close); booked {net:+.2f}")
        await self.oco.sync(order.tag if order is not None and order.role == "entry" else None)

    def _exit_reason(self, order_id: int) -> str:
        """Why a trade ended, from the order whose fill closed it."""
        own = self.book.by_order_id(order_id)
        if own is not None:
            return self.rt.exit_why.get(own.tag) or \
                {"exit": "signal", "protect": "stop"}.get(own.role, own.role)
        o = self.broker_orders.get(order_id)
        if o is None:
            return "flatten"
        kind = str(getattr(o.type, "name", o.type)).lower()
        return "stop" if "stop" in kind else "target" if "limit" in kind else "flatten"

    def _on_position(self, ev: PositionEvent) -> None:
        p = ev.position
        if p.contract_id != self.contract.id:
            return
        self.state.position = int(p.signed_size)
        self.state.avg_price = float(p.average_price) if p.signed_size else 0.0
        self.publish({"type": "PositionChanged", "ts_ns": p.ts or self.clock.now_ns(),
                      "contract_id": p.contract_id,
                      "size": self.state.position, "avg_price": self.state.avg_price,
                      "open_pnl": self.open_pnl(), "source": ev.source})

    def open_pnl(self) -> float:
        """Open P&L of the broker position at the last price, net of its round-trip commission."""
        pos, px = self.state.position, self.state.last_price
        if not pos or px is None:
            return 0.0
        pv = self.contract.tick_value / self.tick
        return (pos * (px - self.state.avg_price) * pv
                - self.profile.costs.commission_round_trip * abs(pos))

    async def _mark(self) -> None:
        if not self.state.position:
            return
        d = self.risk.mark(self.open_pnl())
        if d is not None:
            await self.flatten(reason=f"risk limit: {d.reason}")



def profile_tick(profile: Profile) -> float:
    """The profile instrument's tick size."""
    from core.domain import get_instrument

    return float(get_instrument(profile.instrument).tick_size)
