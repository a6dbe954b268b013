"""ProjectX Gateway (TopstepX) client: config · auth · http · realtime · schemas · parse ·
execution, composed by :class:`~core.venues.topstepx.venue.TopstepXVenue`."""

from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.venue import TopstepXVenue

__all__ = ["TopstepXConfig", "TopstepXVenue"]
