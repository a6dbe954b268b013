"""The default hub transport: signalrcore 1.0.x, used as a plain socket (no auto-reconnect).

signalrcore runs a reader thread per connection; everything it reports is handed to the event
loop (batched, see :meth:`SignalrcoreHub._post`). Its own reconnect logic is not used — it can
hang after an outage — :class:`~core.venues.topstepx.realtime.HubSupervisor` rebuilds instead.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from core.errors import RetryableVenueError
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.realtime import HubCallbacks, HubClient

log = logging.getLogger(__name__)


def _in_daemon_thread(fn: Callable[[], Any]) -> asyncio.Future[Any]:
    """Run a blocking call in a daemon thread (an executor thread that hangs would block exit)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(cb: Callable[[], Any]) -> None:
        try:
            loop.call_soon_threadsafe(cb)
        except RuntimeError:  # the loop is gone (shutdown): nobody is waiting any more
            pass

    def run() -> None:
        try:
            res = fn()
        except BaseException as exc:  # noqa: BLE001 - forwarded to the awaiting task
            settle(lambda err=exc: fut.done() or fut.set_exception(err))
        else:
            settle(lambda: fut.done() or fut.set_result(res))

    threading.Thread(target=run, name="scalpdesk-hub-io", daemon=True).start()
    return fut


class SignalrcoreHub:
    """A :class:`HubClient` on signalrcore 1.0.x (JSON protocol, websockets, no negotiate)."""

    def __init__(self, url: str, callbacks: HubCallbacks, events: tuple[str, ...],
                 config: TopstepXConfig) -> None:
        self._url = url
        self._cb = callbacks
        self._events = events
        self._config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None
        self._opened: asyncio.Future[None] | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._stopping = False
        self._inbox: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self._inbox_lock = threading.Lock()
        self._drain_scheduled = False
        self.last_inbound_mono = time.monotonic()

    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        # Socket thread → loop. Calls are queued in order and the loop is woken only when the
        # queue was empty: one wake-up (one self-pipe write) per burst, not per event, which
        # is what keeps thousands of quotes per second cheap.
        self._inbox.append((fn, args))
        with self._inbox_lock:
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed between the check and the call
                pass

    def _drain(self) -> None:
        with self._inbox_lock:
            self._drain_scheduled = False
        inbox = self._inbox
        while inbox:
            fn, args = inbox.popleft()
            fn(*args)

    async def start(self) -> None:
        from signalrcore.hub_connection_builder import HubConnectionBuilder
        from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

        self._loop = asyncio.get_running_loop()
        self._opened = self._loop.create_future()
        builder = HubConnectionBuilder().with_url(self._url, options={"skip_negotiation": True})
        builder.keep_alive_interval = self._config.keep_alive_s
        conn = builder.with_hub_protocol(JsonHubProtocol(version=1)).build()
        on_event = self._cb.on_event
        for name in self._events:
            # Runs on the socket thread: hand over at once, do nothing else here.
            conn.on(name, lambda args, _n=name: self._post(on_event, _n, args))
        # Every inbound frame (pings included) proves the connection alive; signalrcore never
        # notices a half-open socket, so the supervisor watches this timestamp.
        inner = conn.on_message

        def on_message(messages: Any) -> None:
            self.last_inbound_mono = time.monotonic()
            inner(messages)

        conn.on_message = on_message  # instance attribute: bound by the transport at start
        conn.on_open(lambda: self._post(self._set_opened))
        conn.on_close(lambda: self._post(self._closed, "connection closed"))
        conn.on_error(lambda msg: self._post(self._error, msg))
        self._conn = conn
        await asyncio.wait_for(_in_daemon_thread(conn.start), self._config.handshake_timeout_s)
        await asyncio.wait_for(asyncio.shield(self._opened), self._config.handshake_timeout_s)

    def _set_opened(self) -> None:
        if self._opened is not None and not self._opened.done():
            self._opened.set_result(None)

    def _closed(self, reason: str) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RetryableVenueError(f"hub closed during invoke ({reason})"))
        self._pending.clear()
        if self._opened is not None and not self._opened.done():
            self._opened.set_exception(RetryableVenueError(f"hub closed before handshake ({reason})"))
            self._opened.exception()  # mark retrieved: nobody may be waiting any more
        if not self._stopping:
            self._cb.on_closed(reason)

    def _error(self, msg: Any) -> None:
        inv = getattr(msg, "invocation_id", None)
        fut = self._pending.pop(inv, None) if inv else None
        err = getattr(msg, "error", msg)
        if fut is not None and not fut.done():
            fut.set_exception(RetryableVenueError(f"hub invocation failed: {err}"))
        elif fut is None and not isinstance(msg, Exception) and inv is None:
            log.warning("hub error: %s", err)

    def _completed(self, inv: str, msg: Any) -> None:
        fut = self._pending.pop(inv, None)
        if fut is not None and not fut.done():
            fut.set_result(getattr(msg, "result", None))

    async def invoke(self, method: str, args: list[Any]) -> Any:
        import uuid

        assert self._loop is not None and self._conn is not None
        inv = uuid.uuid4().hex
        fut = self._loop.create_future()
        self._pending[inv] = fut
        try:
            self._conn.invoke(method, args, on_invocation=lambda m: self._post(self._completed, inv, m),
                              invocation_id=inv)
        except Exception as exc:  # noqa: BLE001 - signalrcore raises plain errors when closed
            self._pending.pop(inv, None)
            raise RetryableVenueError(f"hub invoke {method} failed: {exc}") from None
        return await asyncio.wait_for(fut, self._config.invoke_timeout_s)

    async def stop(self) -> None:
        self._stopping = True
        conn = self._conn
        if conn is None:
            return

        def blocking_stop() -> None:
            transport = getattr(conn, "transport", None)
            checker = getattr(transport, "connection_checker", None)
            if checker is not None:
                checker.running = False
            client = getattr(transport, "_client", None)
            sock = getattr(client, "sock", None)
            if sock is not None:
                # Unblocks the reader thread's recv(); closing alone does not on Linux,
                # which is how signalrcore's stop can hang after an outage.
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            try:
                conn.stop()
            except Exception:  # noqa: BLE001 - already broken: nothing more to close
                pass

        try:
            await asyncio.wait_for(_in_daemon_thread(blocking_stop), 5.0)
        except asyncio.TimeoutError:
            log.warning("signalrcore stop did not finish in 5 s; connection abandoned")
        self._closed("stopped")


def signalrcore_factory(url: str, callbacks: HubCallbacks, events: tuple[str, ...],
                        config: TopstepXConfig) -> HubClient:
    """The default :data:`HubFactory`."""
    return SignalrcoreHub(url, callbacks, events, config)
