"""SignalR JSON hub protocol v1 over aiohttp websockets (§7.1), with wire faults.

Framing: every record is a JSON object followed by the record separator ``0x1E``; one
websocket text frame may carry several records (the writer batches whatever is queued into
one frame, which is what lets one connection carry many thousand quotes per second).
Handshake: the client's first record ``{"protocol":"json","version":1}`` is answered ``{}``
(or ``{"error": ...}`` and a close). Types used: 1 Invocation (client calls and server
events), 3 Completion (answer to an invoke with an ``invocationId``), 6 Ping (both ways, every
``keepalive_s``), 7 Close (``{"type":7,"error":...,"allowReconnect":...}``).
Subscriptions belong to one connection and are gone after a reconnect (§7.2); nothing is
replayed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from core.venues.sim.gateway.server import SimGateway

RS = "\x1e"
_PING = json.dumps({"type": 6}) + RS
_MAX_FRAME = 1 << 20


class HubConnection:
    """One connected hub client: its subscriptions and its outbound queue."""

    def __init__(self, gw: SimGateway, hub: str, ws: web.WebSocketResponse, token: str) -> None:
        self.gw = gw
        self.hub = hub
        self.ws = ws
        self.token = token
        self.accounts_sub = False
        self.orders: set[int] = set()
        self.positions: set[int] = set()
        self.trades: set[int] = set()
        self.quotes: set[str] = set()
        self.market_trades: set[str] = set()
        self.depth: set[str] = set()
        #: Last quote sent per contract (sparse updates send only what changed).
        self.last_quote: dict[str, dict] = {}
        self._out: deque[str] = deque()
        self._wake = asyncio.Event()
        self._held: str | None = None
        self.closed = False
        self.after_reply: list = []
        self.last_inbound = time.monotonic()
        self.opened = time.monotonic()
        self.sent_events = 0

    # ------------------------------------------------------------------ outbound
    def _stalled(self) -> bool:
        f = self.gw.faults
        return f.stall_market if self.hub == "market" else f.stall_user

    def send_event(self, target: str, args: list[Any]) -> None:
        """Queue a server event (type 1), through the loss/dup/reorder/stall faults."""
        if self.closed or self._stalled():
            return
        rec = json.dumps({"type": 1, "target": target, "arguments": args},
                         separators=(",", ":")) + RS
        f = self.gw.faults
        rng = self.gw.rng
        if f.loss_prob and rng.random() < f.loss_prob:
            return
        if self._held is None and f.reorder_prob and rng.random() < f.reorder_prob:
            self._held = rec  # goes out right after the next event
            return
        self._push(rec)
        if f.dup_prob and rng.random() < f.dup_prob:
            self._push(rec)
        if self._held is not None:
            self._push(self._held)
            self._held = None

    def send_raw(self, rec: str) -> None:
        """Queue a record (pings, completions) without event faults."""
        if not self.closed:
            self._push(rec)

    def _push(self, rec: str) -> None:
        self._out.append(rec)
        self.sent_events += 1
        self._wake.set()

    async def writer(self) -> None:
        """Send queued records, batching everything available into one frame."""
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while self._out and not self.closed:
                parts: list[str] = []
                size = 0
                while self._out and size < _MAX_FRAME:
                    r = self._out.popleft()
                    parts.append(r)
                    size += len(r)
                try:
                    await self.ws.send_str("".join(parts))
                except (ConnectionError, RuntimeError):
                    self.closed = True
                    return

    async def keepalive(self) -> None:
        """Ping every ``keepalive_s``; close on client timeout or token expiry."""
        cfg = self.gw.config
        while not self.closed:
            await asyncio.sleep(cfg.keepalive_s)
            if self.closed:
                return
            if self._held is not None:  # never keep a reordered event forever
                self._push(self._held)
                self._held = None
            if self.gw.tokens.check(self.token) != "ok":
                await self.close("Unauthorized: the access token expired.", allow_reconnect=False)
                return
            if cfg.client_timeout_s and time.monotonic() - self.last_inbound > cfg.client_timeout_s:
                await self.close("Server timeout elapsed without receiving a message from the client.")
                return
            if not self._stalled() or self.gw.faults.pings_during_stall:
                self.send_raw(_PING)

    async def close(self, error: str | None = None, allow_reconnect: bool = True) -> None:
        """Send a Close record (type 7) and close the websocket."""
        if self.closed:
            return
        msg: dict[str, Any] = {"type": 7}
        if error:
            msg["error"] = error
            msg["allowReconnect"] = allow_reconnect
        try:
            await self.ws.send_str(json.dumps(msg) + RS)
        except (ConnectionError, RuntimeError):
            pass
        self.closed = True
        self._wake.set()
        await self.ws.close()

    def abort(self) -> None:
        """Drop the connection without a close handshake (a network loss)."""
        self.closed = True
        self._wake.set()
        tr = self.ws._req.transport if self.ws._req is not None else None  # noqa: SLF001
        if tr is not None:
            tr.abort()

    # ------------------------------------------------------------------ inbound
    async def handle_invocation(self, msg: dict) -> None:
        """Dispatch a client invocation (type 1) and answer with a completion when asked."""
        target = msg.get("target")
        args = msg.get("arguments") or []
        inv = msg.get("invocationId")
        self.after_reply = []
        try:
            result = self.gw.invoke(self, str(target), args)
            reply: dict[str, Any] = {"type": 3, "invocationId": inv, "result": result}
        except KeyError:
            reply = {"type": 3, "invocationId": inv,
                     "error": f"Unknown hub method '{target}'"}
        except (TypeError, ValueError, IndexError) as exc:
            reply = {"type": 3, "invocationId": inv,
                     "error": f"Failed to invoke '{target}': {exc}"}
        if inv is not None:
            self.send_raw(json.dumps(reply) + RS)
        for fn in self.after_reply:  # initial quote / depth snapshot follow the completion
            fn()
        self.after_reply = []


async def serve_hub(gw: SimGateway, hub: str, request: web.Request) -> web.StreamResponse:
    """The websocket endpoint of one hub: auth, handshake, then the message loop."""
    token = request.query.get("access_token") or _bearer(request)
    state = gw.tokens.check(token)
    if state != "ok":
        return web.Response(status=401, text="")
    ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
    await ws.prepare(request)
    conn = HubConnection(gw, hub, ws, token or "")
    buf = ""
    # handshake: first record must be {"protocol":"json","version":1}
    try:
        while RS not in buf:
            m = await ws.receive(timeout=15)
            if m.type == WSMsgType.TEXT:
                buf += m.data
            elif m.type == WSMsgType.BINARY:
                buf += m.data.decode("utf-8", "replace")
            else:
                return ws
    except asyncio.TimeoutError:
        await ws.close()
        return ws
    first, _, rest = buf.partition(RS)
    try:
        hs = json.loads(first)
    except ValueError:
        hs = {}
    if hs.get("protocol") != "json" or int(hs.get("version", 0) or 0) != 1:
        await ws.send_str(json.dumps({"error": f"Requested protocol '{hs.get('protocol')}' "
                                               "is not available (use json version 1)."}) + RS)
        await ws.close()
        return ws
    await ws.send_str("{}" + RS)
    gw.connections.add(conn)
    tasks = [asyncio.create_task(conn.writer()), asyncio.create_task(conn.keepalive())]
    try:
        pending = rest
        while True:
            for part in pending.split(RS):
                if not part.strip():
                    continue
                try:
                    msg = json.loads(part)
                except ValueError:
                    await conn.close("Invalid JSON record.", allow_reconnect=False)
                    return ws
                conn.last_inbound = time.monotonic()
                t = msg.get("type")
                if t == 1:
                    await conn.handle_invocation(msg)
                elif t == 7:
                    conn.closed = True
                    await ws.close()
                    return ws
            if conn.closed:
                return ws
            m = await ws.receive()
            if m.type == WSMsgType.TEXT:
                pending = m.data
            elif m.type == WSMsgType.BINARY:
                pending = m.data.decode("utf-8", "replace")
            else:
                return ws
    finally:
        conn.closed = True
        conn._wake.set()  # noqa: SLF001
        gw.connections.discard(conn)
        for t in tasks:
            t.cancel()


def _bearer(request: web.Request) -> str | None:
    h = request.headers.get("Authorization", "")
    return h[7:].strip() if h.lower().startswith("bearer ") else None
