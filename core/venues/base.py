"""The Venue interface the live engine trades through, and the events a venue publishes.

A venue is asynchronous: every operation is a coroutine and market/user updates arrive on
one event stream (:meth:`Venue.events`). The same interface is implemented by the TopstepX
client, whether it talks to the real gateway or to the local simulator (the client cannot
tell the difference, by design).

Events are plain frozen dataclasses carrying the domain value types, so the engine, the
journal and the TUI bridge can consume them without knowing the venue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

from core.domain import (
    Account,
    Bar,
    Contract,
    Fill,
    Order,
    OrderType,
    Position,
    Quote,
    Side,
    TradeTick,
)


class ConnectionState(str, Enum):
    """State of one realtime connection (hub) as the supervisor sees it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  #: lost; the supervisor is rebuilding it
    RESYNCED = "resynced"  #: reconnected, resubscribed and REST state reloaded
    STALLED = "stalled"  #: watchdog fired (no quotes while the market is open)
    CLOSED = "closed"  #: closed on purpose


@dataclass(frozen=True, slots=True)
class QuoteEvent:
    """Top of book after merging a (possibly sparse) update into the last full quote."""

    quote: Quote


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One market trade print."""

    tick: TradeTick


@dataclass(frozen=True, slots=True)
class DepthLevel:
    """One depth row: ``price``/``size`` with the gateway's DomType code in ``kind``."""

    price: float
    size: float
    kind: int


@dataclass(frozen=True, slots=True)
class DepthEvent:
    """Market depth after applying an update (``reset`` when the book was rebuilt)."""

    ts: int
    contract_id: str
    bids: tuple[DepthLevel, ...]  #: best first
    asks: tuple[DepthLevel, ...]  #: best first
    reset: bool = False


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order changed. ``source`` is ``"hub"`` or ``"resync"`` (REST after a gap)."""

    order: Order
    source: str = "hub"


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """A net position changed (size 0 / ``PositionType.FLAT`` means flat)."""

    position: Position
    source: str = "hub"


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """Account balance / tradability changed."""

    account: Account
    source: str = "hub"


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A half-turn execution (delivered once per fill id)."""

    fill: Fill
    source: str = "hub"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A realtime connection changed state (``hub`` is ``"user"`` or ``"market"``)."""

    hub: str
    state: ConnectionState
    reason: str = ""


VenueEvent = (QuoteEvent | TradeEvent | DepthEvent | OrderEvent | PositionEvent | AccountEvent
              | FillEvent | ConnectionEvent)


@dataclass(frozen=True, slots=True)
class Bracket:
    """Native bracket legs attached to an entry, in ticks from the entry fill price.

    Distances are positive here; the venue converts them to the gateway's sign convention.
    """

    stop_ticks: int | None = None
    target_ticks: int | None = None
    stop_type: OrderType = OrderType.STOP


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the engine wants placed. Prices are rounded to the tick by the venue.

    Attributes:
        tag: Idempotency key (unique per account). Generated when ``None``.
    """

    account_id: int
    contract_id: str
    side: Side
    type: OrderType
    size: int
    limit_price: float | None = None
    stop_price: float | None = None
    trail_price: float | None = None
    bracket: Bracket | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """Outcome of a placement: the order id and how it was established."""

    order_id: int
    tag: str
    reconciled: bool = False  #: True when the id was found by tag after an ambiguous send
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class HubHealth:
    """Health of one realtime connection."""

    name: str
    state: ConnectionState
    connected: bool
    reconnects: int
    last_event_age_s: float | None  #: seconds since the last event, None if none yet
    last_reason: str = ""


@dataclass(frozen=True, slots=True)
class VenueHealth:
    """A snapshot of connection health (for the TUI status bar and the control socket)."""

    hubs: tuple[HubHealth, ...] = ()
    token_expires_ns: int | None = None
    token_refreshes: int = 0
    logins: int = 0
    resyncs: int = 0
    rate_limited: int = 0  #: 429 answers seen
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def all_connected(self) -> bool:
        """Whether every hub is connected."""
        return bool(self.hubs) and all(h.connected for h in self.hubs)


@runtime_checkable
class Venue(Protocol):
    """What the live engine needs from a broker. All methods are coroutines."""

    async def connect(self) -> None:
        """Log in, start the realtime connections and load the initial state."""
        ...

    async def close(self) -> None:
        """Stop everything (idempotent)."""
        ...

    async def accounts(self, *, only_active: bool = True) -> list[Account]:
        """List the user's accounts."""
        ...

    async def watch_account(self, account_id: int) -> None:
        """Receive an account's order/position/fill/account events and keep them in sync
        (state reloaded through REST now and after every reconnect)."""
        ...

    async def search_contracts(self, text: str) -> list[Contract]:
        """Search contracts by text (fuzzy; filter the result)."""
        ...

    async def contract(self, contract_id: str) -> Contract:
        """Look one contract up by id."""
        ...

    async def active_contract(self, symbol_id: str) -> Contract:
        """The active contract for a ``symbolId`` such as ``F.US.MES``."""
        ...

    async def bars(self, contract_id: str, start_ns: int, end_ns: int, *, bar_seconds: int = 60,
                   include_partial: bool = False) -> list[Bar]:
        """Historical bars of ``bar_seconds`` starting in ``[start, end]``, ascending, paged
        past the per-call limit (``include_partial``: also the bar still forming)."""
        ...

    async def subscribe_quotes(self, contract_id: str) -> None:
        """Start quote updates for a contract (kept across reconnects)."""
        ...

    async def unsubscribe_quotes(self, contract_id: str) -> None:
        """Stop quote updates."""
        ...

    async def subscribe_trades(self, contract_id: str) -> None:
        """Start market trade prints."""
        ...

    async def unsubscribe_trades(self, contract_id: str) -> None:
        """Stop market trade prints."""
        ...

    async def subscribe_depth(self, contract_id: str) -> None:
        """Start market depth."""
        ...

    async def unsubscribe_depth(self, contract_id: str) -> None:
        """Stop market depth."""
        ...

    async def place_order(self, request: OrderRequest) -> PlaceResult:
        """Place an order exactly once (idempotent by tag)."""
        ...

    async def modify_order(self, account_id: int, order_id: int, *, size: int | None = None,
                           limit_price: float | None = None, stop_price: float | None = None,
                           trail_price: float | None = None) -> None:
        """Change a working order (only the fields given)."""
        ...

    async def cancel_order(self, account_id: int, order_id: int) -> None:
        """Cancel a working order."""
        ...

    async def open_orders(self, account_id: int, *, include_suspended: bool = True) -> list[Order]:
        """Working orders, including suspended bracket legs by default."""
        ...

    async def find_by_tag(self, account_id: int, tag: str) -> Order | None:
        """The order carrying ``tag`` at the broker, in ANY status (filled and cancelled too):
        how an unknown send outcome is resolved. Raises VenueError when the lookup fails —
        a failed lookup is never "not found"."""
        ...

    async def positions(self, account_id: int) -> list[Position]:
        """Open positions."""
        ...

    async def trades(self, account_id: int, start_ns: int, end_ns: int | None = None) -> list[Fill]:
        """Half-turn fills in a time range."""
        ...

    async def flatten(self, account_id: int, contract_id: str) -> None:
        """Cancel every working order on the contract and close the position."""
        ...

    def events(self) -> AsyncIterator[VenueEvent]:
        """The event stream (one consumer)."""
        ...

    def health(self) -> VenueHealth:
        """A health snapshot."""
        ...
