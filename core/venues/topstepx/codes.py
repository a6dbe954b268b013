"""ProjectX Gateway integer codes ↔ the venue-neutral domain enums (topstepx-gateway.md §5.1).

The only place in the client that knows the numbers. :mod:`.parse` turns inbound codes into
domain values; :mod:`.execution` and :mod:`.venue` turn domain values into outbound codes. Each
table is written once, in the gateway's direction (domain → code), and inverted here, so the two
directions cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from core.domain import OrderStatus, OrderType, PositionType, Side
from core.errors import DataError, NonRetryableVenueError

#: OrderSide: 0 Bid (buy), 1 Ask (sell).
SIDE_CODES: Final[Mapping[Side, int]] = {Side.BUY: 0, Side.SELL: 1}
#: TradeLogType of market trade prints: the aggressor, 0 Buy, 1 Sell.
TRADE_SIDE_CODES: Final[Mapping[Side, int]] = {Side.BUY: 0, Side.SELL: 1}
#: OrderType.
ORDER_TYPE_CODES: Final[Mapping[OrderType, int]] = {
    OrderType.UNKNOWN: 0, OrderType.LIMIT: 1, OrderType.MARKET: 2, OrderType.STOP_LIMIT: 3,
    OrderType.STOP: 4, OrderType.TRAILING_STOP: 5, OrderType.JOIN_BID: 6, OrderType.JOIN_ASK: 7}
#: OrderStatus (7 and 8 are swagger/live only).
ORDER_STATUS_CODES: Final[Mapping[OrderStatus, int]] = {
    OrderStatus.UNKNOWN: 0, OrderStatus.OPEN: 1, OrderStatus.FILLED: 2,
    OrderStatus.CANCELLED: 3, OrderStatus.EXPIRED: 4, OrderStatus.REJECTED: 5,
    OrderStatus.PENDING: 6, OrderStatus.PENDING_CANCEL: 7, OrderStatus.SUSPENDED: 8}
#: PositionType: 0 Undefined (flat), 1 Long, 2 Short.
POSITION_TYPE_CODES: Final[Mapping[PositionType, int]] = {
    PositionType.FLAT: 0, PositionType.LONG: 1, PositionType.SHORT: 2}
#: AggregateBarUnit codes with a fixed length in seconds (6 Month and 7 Tick have none).
BAR_UNIT_SECONDS: Final[Mapping[int, int]] = {5: 604_800, 4: 86_400, 3: 3_600, 2: 60, 1: 1}

_SIDES = {v: k for k, v in SIDE_CODES.items()}
_TRADE_SIDES = {v: k for k, v in TRADE_SIDE_CODES.items()}
_TYPES = {v: k for k, v in ORDER_TYPE_CODES.items()}
_STATUSES = {v: k for k, v in ORDER_STATUS_CODES.items()}
_POSITIONS = {v: k for k, v in POSITION_TYPE_CODES.items()}


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------ inbound
def side_from_code(value: Any) -> Side:
    """An order/trade ``side`` code → :class:`Side`.

    Raises:
        DataError: Not 0 or 1. A side is never guessed: a wrong one would double a position.
    """
    side = _SIDES.get(_int(value))  # type: ignore[arg-type]
    if side is None:
        raise DataError(f"unknown ProjectX side code {value!r}", hint="expected 0 (bid) or 1 (ask)")
    return side


def trade_side_from_code(value: Any) -> Side | None:
    """A market print's aggressor ``type`` (TradeLogType) → :class:`Side`, None if unknown."""
    return _TRADE_SIDES.get(_int(value))  # type: ignore[arg-type]


def order_type_from_code(value: Any) -> OrderType:
    """An OrderType code → :class:`OrderType` (``UNKNOWN`` for codes we do not know)."""
    return _TYPES.get(_int(value), OrderType.UNKNOWN)  # type: ignore[arg-type]


def order_status_from_code(value: Any) -> OrderStatus:
    """An OrderStatus code → :class:`OrderStatus` (``UNKNOWN`` for codes we do not know)."""
    return _STATUSES.get(_int(value), OrderStatus.UNKNOWN)  # type: ignore[arg-type]


def position_type_from_code(value: Any, size: int) -> PositionType:
    """A PositionType code → :class:`PositionType`; size 0 is always flat.

    Raises:
        DataError: A non-zero size with a direction other than 1 or 2 (never guessed).
    """
    if size == 0:
        return PositionType.FLAT
    kind = _POSITIONS.get(_int(value))  # type: ignore[arg-type]
    if kind is None or kind is PositionType.FLAT:
        raise DataError(f"position of size {size} with unknown ProjectX type {value!r}",
                        hint="expected type 1 (long) or 2 (short)")
    return kind


def bar_seconds_of(unit: int, unit_number: int) -> int | None:
    """Length in seconds of ``unit_number`` × AggregateBarUnit ``unit`` (None: month, tick)."""
    seconds = BAR_UNIT_SECONDS.get(unit)
    return None if seconds is None else seconds * unit_number


# ------------------------------------------------------------------------------ outbound
def side_code(side: Side) -> int:
    """:class:`Side` → the gateway's OrderSide code."""
    return SIDE_CODES[Side(side)]


def order_type_code(order_type: OrderType) -> int:
    """:class:`OrderType` → the gateway's OrderType code.

    Raises:
        NonRetryableVenueError: ``UNKNOWN`` (or not an order type): nothing to send.
    """
    try:
        kind = OrderType(order_type)
    except ValueError:
        kind = OrderType.UNKNOWN
    if kind is OrderType.UNKNOWN:
        raise NonRetryableVenueError(f"order type {order_type!r} cannot be sent",
                                     hint="use market, limit, stop, trailing_stop, join_bid or join_ask")
    return ORDER_TYPE_CODES[kind]


def order_status_code(status: OrderStatus) -> int:
    """:class:`OrderStatus` → the gateway's OrderStatus code (search filters)."""
    return ORDER_STATUS_CODES[OrderStatus(status)]


def position_type_code(kind: PositionType) -> int:
    """:class:`PositionType` → the gateway's PositionType code."""
    return POSITION_TYPE_CODES[PositionType(kind)]


def bar_unit(bar_seconds: int) -> tuple[int, int]:
    """A bar length in seconds → ``(unit, unitNumber)`` of History/retrieveBars.

    The largest unit that divides the length evenly is used (3600 → 1 hour, 300 → 5 minutes,
    90 → 90 seconds), so day and week bars are asked for as such.

    Raises:
        NonRetryableVenueError: Not a positive whole number of seconds.
    """
    if isinstance(bar_seconds, bool) or int(bar_seconds) != bar_seconds or bar_seconds <= 0:
        raise NonRetryableVenueError(f"bar size {bar_seconds!r} s is not a positive whole number "
                                     "of seconds", hint="e.g. 60 for one-minute bars")
    seconds = int(bar_seconds)
    for unit, length in BAR_UNIT_SECONDS.items():  # largest first
        if seconds % length == 0:
            return unit, seconds // length
    raise AssertionError("unreachable: every length divides by 1 second")
