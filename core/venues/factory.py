"""Open the venue a profile names: the one door to a broker (with :mod:`core.venues.base`).

``venue.kind = "topstepx"`` → the TopstepX client at the profile's URLs, logged in with the
credentials from the environment variables the profile names. ``venue.kind = "sim"`` → the
*same, unchanged* client pointed at a local simulator: one already running (``sim_url``, or a
loopback ``venue.api_url`` in the profile), or one started here, in process, on 127.0.0.1 and
a free port, stopped when the venue closes. The choice is made here and nowhere else (no
``if simulated:`` anywhere downstream).

Example::

    venue = await open_venue(load_profile("demo"))        # an in-process simulator
    try:
        await venue.connect()
        ...
    finally:
        await venue.close()                                # also stops the simulator
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.clock import Clock, LiveClock
from core.errors import ConfigError
from core.venues.base import Venue

if TYPE_CHECKING:  # imported lazily at run time: the simulator pulls in pandas
    from core.config import Profile
    from core.venues.sim.launch import SimSettings

KINDS = ("sim", "topstepx")
#: What the simulator accepts when the environment names no other credentials (documented
#: defaults of ``scalpdesk sim run``, not secrets).
SIM_CREDENTIALS = ("sim", "sim-key")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str | None) -> bool:
    """Whether ``url`` points at this machine."""
    return bool(url) and is_loopback_host(urlsplit(url).hostname or "")  # type: ignore[arg-type]


async def open_venue(profile: Profile | None = None, *, env: Mapping[str, str] | None = None,
                     clock: Clock | None = None, kind: str | None = None,
                     sim_url: str | None = None, sim: SimSettings | None = None,
                     config_overrides: Mapping[str, Any] | None = None,
                     market_open: Callable[[], bool] | None = None) -> Venue:
    """The venue ``profile.venue`` describes, not yet connected (call ``connect()``).

    Args:
        profile: A :class:`core.config.Profile` (None: TopstepX with the built-in URLs and the
            ``TOPSTEPX_USERNAME``/``TOPSTEPX_API_KEY`` variables).
        env: Environment to read credentials from (default ``os.environ``).
        clock: The client's clock (default :class:`LiveClock`).
        kind: Overrides ``profile.venue.kind`` (``"sim"`` or ``"topstepx"``).
        sim_url: For ``sim``: the REST URL of a simulator already running (hubs at
            ``/hubs/user`` and ``/hubs/market``); must be a loopback URL.
        sim: For an in-process simulator: a :class:`core.venues.sim.launch.SimSettings`
            (default: two generated sessions of the profile's instrument, the first served as
            history, the last replayed at 10× speed).
        config_overrides: :class:`TopstepXConfig` fields that win over the profile (URLs,
            timeouts; ``None`` values are ignored).
        market_open: "Is the market open now?" for the client's stall watchdog (default: the
            CME calendar, or for an in-process simulator the replay's own market).

    Returns:
        The TopstepX client; with an in-process simulator, closing it also stops the simulator.

    Raises:
        ConfigError: Unknown kind, a non-loopback simulator URL, or (for ``topstepx``) missing
            environment variables, named but never shown.
        DataError: The in-process simulator has nothing to replay.
        OSError: The in-process simulator cannot listen.
    """
    settings = getattr(profile, "venue", None)
    kind = kind or getattr(settings, "kind", None) or "topstepx"
    if kind not in KINDS:
        raise ConfigError(f"venue.kind = {kind!r} is not a venue kind",
                          hint=f"use one of: {', '.join(KINDS)}")
    clock = clock or LiveClock()
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (config_overrides or {}).items() if v is not None}
    if kind == "topstepx":
        from core.venues.topstepx.config import config_from_settings, credentials_from_env

        username, api_key = credentials_from_env(settings, env)
        return _client(config_from_settings(settings, **overrides), username, api_key, clock,
                       market_open)
    url, hubs = _sim_address(settings, sim_url)
    if url is not None:
        username, api_key = _sim_credentials(settings, env)
        config = _sim_config(url, hubs, overrides)
        return _client(config, username, api_key, clock, market_open)
    return await _in_process(profile, sim, clock, overrides, market_open)


def _client(config: Any, username: str, api_key: str, clock: Clock,
            market_open: Callable[[], bool] | None) -> Any:
    from core.venues.topstepx.venue import TopstepXVenue

    return TopstepXVenue(config, username=username, api_key=api_key, clock=clock,
                         market_open=market_open)


def _sim_address(settings: Any, sim_url: str | None) -> tuple[str | None, tuple[str, str] | None]:
    """REST URL (and hub URLs, if the profile gives loopback ones) of a running simulator."""
    if sim_url is not None:
        if not is_loopback_url(sim_url):
            raise ConfigError(f"simulator URL {sim_url} is not on this machine",
                              hint="the simulator listens on loopback, e.g. http://127.0.0.1:PORT")
        return sim_url, None
    from core.venues.topstepx.config import TOPSTEPX_API_URL

    api = getattr(settings, "api_url", None)
    if is_loopback_url(api):
        user = getattr(settings, "user_hub_url", None)
        market = getattr(settings, "market_hub_url", None)
        same_host = all(is_loopback_url(u) for u in (user, market))
        return api, (user, market) if same_host else None
    if api and api.rstrip("/") != TOPSTEPX_API_URL:
        raise ConfigError(f'venue.kind = "sim" but venue.api_url = {api} is not a loopback URL',
                          hint="point api_url at a local simulator (http://127.0.0.1:PORT), or "
                               "leave it out to start one in process")
    return None, None  # the built-in TopstepX default: not for a sim profile


def _sim_config(url: str, hubs: tuple[str, str] | None, overrides: Mapping[str, Any]) -> Any:
    from core.venues.topstepx.config import TopstepXConfig

    base = url.rstrip("/")
    user, market = hubs or (f"{base}/hubs/user", f"{base}/hubs/market")
    return TopstepXConfig(**{"api_url": base, "user_hub_url": user, "market_hub_url": market,
                             **overrides})


def _sim_credentials(settings: Any, env: Mapping[str, str]) -> tuple[str, str]:
    # The variables the profile names win (a simulator started with other credentials);
    # otherwise the simulator's documented defaults, so no TopstepX secret is needed.
    user_var = getattr(settings, "username_env", None) or "TOPSTEPX_USERNAME"
    key_var = getattr(settings, "api_key_env", None) or "TOPSTEPX_API_KEY"
    if env.get(user_var) and env.get(key_var):
        return env[user_var], env[key_var]
    return SIM_CREDENTIALS


async def _in_process(profile: Profile | None, sim: SimSettings | None, clock: Clock,
                      overrides: Mapping[str, Any],
                      market_open: Callable[[], bool] | None) -> Any:
    from core.venues.sim.launch import SimSettings, start_simulator

    if sim is None:
        root = str(getattr(profile, "instrument", None) or "MES").upper()
        sim = SimSettings(symbol=root, days=2, serve_history=True)
    if not is_loopback_host(sim.host):
        raise ConfigError(f"in-process simulator host {sim.host} is not a loopback address",
                          hint="use 127.0.0.1")
    local = await start_simulator(sim, clock=clock)
    try:
        username, api_key = local.credentials
        venue = _client(_sim_config(local.urls.rest, None, overrides), username, api_key, clock,
                        market_open or local.market_open)
    except BaseException:
        await local.stop()
        raise
    venue.on_close(local.stop)
    return venue
