"""Value types shared by the engine, venues, strategy and journal.

Plain frozen dataclasses and integer enums (the enum values match the ProjectX Gateway
where one exists, see topstepx-gateway.md §5.1). Timestamps are UTC nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Side(IntEnum):
    """Order side as the gateway encodes it."""

    BID = 0  #: buy
    ASK = 1  #: sell


class OrderType(IntEnum):
    """Order types as the gateway encodes them."""

    UNKNOWN = 0
    LIMIT = 1
    MARKET = 2
    STOP_LIMIT = 3
    STOP = 4
    TRAILING_STOP = 5
    JOIN_BID = 6
    JOIN_ASK = 7


class OrderStatus(IntEnum):
    """Order statuses as the gateway encodes them."""

    NONE = 0
    OPEN = 1
    FILLED = 2
    CANCELLED = 3
    EXPIRED = 4
    REJECTED = 5
    PENDING = 6
    PENDING_CANCELLATION = 7  # swagger/live only (gateway spec §5.1)
    SUSPENDED = 8  # observed for bracket legs before the entry fills


class PositionType(IntEnum):
    """Position direction as the gateway encodes it."""

    UNDEFINED = 0
    LONG = 1
    SHORT = 2


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
    side: Side | None = None


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
        """Whether the order can still fill (open, pending or a suspended bracket leg)."""
        return self.status in (OrderStatus.OPEN, OrderStatus.PENDING, OrderStatus.SUSPENDED,
                               OrderStatus.PENDING_CANCELLATION)


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
    """Net position in one contract."""

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
