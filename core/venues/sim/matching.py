"""The simulator's matching engine: orders, native brackets, fills, positions, balances.

Pure Python, deterministic, no I/O. It is driven by :meth:`MatchingEngine.on_quote` and
:meth:`MatchingEngine.on_trade` (from :mod:`core.venues.sim.replay` or a test) and stamps
everything with the injected :class:`core.clock.Clock` (the *market* clock of the replay).
Fill assumptions: :mod:`core.venues.sim.triggers`; accounting: :mod:`core.venues.sim.ledger`.

Order lifecycle (§5.1): market orders go Pending → Filled; limit/stop/trailing/join orders go
Open → Filled or Cancelled; a partial fill stays Open/Pending with ``fillVolume < size`` (there
is no PartiallyFilled status). Statuses, sides and types are the domain enums; the wire layer
(:mod:`core.venues.sim.gateway.wire`) turns them into ProjectX codes. Native brackets (§5.2): the two
legs are created **Suspended** without prices when the entry is accepted (tag suffixes
``-SL``/``-TP``, ``parentOrderId`` = entry, TP ``linkedOrderId`` = SL); on the entry's first
fill they turn **Open** at absolute prices ``fill ± ticks`` sized to the entry's filled volume
(and grow with later entry fills); they are OCO (a full fill of one cancels the other, a
partial fill shrinks the other); cancelling an unfilled entry cancels its Suspended legs; a leg
that completes while the entry is still partly unfilled cancels the rest of the entry.

Events are published to listeners as :class:`SimEvent` **snapshots** (copies) in the order the
live gateway was seen to send them (§7.5): Order(Pending) → Order(Filled) → Trade → Position →
Account.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.clock import Clock
from core.domain.types import OrderStatus, OrderType, Side
from core.venues.sim import errors as E
from core.venues.sim.ledger import Ledger
from core.venues.sim.mutations import MutationsMixin
from core.venues.sim.models import (
    WORKING, Bracket, PlaceResult, SimAccount, SimContract, SimEvent, SimOrder,
)
from core.venues.sim.triggers import STOP_LIKE, fill_price, trail
from core.venues.sim.validation import validate_place


@dataclass(slots=True)
class MatchingConfig:
    """Fill-model switches (everything UNCONFIRMED in the spec is a setting here).

    Attributes:
        max_fill_per_event: Partial fills: at most this many contracts per order per quote or
            print (None = fill all at once).
        limit_touch: Limit orders fill when a print touches the limit (False: only through).
        bracket_ticks: ``"either"`` (sign ignored), ``"signed"`` (long entry: SL < 0 < TP, short
            the reverse; §5.2 live) or ``"positive"`` (both > 0; projectx-rs).
        close_cancels_brackets: Whether Position/closeContract also cancels working orders on
            the contract (UNCONFIRMED; default False, so a client must cancel them itself).
        max_trail_ticks: Largest trailing distance accepted on place (§5.3).
        record_rejections: A rejected place still creates an order with status Rejected (5),
            published on the user hub, and returns its ``orderId`` with ``success: false`` —
            seen live (§2: "a rejected order can still carry an orderId").
    """

    max_fill_per_event: int | None = None
    limit_touch: bool = True
    bracket_ticks: str = "either"
    close_cancels_brackets: bool = False
    max_trail_ticks: int = 1000
    record_rejections: bool = False


class RiskHook(Protocol):
    """A venue-side rule layer (the Topstep rules in :mod:`core.venues.sim.topstep`)."""

    def check_place(self, engine: MatchingEngine, account: SimAccount, contract: SimContract,
                    side: Side, size: int) -> PlaceResult | None:
        """Return a rejection for a new client order, or None to accept it."""
        ...

    def after_market(self, engine: MatchingEngine) -> None:
        """Called after every quote/trade has been matched (mark-to-market checks)."""
        ...


@dataclass(slots=True)
class MarketState:
    """Last known market of one contract (prices in ticks)."""

    bid: int | None = None
    ask: int | None = None
    last: int | None = None
    volume: int = 0
    open: int | None = None
    high: int | None = None
    low: int | None = None
    ts_ns: int = 0


class MatchingEngine(MutationsMixin):
    """Orders, fills and accounting of a simulated ProjectX venue.

    Args:
        clock: The market clock (``SimClock`` in replays and tests).
        contracts: Listed contracts.
        accounts: Simulated accounts.
        config: Fill-model switches.
        first_order_id: First order id (the default exceeds 2^31, as live ids do).
    """

    def __init__(self, clock: Clock, contracts: list[SimContract], accounts: list[SimAccount],
                 config: MatchingConfig | None = None, first_order_id: int = 3_345_170_000) -> None:
        self.clock = clock
        self.config = config or MatchingConfig()
        self.contracts: dict[str, SimContract] = {c.id: c for c in contracts}
        self.accounts: dict[int, SimAccount] = {a.id: a for a in accounts}
        self.ledger = Ledger(self.accounts, self.contracts)
        self.orders: dict[int, SimOrder] = {}
        self.market: dict[str, MarketState] = {c.id: MarketState() for c in contracts}
        self.hooks: list[RiskHook] = []
        self._listeners: list[Callable[[SimEvent], None]] = []
        self._market_listeners: list[Callable[[str, str, dict], None]] = []
        self._working: dict[str, list[int]] = {c.id: [] for c in contracts}
        self._tags: dict[int, set[str]] = {a.id: set() for a in accounts}
        self._next_order = first_order_id

    # ------------------------------------------------------------------ listeners
    def add_listener(self, fn: Callable[[SimEvent], None]) -> None:
        """Receive account/order/position/trade events (snapshots) synchronously."""
        self._listeners.append(fn)

    def add_market_listener(self, fn: Callable[[str, str, dict], None]) -> None:
        """Receive ``(kind, contract_id, data)`` market events: kind ``quote`` or ``trade``."""
        self._market_listeners.append(fn)

    def _emit(self, kind: str, account_id: int, obj: object, action: int = 1) -> None:
        if self._listeners:
            ev = SimEvent(kind, account_id, copy.copy(obj), action)
            for fn in self._listeners:
                fn(ev)

    def _emit_order(self, o: SimOrder, action: int = 1) -> None:
        o.updated_ns = self.clock.now_ns()
        self._emit("order", o.account_id, o, action)

    def emit_account(self, account_id: int) -> None:
        """Publish the account's current state (balance, canTrade)."""
        self._emit("account", account_id, self.accounts[account_id])

    # ------------------------------------------------------------------ queries
    def working_orders(self, account_id: int | None = None, contract_id: str | None = None,
                       include_suspended: bool = True) -> list[SimOrder]:
        """Working orders (Open/Pending, and Suspended legs unless excluded), by id."""
        out = []
        for cid, ids in self._working.items():
            if contract_id is not None and cid != contract_id:
                continue
            for oid in ids:
                o = self.orders[oid]
                if account_id is not None and o.account_id != account_id:
                    continue
                if not include_suspended and o.status == OrderStatus.SUSPENDED:
                    continue
                out.append(o)
        return sorted(out, key=lambda o: o.id)

    def marks(self) -> dict[str, tuple[int | None, int | None]]:
        """contract id → (bid, ask) in ticks."""
        return {cid: (m.bid, m.ask) for cid, m in self.market.items()}

    def equity(self, account_id: int) -> float:
        """Balance plus open P&L marked at the liquidation side."""
        return self.accounts[account_id].balance + self.ledger.unrealized(account_id, self.marks())

    # ------------------------------------------------------------------ market data
    def _set_time(self, ts_ns: int | None) -> None:
        if ts_ns is not None and hasattr(self.clock, "set_ns") and ts_ns > self.clock.now_ns():
            self.clock.set_ns(ts_ns)  # type: ignore[attr-defined]

    def on_quote(self, contract_id: str, bid: float | None, ask: float | None,
                 ts_ns: int | None = None) -> None:
        """A top-of-book update (prices in price units); matches working orders.

        Args:
            contract_id: Contract.
            bid: Best bid (None keeps the previous value).
            ask: Best ask (None keeps the previous value).
            ts_ns: Market time; moves a ``SimClock`` forward (never back).
        """
        self._set_time(ts_ns)
        c = self.contracts[contract_id]
        m = self.market[contract_id]
        if bid is not None:
            m.bid = c.to_ticks(bid)
        if ask is not None:
            m.ask = c.to_ticks(ask)
        m.ts_ns = self.clock.now_ns()
        for fn in self._market_listeners:
            fn("quote", contract_id, {"bid": bid, "ask": ask})
        self._match(contract_id, on_trade=False)
        for h in self.hooks:
            h.after_market(self)

    def on_trade(self, contract_id: str, price: float, size: int = 1, ts_ns: int | None = None,
                 aggressor: Side = Side.BUY) -> None:
        """A market trade print; trails stops and matches working orders.

        Args:
            contract_id: Contract.
            price: Trade price.
            size: Contracts traded.
            ts_ns: Market time.
            aggressor: The side that took liquidity.
        """
        self._set_time(ts_ns)
        c = self.contracts[contract_id]
        m = self.market[contract_id]
        t = c.to_ticks(price)
        m.last = t
        m.volume += size
        m.open = t if m.open is None else m.open
        m.high = t if m.high is None else max(m.high, t)
        m.low = t if m.low is None else min(m.low, t)
        m.ts_ns = self.clock.now_ns()
        for fn in self._market_listeners:
            fn("trade", contract_id, {"price": price, "size": size, "aggressor": aggressor})
        self._match(contract_id, on_trade=True)
        for h in self.hooks:
            h.after_market(self)

    def _match(self, contract_id: str, *, on_trade: bool) -> None:
        ids = self._working.get(contract_id)
        if not ids:
            return
        m = self.market[contract_id]
        for oid in list(ids):
            o = self.orders[oid]
            if o.status not in (OrderStatus.OPEN, OrderStatus.PENDING):
                continue
            if on_trade and trail(o, m.last):
                self._emit_order(o)
            self._try_fill(o, m, on_trade=on_trade, arrival=False)

    def _try_fill(self, o: SimOrder, m: MarketState, *, on_trade: bool, arrival: bool) -> None:
        px = fill_price(o, m.bid, m.ask, m.last, on_trade=on_trade, arrival=arrival,
                        touch=self.config.limit_touch)
        if px is None:
            return
        qty = o.remaining
        if self.config.max_fill_per_event is not None:
            qty = min(qty, self.config.max_fill_per_event)
        if qty > 0:
            self._fill(o, qty, px)

    # ------------------------------------------------------------------ fills
    def _fill(self, o: SimOrder, qty: int, px: int) -> None:
        now = self.clock.now_ns()
        prev = o.fill_volume
        o.filled_ticks = px if o.filled_ticks is None else (o.filled_ticks * prev + px * qty) / (prev + qty)
        o.fill_volume = prev + qty
        if o.remaining == 0:
            o.status = OrderStatus.FILLED
            self._unwork(o)
        elif o.type != OrderType.MARKET:
            o.status = OrderStatus.OPEN
        self._emit_order(o)
        trade, pos, opened = self.ledger.apply_fill(o.account_id, o.contract_id, o.sign, qty, px,
                                                    o.id, now)
        self._emit("trade", o.account_id, trade, 0)
        self._emit("position", o.account_id, pos, 0 if opened else (2 if pos.net == 0 else 1))
        self.emit_account(o.account_id)
        if o.children:
            self._activate_children(o, first=(prev == 0))
        if o.parent_order_id is not None:
            self._oco(o)

    def _activate_children(self, entry: SimOrder, first: bool) -> None:
        m = self.market[entry.contract_id]
        for cid in entry.children:
            ch = self.orders[cid]
            if ch.status not in WORKING:
                continue
            if first and ch.status == OrderStatus.SUSPENDED:
                base = int(round(entry.filled_ticks or 0))
                br = entry.sl_bracket if ch.leg == "SL" else entry.tp_bracket
                dist = abs(br.ticks) if br else 0
                away = -entry.sign if ch.leg == "SL" else entry.sign  # a long's SL sits below
                level = base + away * dist
                if ch.type in STOP_LIKE:
                    ch.stop_ticks = level
                else:
                    ch.limit_ticks = level
                ch.status = OrderStatus.OPEN
            ch.size = ch.fill_volume + (entry.fill_volume - self._filled_by_siblings(entry, ch))
            self._emit_order(ch)
        for cid in entry.children:
            ch = self.orders[cid]
            if ch.status == OrderStatus.OPEN:
                self._try_fill(ch, m, on_trade=False, arrival=True)

    def _filled_by_siblings(self, entry: SimOrder, ch: SimOrder) -> int:
        """Contracts of the entry already closed by the legs (so a leg never over-closes)."""
        return sum(self.orders[c].fill_volume for c in entry.children)

    def _oco(self, leg: SimOrder) -> None:
        parent = self.orders.get(leg.parent_order_id or -1)
        if parent is None:
            return
        for cid in parent.children:
            sib = self.orders[cid]
            if sib.id == leg.id or sib.status not in WORKING:
                continue
            if leg.status == OrderStatus.FILLED:
                self._cancel(sib)
            else:  # a partial fill of one leg shrinks the other to what is still open
                sib.size = sib.fill_volume + leg.remaining
                self._emit_order(sib)
        # A leg that completes while the entry is still partly unfilled ends the bracket: the
        # rest of the entry is cancelled too, so no later entry fill is left without a stop
        # (sim choice; the live behaviour is UNCONFIRMED).
        if leg.status == OrderStatus.FILLED and parent.status in (OrderStatus.OPEN, OrderStatus.PENDING):
            self._cancel(parent)

    def _unwork(self, o: SimOrder) -> None:
        ids = self._working.get(o.contract_id)
        if ids and o.id in ids:
            ids.remove(o.id)

    def _cancel(self, o: SimOrder) -> None:
        o.status = OrderStatus.CANCELLED
        self._unwork(o)
        self._emit_order(o)
        for cid in o.children:  # an entry cancelled before it filled takes its legs with it
            ch = self.orders[cid]
            if ch.status == OrderStatus.SUSPENDED:
                self._cancel(ch)

    # ------------------------------------------------------------------ mutations
    def place(self, account_id: int, contract_id: str, type: OrderType, side: Side, size: int, *,
              limit_price: float | None = None, stop_price: float | None = None,
              trail_price: float | None = None, custom_tag: str | None = None,
              stop_loss_bracket: Bracket | None = None, take_profit_bracket: Bracket | None = None,
              internal: bool = False) -> PlaceResult:
        """Order/place (§4.5). Business failures come back as a PlaceResult, never raised.

        Returns:
            PlaceResult with PlaceOrderErrorCode (0 ok, 1 AccountNotFound, 2 OrderRejected,
            5 OutsideTradingHours, 8 ContractNotFound, 9 ContractNotActive).
        """
        acct = self.accounts.get(account_id)
        if acct is None:
            return PlaceResult(E.PLACE_ACCOUNT_NOT_FOUND, f"Account {account_id} not found.")
        c = self.contracts.get(contract_id)
        if c is None:
            return PlaceResult(E.PLACE_CONTRACT_NOT_FOUND, f"Contract {contract_id} not found.")
        if not c.active:
            return PlaceResult(E.PLACE_CONTRACT_NOT_ACTIVE, f"Contract {contract_id} is not active.")
        bad = validate_place(self, acct, c, type, side, size, limit_price, stop_price,
                             trail_price, custom_tag, stop_loss_bracket, take_profit_bracket,
                             internal)
        if bad is not None:
            if self.config.record_rejections and size and size > 0:
                return self._record_rejection(acct, c, type, side, size, custom_tag, bad)
            return bad
        m = self.market[contract_id]
        now = self.clock.now_ns()
        o = SimOrder(id=self._next_order, account_id=account_id, contract_id=contract_id,
                     symbol_id=c.symbol_id, type=type, side=side, size=size, created_ns=now,
                     updated_ns=now, custom_tag=custom_tag, internal=internal,
                     sl_bracket=stop_loss_bracket, tp_bracket=take_profit_bracket)
        self._next_order += 1
        if type == OrderType.MARKET:
            o.status = OrderStatus.PENDING
        else:
            o.status = OrderStatus.OPEN
        if type == OrderType.LIMIT:
            o.limit_ticks = c.to_ticks(limit_price)  # type: ignore[arg-type]
        elif type == OrderType.JOIN_BID:
            o.limit_ticks = m.bid
        elif type == OrderType.JOIN_ASK:
            o.limit_ticks = m.ask
        elif type == OrderType.STOP:
            o.stop_ticks = c.to_ticks(stop_price)  # type: ignore[arg-type]
        elif type == OrderType.TRAILING_STOP:
            d = abs(c.to_ticks(trail_price) - (m.last or 0))  # type: ignore[arg-type]
            o.trail_distance = d
            o.stop_ticks = None
            trail(o, m.last)
        self.orders[o.id] = o
        if custom_tag:
            self._tags[account_id].add(custom_tag)
        self._working[contract_id].append(o.id)
        self._emit_order(o, 0)
        if stop_loss_bracket or take_profit_bracket:
            self._create_children(o, c, stop_loss_bracket, take_profit_bracket)
        self._try_fill(o, m, on_trade=False, arrival=True)
        return PlaceResult(0, None, o.id)

    def _record_rejection(self, acct: SimAccount, c: SimContract, type: OrderType, side: Side,
                          size: int, custom_tag: str | None, bad: PlaceResult) -> PlaceResult:
        now = self.clock.now_ns()
        o = SimOrder(id=self._next_order, account_id=acct.id, contract_id=c.id,
                     symbol_id=c.symbol_id, type=type, side=side, size=size, created_ns=now,
                     updated_ns=now, status=OrderStatus.REJECTED, custom_tag=custom_tag)
        self._next_order += 1
        self.orders[o.id] = o
        self._emit_order(o, 0)
        return PlaceResult(bad.error_code, bad.message, o.id)

    def _create_children(self, o: SimOrder, c: SimContract, sl: Bracket | None,
                         tp: Bracket | None) -> None:
        legs: list[SimOrder] = []
        for br, leg in ((sl, "SL"), (tp, "TP")):
            if br is None:
                continue
            ch = SimOrder(id=self._next_order, account_id=o.account_id, contract_id=o.contract_id,
                          symbol_id=o.symbol_id, type=br.type, side=o.side.opposite, size=o.size,
                          created_ns=o.created_ns, updated_ns=o.created_ns,
                          status=OrderStatus.SUSPENDED, parent_order_id=o.id,
                          custom_tag=f"{o.custom_tag}-{leg}" if o.custom_tag else None,
                          trail_distance=br.ticks, leg=leg)
            if br.type == OrderType.TRAILING_STOP:
                ch.trail_distance = abs(br.ticks)
            self._next_order += 1
            self.orders[ch.id] = ch
            self._working[o.contract_id].append(ch.id)
            legs.append(ch)
        o.children = [lg.id for lg in legs]
        if len(legs) == 2:  # only the TP carries linkedOrderId, pointing at the SL (§5.2)
            legs[1].linked_order_id = legs[0].id
        for lg in legs:
            self._emit_order(lg, 0)

    def on_time(self, ts_ns: int) -> None:
        """Let market time pass without a market event (runs the rule hooks: EOD, 15:10 CT)."""
        self._set_time(ts_ns)
        for h in self.hooks:
            h.after_market(self)
