"""Venues: the :class:`~core.venues.base.Venue` interface and its implementations.

``topstepx`` is the ProjectX Gateway client; ``sim`` is the local gateway simulator that
speaks the same wire protocol (the client cannot tell them apart). Code outside this package
reaches a venue only through :mod:`core.venues.base` and
:func:`core.venues.factory.open_venue` (an architecture test says so).
"""

from core.venues.base import (
    AccountEvent,
    Bracket,
    ConnectionEvent,
    ConnectionState,
    DepthEvent,
    DepthLevel,
    FillEvent,
    HubHealth,
    OrderEvent,
    OrderRequest,
    PlaceResult,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
    Venue,
    VenueEvent,
    VenueHealth,
)

__all__ = [
    "AccountEvent", "Bracket", "ConnectionEvent", "ConnectionState", "DepthEvent", "DepthLevel",
    "FillEvent", "HubHealth", "OrderEvent", "OrderRequest", "PlaceResult", "PositionEvent",
    "QuoteEvent", "TradeEvent", "Venue", "VenueEvent", "VenueHealth",
]
