"""ProjectX Gateway (TopstepX) client.

Laid out NautilusTrader-style — ``config`` · ``auth`` · ``http`` · ``realtime`` (+ the
``signalr`` and ``wshub`` transports) · ``schemas`` · ``parse`` · ``execution`` — and composed by
:class:`~core.venues.topstepx.venue.TopstepXVenue`, which implements
:class:`core.venues.base.Venue`. The same client talks to TopstepX or to the local simulator;
only the URLs differ.

Example::

    from core.clock import LiveClock
    from core.venues.topstepx import TopstepXVenue, config_from_settings, credentials_from_env

    user, key = credentials_from_env(profile.venue)          # env vars named by the profile
    venue = TopstepXVenue(config_from_settings(profile.venue), username=user, api_key=key,
                          clock=LiveClock())
    await venue.connect()                                    # login + both hubs
    mes = await venue.active_contract(profile.venue.symbol_id)
    await venue.watch_account(account_id)                    # user events + REST state
    await venue.subscribe_quotes(mes.id)
    async for event in venue.events():                       # typed VenueEvents
        ...
"""

from core.venues.topstepx.config import TopstepXConfig, config_from_settings, credentials_from_env
from core.venues.topstepx.venue import TopstepXVenue

__all__ = ["TopstepXConfig", "TopstepXVenue", "config_from_settings", "credentials_from_env"]
