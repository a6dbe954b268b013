"""Settings of the TopstepX (ProjectX Gateway) client.

Every UNCONFIRMED behaviour of the gateway spec is a setting here rather than a guess in code.
Defaults are the real TopstepX hosts; point the URLs at the local simulator to paper trade.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError

TOPSTEPX_API_URL = "https://api.topstepx.com"
TOPSTEPX_USER_HUB_URL = "https://rtc.topstepx.com/hubs/user"
TOPSTEPX_MARKET_HUB_URL = "https://rtc.topstepx.com/hubs/market"


@dataclass(frozen=True, slots=True)
class TopstepXConfig:
    """Client settings (no secrets: credentials are passed to the client directly).

    Attributes:
        api_url: REST base URL (paths ``/api/...`` are appended).
        user_hub_url: User hub URL (http(s) or ws(s); converted to websocket).
        market_hub_url: Market hub URL.
        request_timeout_s: Per-request timeout; a timeout after sending a mutation is ambiguous.
        bars_limit: Largest ``limit`` per retrieveBars call (gateway max 20,000).
        bars_rate / bars_window_s: History rate limit (50 per 30 s).
        rate / window_s: Limit of every other endpoint (200 per 60 s).
        rate_safety: Fraction of each limit the client allows itself.
        max_read_retries: Retries of a read after 429/5xx/timeout.
        backoff_base_s / backoff_max_s: Exponential backoff (with full jitter) bounds.
        refresh_margin_s: Validate the token this long before its expiry (capped at half the
            token lifetime so short-lived tokens refresh too).
        token_lifetime_s: Assumed lifetime when the JWT carries no ``exp`` (docs: 24 h).
        stall_timeout_s: Market hub watchdog: no quote for this long while the market is open
            (and quotes are subscribed) → tear the connection down and rebuild it.
        dead_after_s: Any hub: no frame at all (not even a ping; servers ping every 15 s) for
            this long → the socket is considered half-open and rebuilt.
        handshake_timeout_s: Hub connect + handshake timeout.
        invoke_timeout_s: Subscribe/unsubscribe completion timeout.
        reconnect_delays_s: Delays between rebuild attempts (the last one repeats).
        keep_alive_s: SignalR ping interval.
        signed_bracket_ticks: Send bracket ticks signed by direction (SL negative for a long)
            instead of always positive; UNCONFIRMED in the spec (§5.2), so a setting.
        tag_prefix: Prefix of generated customTags (keep short: the gateway appends -SL/-TP).
        live_data: The ``live`` flag of contract/bar requests (false works for TopstepX users).
    """

    api_url: str = TOPSTEPX_API_URL
    user_hub_url: str = TOPSTEPX_USER_HUB_URL
    market_hub_url: str = TOPSTEPX_MARKET_HUB_URL
    request_timeout_s: float = 10.0
    bars_limit: int = 20_000
    bars_rate: int = 50
    bars_window_s: float = 30.0
    rate: int = 200
    window_s: float = 60.0
    rate_safety: float = 0.8
    max_read_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 15.0
    refresh_margin_s: float = 1800.0
    token_lifetime_s: float = 24 * 3600.0
    stall_timeout_s: float = 30.0
    dead_after_s: float = 45.0
    handshake_timeout_s: float = 5.0
    invoke_timeout_s: float = 10.0
    reconnect_delays_s: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    keep_alive_s: float = 15.0
    signed_bracket_ticks: bool = True
    tag_prefix: str = "sd"
    live_data: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name in ("api_url", "user_hub_url", "market_hub_url"):
            url = getattr(self, name)
            if not url.startswith(("http://", "https://", "ws://", "wss://")):
                problems.append(f"{name}={url!r}: expected an http(s):// or ws(s):// URL")
        if not 1 <= self.bars_limit <= 20_000:
            problems.append(f"bars_limit={self.bars_limit}: must be 1..20000 (gateway cap)")
        if not 0 < self.rate_safety <= 1:
            problems.append(f"rate_safety={self.rate_safety}: must be in (0, 1]")
        if self.stall_timeout_s <= 0 or self.dead_after_s <= 0:
            problems.append("stall_timeout_s and dead_after_s must be > 0")
        if not self.reconnect_delays_s:
            problems.append("reconnect_delays_s must not be empty")
        if len(self.tag_prefix) > 8:
            problems.append("tag_prefix: at most 8 characters (the gateway appends -SL/-TP)")
        if problems:
            raise ConfigError("invalid TopstepX client settings", problems=problems,
                              hint="fix the venue settings of the profile or the CLI options")


def config_from_settings(settings: Any | None = None, **overrides: Any) -> TopstepXConfig:
    """Client settings from a profile's ``[venue]`` section (``core.config.VenueSettings``).

    ``overrides`` that are ``None`` are ignored, so CLI options can be passed straight through.
    """
    kwargs: dict[str, Any] = {}
    if settings is not None:
        for name in ("api_url", "user_hub_url", "market_hub_url"):
            value = getattr(settings, name, None)
            if value:
                kwargs[name] = value
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return TopstepXConfig(**kwargs)


def credentials_from_env(settings: Any | None = None,
                         env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(username, api_key)`` from the environment variables the settings name.

    Raises:
        ConfigError: Naming every missing variable (the values are never shown).
    """
    env = os.environ if env is None else env
    user_var = getattr(settings, "username_env", None) or "TOPSTEPX_USERNAME"
    key_var = getattr(settings, "api_key_env", None) or "TOPSTEPX_API_KEY"
    missing = [v for v in (user_var, key_var) if not env.get(v)]
    if missing:
        raise ConfigError(
            f"environment variable {' and '.join(missing)} not set",
            hint=f"export {missing[0]}=... (your TopstepX user name / API key; the simulator "
                 "accepts sim / sim-key)")
    return env[user_var], env[key_var]
