"""Value types of the domain. Imports nothing else from the project."""

from core.domain.instruments import (
    INSTRUMENTS,
    Instrument,
    TickModel,
    get_instrument,
    root_of,
)
from core.domain.types import (
    Account,
    Bar,
    Contract,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionType,
    Prediction,
    Quote,
    Side,
    TradeTick,
)

__all__ = [
    "INSTRUMENTS", "Instrument", "TickModel", "get_instrument", "root_of",
    "Account", "Bar", "Contract", "Fill", "Order", "OrderStatus", "OrderType", "Position",
    "PositionType", "Prediction", "Quote", "Side", "TradeTick",
]
