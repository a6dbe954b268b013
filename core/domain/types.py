"""Value types shared by the engine, venues, strategy and journal.

Plain frozen dataclasses and venue-neutral enums. No gateway codes live here: each venue maps
its own wire codes to these enums at its edge (ProjectX codes: ``core/venues/topstepx/codes.py``
for the client, ``core/venues/sim/gateway/wire.py`` for the simulator). Timestamps are UTC
nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Side(IntEnum):
    """Order or trade side, signed so that ``side * size`` is a position change."""

    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> Side:
        """The other side (the side that closes a position opened on this one)."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """Order types a venue may support."""

    UNKNOWN = "unknown"  #: a type the venue reported that we do not know
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  #: stop-market
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    JOIN_BID = "join_bid"  #: a limit at the best bid when placed
    JOIN_ASK = "join_ask"  #: a limit at the best ask when placed


class OrderStatus(StrEnum):
    """Order lifecycle states as a venue reports them (a partial fill stays ``OPEN``)."""

    UNKNOWN = "unknown"  #: the venue reported no status, or one we do not know
    PENDING = "pending"  #: accepted, not yet working (market orders until filled)
    OPEN = "open"  #: working at the venue
    SUSPENDED = "suspended"  #: a bracket leg held until its entry fills
    PENDING_CANCEL = "pending_cancel"  #: a cancel is being processed
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_working(self) -> bool:
        """Whether an order in this state can still fill."""
        return self in _WORKING_STATUSES

    @property
    def is_final(self) -> bool:
        """Whether this state never changes again."""
        return self in _FINAL_STATUSES


_WORKING_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.SUSPENDED,
                               OrderStatus.PENDING_CANCEL})
_FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED,
                             OrderStatus.REJECTED})


class PositionType(StrEnum):
    """Direction of a net position."""

    FLAT = "flat"
    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``ts`` is the bar *start* in UTC ns."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    symbol: str = ""


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book (fields may be ``None`` when a sparse update omitted them)."""

    ts: int
    contract_id: str
    bid: float | None = None
    ask: float | None = None
    last: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    volume: float | None = None


@dataclass(frozen=True, slots=True)
class TradeTick:
    """One market trade print."""

    ts: int
    contract_id: str
    price: float
    size: float
    side: Side | None = None  #: the aggressor's side, None when the venue does not say


@dataclass(frozen=True, slots=True)
class Order:
    """A working or finished order as the venue reports it."""

    id: int
    account_id: int
    contract_id: str
    side: Side
    type: OrderType
    size: int
    status: OrderStatus
    limit_price: float | None = None
    stop_price: float | None = None
    trail_price: float | None = None
    filled_size: int = 0
    fill_price: float | None = None
    custom_tag: str | None = None
    created_ts: int = 0
    updated_ts: int = 0
    parent_id: int | None = None  #: bracket legs: the entry order's id
    linked_id: int | None = None  #: bracket TP leg: the SL leg's id (OCO)
    trail_distance: int | None = None  #: trailing stops / bracket legs, in ticks

    @property
    def is_working(self) -> bool:
        """Whether the order can still fill (open, pending, pending cancel or a suspended leg)."""
        return self.status.is_working


@dataclass(frozen=True, slots=True)
class Fill:
    """A half-turn execution (ProjectX calls these trades)."""

    id: int
    account_id: int
    contract_id: str
    order_id: int
    side: Side
    price: float
    size: int
    fees: float
    ts: int
    profit_and_loss: float | None = None  #: None on opening half-turns
    commissions: float = 0.0  #: reported apart from ``fees`` by some payloads; sum both
    voided: bool = False


@dataclass(frozen=True, slots=True)
class Position:
    """Net position in one contract (``size`` is the magnitude, ``type`` the direction)."""

    account_id: int
    contract_id: str
    type: PositionType
    size: int
    average_price: float
    ts: int = 0

    @property
    def signed_size(self) -> int:
        """Size with sign: positive long, negative short, zero flat."""
        if self.type == PositionType.LONG:
            return self.size
        if self.type == PositionType.SHORT:
            return -self.size
        return 0


@dataclass(frozen=True, slots=True)
class Account:
    """A trading account."""

    id: int
    name: str
    balance: float
    can_trade: bool
    is_visible: bool = True
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class Contract:
    """A listed futures contract as a venue describes it (ids are opaque strings)."""

    id: str
    name: str
    tick_size: float
    tick_value: float
    symbol_id: str = ""
    description: str = ""
    active: bool = False


@dataclass(frozen=True, slots=True)
class Prediction:
    """A model's output for one bar (requirements §6)."""

    ts: int
    direction: int  #: -1, 0, +1
    confidence: float  #: calibrated, 0–1
    predicted_move: float  #: ticks, probability-weighted
    volatility: float  #: expected volatility (for sizing)
    probabilities: tuple[float, ...] = field(default=())
