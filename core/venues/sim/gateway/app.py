"""The aiohttp application: REST routes behind the fault/auth/rate-limit middleware, the two
hubs with their optional negotiate step, and the sim-only ``/_sim`` admin endpoints."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import TYPE_CHECKING

from aiohttp import web

from core.errors import ConfigError
from core.venues.sim.gateway.hubs import _bearer, serve_hub
from core.venues.sim.gateway.rest import _MUTATIONS, _NO_AUTH, ROUTES, BadRequest
from core.venues.sim.gateway.wire import problem

if TYPE_CHECKING:
    from core.venues.sim.gateway.server import SimGateway


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")


def _too_many(gw: SimGateway, retry_s: float) -> web.Response:
    headers = {"Retry-After": str(max(1, int(retry_s + 0.999)))} if gw.config.retry_after else None
    return web.Response(status=429, text="Too Many Requests", headers=headers)


async def _api(gw: SimGateway, request: web.Request, op: str) -> web.StreamResponse:
    f = gw.faults
    if time.monotonic() < gw.storm_until:
        return _too_many(gw, gw.storm_until - time.monotonic())
    if f.rest_5xx_rate and gw.rng.random() < f.rest_5xx_rate:
        return web.Response(status=503, text="Service Unavailable (simulated)")
    if f.rest_delay_ms:
        await asyncio.sleep(f.rest_delay_ms / 1000.0)
    handler = ROUTES.get(op)
    if handler is None:
        return web.Response(status=404, text="")
    token = None
    if op not in _NO_AUTH:
        token = _bearer(request)
        if gw.tokens.check(token) != "ok":
            return web.Response(status=401, text="")
        key = f"t:{token}"
    else:
        key = f"ip:{request.remote}"
    limit, window = gw.config.bars_limit if op == "History/retrieveBars" else gw.config.rest_limit
    ok, retry = gw.limiter.allow(("bars:" if op == "History/retrieveBars" else "rest:") + key,
                                 limit, window)
    if not ok:
        return _too_many(gw, retry)
    try:
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise BadRequest({"$": ["The request body must be a JSON object."]})
    except ValueError:
        return _json(problem({"$": ["The request body is not valid JSON."]}), 400)
    except BadRequest as exc:
        return _json(problem(exc.errors), 400)
    body["_token"] = token
    try:
        result = handler(gw, body)
    except BadRequest as exc:
        return _json(problem(exc.errors), 400)
    if op in _MUTATIONS and f.timeout_after_accept > 0:
        f.timeout_after_accept -= 1
        if f.timeout_mode == "drop":
            # executed, but the client never hears back (connection closed, no response)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        await asyncio.sleep(f.timeout_delay_s)
    return _json(result)


async def _negotiate(gw: SimGateway, request: web.Request) -> web.Response:
    token = request.query.get("access_token") or _bearer(request)
    if gw.tokens.check(token) != "ok":
        return web.Response(status=401, text="")
    cid = secrets.token_urlsafe(16)
    return _json({"negotiateVersion": 1, "connectionId": cid, "connectionToken": cid,
                  "availableTransports": [{"transport": "WebSockets",
                                           "transferFormats": ["Text", "Binary"]}]})


async def _admin_faults(gw: SimGateway, request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _json({"error": "body must be JSON"}, 400)
    actions = {k: body.pop(k) for k in ("drop", "close", "logout", "storm_429_s") if k in body}
    try:
        gw.set_faults(**body)
    except ConfigError as exc:
        return _json({"error": str(exc)}, 400)
    done: dict[str, object] = {}
    if "drop" in actions:
        hub = None if actions["drop"] in (True, "all") else str(actions["drop"])
        done["dropped"] = gw.drop_hub_connections(hub)
    if "close" in actions:
        hub = None if actions["close"] in (True, "all") else str(actions["close"])
        done["closed"] = gw.drop_hub_connections(hub, graceful=True)
    if "logout" in actions:
        hub = None if actions["logout"] in (True, "all") else str(actions["logout"])
        done["logout"] = gw.send_logout(hub)
    if "storm_429_s" in actions:
        gw.storm_429(float(actions["storm_429_s"]))
        done["storm_429_s"] = float(actions["storm_429_s"])
    return _json({"ok": True, "done": done, "state": gw.state()["faults"]})


async def _admin_feed(gw: SimGateway, request: web.Request) -> web.Response:
    body = await request.json() if request.can_read_body else {}
    action = body.get("action", "resume")
    if action == "pause":
        gw.pause_feed()
    elif action == "resume":
        gw.start_feed(body.get("speed"))
    elif action == "step" and gw.replay is not None:
        gw.replay.step(int(body.get("n", 1)))
    elif action == "roll":
        if body.get("contractId") not in gw.engine.contracts:
            return _json({"error": f"unknown contractId {body.get('contractId')!r}"}, 400)
        gw.roll(body["contractId"])
    else:
        return _json({"error": f"unknown action {action!r} (pause|resume|step|roll)"}, 400)
    return _json({"ok": True, "replay": gw.state()["replay"]})


async def _admin_blast(gw: SimGateway, request: web.Request) -> web.Response:
    body = await request.json() if request.can_read_body else {}
    n = await gw.blast_quotes(body.get("contractId"), int(body.get("count", 10_000)))
    return _json({"ok": True, "queued": n})


def build_app(gw: SimGateway) -> web.Application:
    """Wire every route of the simulated gateway."""
    app = web.Application(client_max_size=1 << 20)

    async def api(request: web.Request) -> web.StreamResponse:
        return await _api(gw, request, request.match_info["op"])

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong")

    async def hub(request: web.Request) -> web.StreamResponse:
        name = request.match_info["hub"]
        if name not in ("user", "market"):
            return web.Response(status=404)
        return await serve_hub(gw, name, request)

    async def negotiate(request: web.Request) -> web.Response:
        if request.match_info["hub"] not in ("user", "market"):
            return web.Response(status=404)
        return await _negotiate(gw, request)

    async def state(request: web.Request) -> web.Response:
        return _json(gw.state())

    app.router.add_get("/api/Status/ping", ping)
    app.router.add_post("/api/{op:.+}", api)
    app.router.add_post("/hubs/{hub}/negotiate", negotiate)
    app.router.add_get("/hubs/{hub}", hub)
    app.router.add_get("/_sim/state", state)
    async def faults(request: web.Request) -> web.Response:
        return await _admin_faults(gw, request)

    async def feed(request: web.Request) -> web.Response:
        return await _admin_feed(gw, request)

    async def blast(request: web.Request) -> web.Response:
        return await _admin_blast(gw, request)

    app.router.add_post("/_sim/faults", faults)
    app.router.add_post("/_sim/feed", feed)
    app.router.add_post("/_sim/blast", blast)
    return app
