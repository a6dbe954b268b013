"""A local ProjectX-compatible gateway (REST + SignalR JSON hubs) backed by the sim engine.

See :mod:`core.venues.sim.gateway.server` for the protocol note (which wire shapes it emits).
"""

from core.venues.sim.gateway.config import AccountConfig, Faults, GatewayConfig
from core.venues.sim.gateway.server import SimGateway, SimUrls

__all__ = ["AccountConfig", "Faults", "GatewayConfig", "SimGateway", "SimUrls"]
