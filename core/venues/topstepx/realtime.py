"""SignalR hubs, supervised by our own code.

signalrcore runs a socket thread per connection and its automatic reconnect can hang after an
outage, so it is used only as a transport: no automatic reconnect. :class:`HubSupervisor`
(asyncio) owns the lifecycle — connect, wait for the handshake, subscribe one by one,
resubscribe after every rebuild, run the stall watchdog, and rebuild on close, stall,
``GatewayLogout`` or a new token. Events cross from the socket thread to the event loop with
``loop.call_soon_threadsafe``.

The seam is :data:`HubFactory`: anything returning a :class:`HubClient` works. The default is
:func:`core.venues.topstepx.signalr.signalrcore_factory`; :mod:`.wshub` is an aiohttp one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from core.clock import Clock
from core.errors import RetryableVenueError
from core.venues.base import ConnectionEvent, ConnectionState, HubHealth
from core.venues.topstepx.config import TopstepXConfig

log = logging.getLogger(__name__)


@dataclass(slots=True)
class HubCallbacks:
    """What a hub client calls, always on the event loop."""

    on_event: Callable[[str, list[Any]], None]
    on_closed: Callable[[str], None]


class HubClient(Protocol):
    """One SignalR connection (already bound to its URL, token and callbacks)."""

    async def start(self) -> None:
        """Connect and complete the JSON protocol handshake."""
        ...

    async def invoke(self, method: str, args: list[Any]) -> Any:
        """Call a hub method and wait for its completion result."""
        ...

    async def stop(self) -> None:
        """Close the connection (never blocks the loop for long)."""
        ...

    #: ``time.monotonic()`` of the last frame received (pings included).
    last_inbound_mono: float


HubFactory = Callable[[str, HubCallbacks, tuple[str, ...], TopstepXConfig], HubClient]


def hub_url_with_token(url: str, token: str) -> str:
    """The websocket URL of a hub with ``access_token`` in the query string."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    query = (parts.query + "&" if parts.query else "") + urlencode({"access_token": token})
    return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


class HubSupervisor:
    """Keeps one hub connected and subscribed, whatever happens to the connection.

    Args:
        name: ``"user"`` or ``"market"``.
        url: Hub URL (http(s)/ws(s)); the token is added to the query string.
        token: Coroutine returning a valid token (logs in or renews as needed).
        events: Server event names to receive.
        on_event: Called on the loop for every server event.
        on_state: Called with every :class:`ConnectionEvent`.
        after_reconnect: Awaited after a *re*connect and resubscribe (REST resync).
        config: Client settings (delays, watchdog).
        factory: The hub seam.
        watch_target: Event whose absence means a stall (``"GatewayQuote"``) or ``None``.
        market_open: Whether a stall matters now (called with no argument).
    """

    def __init__(self, name: str, url: str, *, token: Callable[[], Awaitable[str]],
                 events: tuple[str, ...], on_event: Callable[[str, list[Any]], None],
                 on_state: Callable[[ConnectionEvent], None],
                 after_reconnect: Callable[[], Awaitable[None]] | None,
                 config: TopstepXConfig, factory: HubFactory,
                 watch_target: str | None = None,
                 market_open: Callable[[], bool] | None = None,
                 relogin: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.name = name
        self.url = url
        self._token = token
        self._events = events
        self._on_event = on_event
        self._on_state = on_state
        self._after_reconnect = after_reconnect
        self._config = config
        self._factory = factory
        self._watch_target = watch_target
        self._market_open = market_open or (lambda: True)
        self._relogin = relogin
        self.subscriptions: dict[tuple[str, str], tuple[str, list[Any]]] = {}
        self.state = ConnectionState.DISCONNECTED
        self.reconnects = 0
        self.last_reason = ""
        self.last_event_mono: float | None = None
        self._last_watch_mono = 0.0
        self._client: HubClient | None = None
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._rebuild_reason: str | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self.resync_s: list[float] = []

    # ---------------------------------------------------------------- public
    async def start(self) -> None:
        """Start supervising and wait for the first connection."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"hub-{self.name}")
            self._watch_task = asyncio.create_task(self._watchdog(), name=f"watch-{self.name}")
        try:
            await asyncio.wait_for(self._connected.wait(), self._config.handshake_timeout_s * 2)
        except asyncio.TimeoutError:
            raise RetryableVenueError(
                f"{self.name} hub: not connected after {self._config.handshake_timeout_s * 2:.0f} s "
                f"({self.last_reason or 'no answer'})",
                hint=f"check the hub URL {self.url} and the network") from None

    async def stop(self) -> None:
        """Stop for good."""
        self._stopping = True
        self._wake.set()
        for task in (self._watch_task, self._task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):  # noqa: BLE001
                    pass
        if self._client is not None:
            await self._client.stop()
            self._client = None
        self._set_state(ConnectionState.CLOSED, "stopped")

    def request_rebuild(self, reason: str) -> None:
        """Tear the connection down and build a new one (watchdog, logout, new token)."""
        if self._stopping:
            return
        self._rebuild_reason = reason
        self._wake.set()

    async def subscribe(self, key: tuple[str, str], method: str, args: list[Any]) -> None:
        """Remember a subscription and invoke it now if connected (it is replayed on rebuild)."""
        self.subscriptions[key] = (method, args)
        if self._connected.is_set() and self._client is not None:
            await self._invoke_checked(self._client, method, args)

    async def unsubscribe(self, key: tuple[str, str], method: str, args: list[Any]) -> None:
        """Forget a subscription and invoke the unsubscribe if connected."""
        self.subscriptions.pop(key, None)
        if self._connected.is_set() and self._client is not None:
            try:
                await self._client.invoke(method, args)
            except Exception as exc:  # noqa: BLE001 - unsubscribing a dying hub is moot
                log.debug("unsubscribe %s failed: %s", method, exc)

    def health(self) -> HubHealth:
        """A health snapshot of this hub."""
        age = None if self.last_event_mono is None else time.monotonic() - self.last_event_mono
        return HubHealth(name=self.name, state=self.state, connected=self._connected.is_set(),
                         reconnects=self.reconnects, last_event_age_s=age,
                         last_reason=self.last_reason)

    @property
    def connected(self) -> bool:
        """Whether the hub is connected and subscribed."""
        return self._connected.is_set()

    # ---------------------------------------------------------------- internals
    def _set_state(self, state: ConnectionState, reason: str = "") -> None:
        self.state = state
        if reason:
            self.last_reason = reason
        self._on_state(ConnectionEvent(hub=self.name, state=state, reason=reason))

    def _event(self, name: str, args: list[Any]) -> None:
        now = time.monotonic()
        self.last_event_mono = now
        if name == self._watch_target:
            self._last_watch_mono = now
        self._on_event(name, args)

    def _closed(self, reason: str) -> None:
        self.request_rebuild(reason)

    async def _invoke_checked(self, client: HubClient, method: str, args: list[Any]) -> None:
        result = await client.invoke(method, args)
        if result is False:  # project-x-py #126: a False completion means "not subscribed"
            raise RetryableVenueError(f"{self.name} hub: {method}{args} returned False")

    async def _connect_once(self) -> HubClient:
        token = await self._token()
        cbs = HubCallbacks(on_event=self._event, on_closed=self._closed)
        client = self._factory(hub_url_with_token(self.url, token), cbs, self._events, self._config)
        self._client = client
        await client.start()
        # One by one after the handshake: concurrent subscribes raced it (§7.5, #126).
        for method, args in list(self.subscriptions.values()):
            await self._invoke_checked(client, method, args)
        return client

    async def _run(self) -> None:
        attempt = 0
        first = True
        while not self._stopping:
            self._set_state(ConnectionState.CONNECTING)
            self._rebuild_reason = None
            self._wake.clear()
            t0 = time.perf_counter()
            try:
                client = await self._connect_once()
                self._last_watch_mono = time.monotonic()
                self._connected.set()
                self._set_state(ConnectionState.CONNECTED)
                if not first and self._after_reconnect is not None:
                    await self._after_reconnect()
                    self.resync_s.append(time.perf_counter() - t0)
                    self._set_state(ConnectionState.RESYNCED)
                first = False
                attempt = 0
                await self._wake.wait()
                reason = self._rebuild_reason or "closed"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: rebuild
                reason = f"{type(exc).__name__}: {exc}"
                if " 401" in str(exc) and self._relogin is not None:
                    # The websocket upgrade was refused: the token is no longer known (gateway
                    # restart, revoked session). Retrying with it would loop forever.
                    try:
                        await self._relogin()
                        attempt = 0  # fresh token: the server is up, try again at once
                    except Exception as err:  # noqa: BLE001 - next attempt tries again
                        reason += f"; re-login failed: {err}"
            self._connected.clear()
            if self._client is not None:
                await self._client.stop()
                self._client = None
            if self._stopping:
                break
            self.reconnects += 1
            self._set_state(ConnectionState.DISCONNECTED, reason)
            delays = self._config.reconnect_delays_s
            await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
            attempt += 1

    async def _watchdog(self) -> None:
        stall = self._config.stall_timeout_s
        dead = self._config.dead_after_s
        period = max(0.05, min(1.0, stall / 4, dead / 4))
        while not self._stopping:
            await asyncio.sleep(period)
            client = self._client
            if not self._connected.is_set() or client is None:
                continue
            now = time.monotonic()
            silent = now - getattr(client, "last_inbound_mono", now)
            if silent > dead:
                # Not even a ping: the socket is half-open (network change, sleeping laptop).
                self.request_rebuild(f"no message from the server for {silent:.1f} s")
                continue
            if self._watch_target is None:
                continue
            watched = any(m.startswith("SubscribeContractQuotes") for m, _ in self.subscriptions)
            if not watched or not self._market_open():
                self._last_watch_mono = now
                continue
            idle = now - self._last_watch_mono
            if idle > stall:
                self._set_state(ConnectionState.STALLED, f"no quote for {idle:.1f} s")
                self.request_rebuild(f"stall: no quote for {idle:.1f} s")
                self._last_watch_mono = now


def default_market_open(clock: Clock) -> Callable[[], bool]:
    """CME equity-index session check for the stall watchdog; never blocks the event loop.

    The answer is refreshed at most every 10 s in a background thread (the first lookup
    imports the exchange calendar, which takes seconds); until the first answer exists, and
    if the calendar is unavailable, the market counts as open (the watchdog stays armed).
    """
    state = {"at": -1e18, "open": True, "busy": False}

    def refresh() -> None:
        try:
            import numpy as np

            from core.calendar import in_session_mask
            state["open"] = bool(in_session_mask(np.array([clock.now_ns()], dtype="int64"))[0])
        except Exception:  # noqa: BLE001 - calendar missing/broken: watch all the time
            state["open"] = True
        finally:
            state["busy"] = False

    def is_open() -> bool:
        now = time.monotonic()
        if now - state["at"] > 10.0 and not state["busy"]:
            state["at"], state["busy"] = now, True
            threading.Thread(target=refresh, name="scalpdesk-calendar", daemon=True).start()
        return bool(state["open"])
    return is_open
