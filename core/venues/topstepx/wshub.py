"""An alternative hub transport: SignalR JSON protocol v1 on aiohttp's websocket client.

Same :class:`~core.venues.topstepx.realtime.HubClient` seam as the signalrcore transport, but it
runs inside the event loop (no socket thread, no hand-over, no GIL contention with the loop).
signalrcore stays the default; this one exists because the wire protocol is small (handshake,
0x1E-separated JSON records, types 1/3/6/7) and the benchmark compares the two.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from typing import Any

import aiohttp

from core.errors import RetryableVenueError
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.realtime import HubCallbacks, HubClient

log = logging.getLogger(__name__)
RS = "\x1e"


class AiohttpHub:
    """A :class:`HubClient` speaking SignalR JSON over ``aiohttp`` websockets (no negotiate)."""

    def __init__(self, url: str, callbacks: HubCallbacks, events: tuple[str, ...],
                 config: TopstepXConfig) -> None:
        self._url = url
        self._cb = callbacks
        self._events = frozenset(events)
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closed_reported = False
        self.last_inbound_mono = time.monotonic()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self._url, timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                autoping=True, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            raise RetryableVenueError(f"hub upgrade refused: HTTP {exc.status} {exc.message}") from None
        await self._ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
        msg = await asyncio.wait_for(self._ws.receive(), self._config.handshake_timeout_s)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise RetryableVenueError(f"hub handshake: unexpected {msg.type.name}")
        first, _, rest = msg.data.partition(RS)
        answer = json.loads(first or "{}")
        if answer.get("error"):
            raise RetryableVenueError(f"hub handshake refused: {answer['error']}")
        if rest:
            self._records(rest)
        self._tasks = [asyncio.create_task(self._reader(), name="hub-reader"),
                       asyncio.create_task(self._pinger(), name="hub-pinger")]

    def _records(self, data: str) -> None:
        for rec in data.split(RS):
            if not rec:
                continue
            m = json.loads(rec)
            kind = m.get("type")
            if kind == 1:
                target = m.get("target")
                if target in self._events:
                    self._cb.on_event(target, m.get("arguments") or [])
            elif kind == 3:
                fut = self._pending.pop(str(m.get("invocationId")), None)
                if fut is not None and not fut.done():
                    if m.get("error"):
                        fut.set_exception(RetryableVenueError(f"hub invocation failed: {m['error']}"))
                    else:
                        fut.set_result(m.get("result"))
            elif kind == 7:
                raise ConnectionResetError(f"server closed the hub: {m.get('error') or 'no reason'}")

    async def _reader(self) -> None:
        reason = "connection closed"
        assert self._ws is not None
        try:
            async for msg in self._ws:
                self.last_inbound_mono = time.monotonic()
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self._records(msg.data)
                elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
        except ConnectionResetError as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - any reader failure ends the connection
            reason = f"{type(exc).__name__}: {exc}"
        self._report_closed(reason)

    async def _pinger(self) -> None:
        ping = json.dumps({"type": 6}) + RS
        while self._ws is not None and not self._ws.closed:
            await asyncio.sleep(self._config.keep_alive_s)
            try:
                await self._ws.send_str(ping)
            except Exception:  # noqa: BLE001 - the reader reports the close
                return

    def _report_closed(self, reason: str) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RetryableVenueError(f"hub closed during invoke ({reason})"))
        self._pending.clear()
        if not self._stopping and not self._closed_reported:
            self._closed_reported = True
            self._cb.on_closed(reason)

    async def invoke(self, method: str, args: list[Any]) -> Any:
        if self._ws is None or self._ws.closed:
            raise RetryableVenueError(f"hub invoke {method}: not connected")
        inv = str(next(self._ids))
        fut = asyncio.get_running_loop().create_future()
        self._pending[inv] = fut
        await self._ws.send_str(json.dumps({"type": 1, "invocationId": inv, "target": method,
                                            "arguments": args}) + RS)
        return await asyncio.wait_for(fut, self._config.invoke_timeout_s)

    async def stop(self) -> None:
        self._stopping = True
        for t in self._tasks:
            t.cancel()
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 2.0)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing a dead socket
                pass
        if self._session is not None:
            await self._session.close()
        self._report_closed("stopped")


def aiohttp_factory(url: str, callbacks: HubCallbacks, events: tuple[str, ...],
                    config: TopstepXConfig) -> HubClient:
    """A :data:`~core.venues.topstepx.realtime.HubFactory` building :class:`AiohttpHub`."""
    return AiohttpHub(url, callbacks, events, config)
