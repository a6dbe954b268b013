"""A local ProjectX-compatible gateway (REST + SignalR JSON hubs) backed by the sim engine.

Protocol note — the shapes this server emits (topstepx-gateway.md §2–§7):

* REST: ``POST /api/<Group>/<op>`` with JSON bodies; every answer is the envelope
  ``{success, errorCode, errorMessage, ...payload}`` with HTTP 200 even for business errors;
  HTTP 401 (empty body) without a valid bearer token; HTTP 400 ASP.NET ProblemDetails for
  malformed bodies / missing required fields and bad ``Order/v2/query`` input; HTTP 429
  (short text body, ``Retry-After`` only if configured) past 200 requests / 60 s per token
  (50 / 30 s for History/retrieveBars; logins counted per client address); ``GET
  /api/Status/ping`` answers ``pong``. Timestamps: ISO-8601 UTC ``+00:00`` with 7 fractional
  digits. Order/trade ids are int64 above 2^31.
* Hubs ``/hubs/user`` and ``/hubs/market``: SignalR JSON protocol v1, negotiate optional
  (``POST /hubs/<hub>/negotiate?negotiateVersion=1``), token in ``?access_token=`` (or a
  bearer header), handshake ``{"protocol":"json","version":1}`` + 0x1E answered ``{}`` + 0x1E,
  records separated by 0x1E (several per frame), type 1 invocations, type 3 completions
  (``result`` = ``GatewayConfig.subscribe_result``, null by default), type 6 pings every
  ``keepalive_s``, type 7 close (token expiry, client timeout).
* User-hub events ``GatewayUserAccount/Order/Position/Trade`` carry ONE argument: by default
  the **documented** bare model (§7.4); with ``Faults.user_shape = "wrapped"`` the **observed**
  shape, a list ``[{"action": a, "data": model}]`` (action 0 created and every trade, 1 updated,
  2 position closed with ``type 0, size 0``; §7.5).
* Market-hub events carry TWO arguments ``(contractId, data)``: ``GatewayQuote`` data is one
  object, sparse after the first (only changed fields plus ``symbol``); ``GatewayTrade`` data is
  one object by default (documented) or a list of prints with ``market_shape = "wrapped"``
  (observed); ``GatewayDepth`` data is always a list: ``Reset`` + snapshot on subscribe, then
  increments.
* Time: every timestamp (orders, trades, bars, quotes) is the replay's **market clock**, not
  wall time — unless the gateway was built with ``history_until_ns`` = now on week-shifted
  bars (``scalpdesk sim run --wall-clock``). Tokens expire on the wall clock.
* Business rules behind the codes: fill model in :mod:`core.venues.sim.triggers`, brackets in
  :mod:`core.venues.sim.matching`, Topstep rules (MLL, 15:10 CT flatten → code 5 until 17:00
  CT, contract cap → code 2) in :mod:`core.venues.sim.topstep`.
* ``GatewayLogout`` (no arguments) is sent on either hub by :meth:`SimGateway.send_logout`.
* Admin (sim only, no auth): ``GET /_sim/state``, ``POST /_sim/faults`` (fault fields plus the
  actions ``drop`` ("all"|"user"|"market"), ``close`` (graceful type-7 close), ``logout``,
  ``storm_429_s``), ``POST /_sim/feed`` (``{"action": "pause"|"resume"|"step"|"roll", "speed", "n", "contractId"}``),
  ``POST /_sim/blast`` (``{"contractId", "count"}``: push synthetic quotes as fast as possible).
"""

from core.venues.sim.gateway.config import AccountConfig, Faults, GatewayConfig
from core.venues.sim.gateway.server import SimGateway, SimUrls

__all__ = ["AccountConfig", "Faults", "GatewayConfig", "SimGateway", "SimUrls"]
