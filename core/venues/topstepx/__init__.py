"""ProjectX Gateway (TopstepX) client.

Laid out NautilusTrader-style — ``config`` · ``auth`` · ``http`` · ``realtime`` (+ the
``signalr`` and ``wshub`` transports) · ``schemas`` · ``parse`` · ``execution`` — and composed by
:class:`~core.venues.topstepx.venue.TopstepXVenue`, which implements
:class:`core.venues.base.Venue`. The same client talks to TopstepX or to the local simulator;
only the URLs differ.

Open it through :func:`core.venues.factory.open_venue`, which reads the profile's
``venue.kind``, URLs and credential variables (and starts a local simulator for ``"sim"``)::

    from core.venues.factory import open_venue

    venue = await open_venue(profile)                        # not connected yet
    try:
        await venue.connect()                                # login + both hubs
        mes = await venue.active_contract(profile.venue.symbol_id)
        await venue.watch_account(account_id)                # user events + REST state
        await venue.subscribe_quotes(mes.id)
        async for event in venue.events():                   # typed VenueEvents
            ...
    finally:
        await venue.close()

Gateway integer codes (side, order type/status, position type, bar unit) are converted to and
from the venue-neutral domain enums in :mod:`.codes` only.
"""

from core.venues.topstepx.config import TopstepXConfig, config_from_settings, credentials_from_env
from core.venues.topstepx.venue import TopstepXVenue

__all__ = ["TopstepXConfig", "TopstepXVenue", "config_from_settings", "credentials_from_env"]
