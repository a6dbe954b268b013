"""The simulated gateway over loopback: plain aiohttp REST calls and raw SignalR websockets."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.clock import SimClock
from core.venues.sim.gateway import AccountConfig, GatewayConfig, SimGateway
from core.venues.sim.models import BracketMode
from core.venues.sim.synthetic import random_walk_bars

RS = "\x1e"
AID = 12_345


class RawHub:
    """Minimal SignalR JSON client on a raw websocket (what the tests check the wire with)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.records: list[dict] = []
        self.frames = 0
        self.closed = asyncio.Event()
        self._n = 0
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, s: aiohttp.ClientSession, url: str, token: str, *,
                      negotiate: bool = False) -> RawHub:
        q = f"?access_token={token}"
        if negotiate:
            r = await s.post(f"{url}/negotiate?negotiateVersion=1", headers={"Authorization": f"Bearer {token}"})
            assert r.status == 200
            q += "&id=" + (await r.json())["connectionToken"]
        ws = await s.ws_connect(url.replace("http", "ws", 1) + q)
        await ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
        assert await ws.receive_str() == "{}" + RS
        return cls(ws)

    async def _read(self) -> None:
        async for m in self.ws:
            if m.type != aiohttp.WSMsgType.TEXT:
                break
            self.frames += 1
            for part in m.data.split(RS):
                if part:
                    self.records.append(json.loads(part))
        self.closed.set()

    async def invoke(self, target: str, *args: object) -> dict:
        self._n += 1
        inv = str(self._n)
        await self.ws.send_str(json.dumps({"type": 1, "invocationId": inv, "target": target,
                                           "arguments": list(args)}) + RS)
        for _ in range(200):
            for r in self.records:
                if r.get("type") == 3 and r.get("invocationId") == inv:
                    return r
            await asyncio.sleep(0.01)
        raise AssertionError(f"no completion for {target}")

    def events(self, target: str | None = None) -> list[dict]:
        return [r for r in self.records if r.get("type") == 1
                and (target is None or r["target"] == target)]

    async def wait_for(self, pred, timeout: float = 3.0) -> None:  # noqa: ANN001
        for _ in range(int(timeout / 0.01)):
            if pred():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("condition not met on the wire")

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()


@pytest.fixture(scope="module")
def bars():  # noqa: ANN201
    return random_walk_bars(3000, seed=3)


@pytest.fixture
async def gw(bars) -> AsyncIterator[SimGateway]:  # noqa: ANN001
    g = SimGateway(bars, config=GatewayConfig(keepalive_s=0.1, client_timeout_s=None), speed=0)
    await g.start()
    g.replay.step(8)
    yield g
    await g.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


async def login(s: aiohttp.ClientSession, g: SimGateway) -> str:
    r = await s.post(f"{g.urls.rest}/api/Auth/loginKey", json={"userName": "sim", "apiKey": "sim-key"})
    body = await r.json()
    assert r.status == 200 and body["success"] and body["errorCode"] == 0
    return body["token"]


async def call(s: aiohttp.ClientSession, g: SimGateway, op: str, token: str | None, body: dict
               ) -> tuple[int, dict | str]:
    h = {"Authorization": f"Bearer {token}"} if token else {}
    r = await s.post(f"{g.urls.rest}/api/{op}", json=body, headers=h)
    txt = await r.text()
    try:
        return r.status, json.loads(txt)
    except ValueError:
        return r.status, txt


def place_body(g: SimGateway, **kw: object) -> dict:
    return {"accountId": AID, "contractId": g.contract.id, "type": 2, "side": 0, "size": 1, **kw}


# ------------------------------------------------------------------ REST
async def test_login_errors_and_token_shape(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    st, b = await call(session, gw, "Auth/loginKey", None, {"userName": "sim", "apiKey": "nope"})
    assert st == 200 and b == {"success": False, "errorCode": 3, "errorMessage": "Invalid credentials.",
                               "token": None}
    st, b = await call(session, gw, "Auth/loginKey", None, {"userName": "who", "apiKey": "sim-key"})
    assert b["errorCode"] == 1
    st, b = await call(session, gw, "Auth/loginKey", None, {"userName": "sim"})
    assert st == 400 and b["status"] == 400 and "apiKey" in b["errors"]
    tok = await login(session, gw)
    payload = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
    assert payload["exp"] > payload["iat"]


async def test_auth_required_validate_logout_and_expiry(bars, session: aiohttp.ClientSession) -> None:  # noqa: ANN001
    wall = SimClock(1_000 * 10**9)
    g = SimGateway(bars, config=GatewayConfig(token_lifetime_s=60), wall_clock=wall)
    await g.start()
    try:
        assert (await call(session, g, "Account/search", None, {}))[0] == 401
        assert (await call(session, g, "Account/search", "garbage", {}))[0] == 401
        tok = await login(session, g)
        st, b = await call(session, g, "Auth/validate", tok, {})
        assert b["success"] and b["newToken"] and b["newToken"] != tok
        assert (await call(session, g, "Account/search", tok, {}))[0] == 200  # old one still valid
        wall.advance_ns(61 * 10**9)
        assert (await call(session, g, "Account/search", tok, {}))[0] == 401
        tok2 = await login(session, g)
        assert (await call(session, g, "Auth/logout", tok2, {}))[1]["success"]
        assert (await call(session, g, "Account/search", tok2, {}))[0] == 401
    finally:
        await g.stop()


async def test_reference_endpoints_envelopes(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    st, b = await call(session, gw, "Account/search", tok, {"onlyActiveAccounts": True})
    assert set(b["accounts"][0]) == {"id", "name", "balance", "canTrade", "isVisible", "simulated"}
    st, b = await call(session, gw, "Contract/search", tok, {"searchText": "MES", "live": False})
    assert [c["activeContract"] for c in b["contracts"]] == [True, False]
    assert b["contracts"][0]["tickValue"] == 1.25 and b["contracts"][0]["symbolId"] == "F.US.MES"
    st, b = await call(session, gw, "Contract/searchById", tok, {"contractId": gw.contract.id})
    assert b["contract"]["id"] == gw.contract.id
    st, b = await call(session, gw, "Contract/searchById", tok, {"contractId": "CON.F.US.X.Z99"})
    assert b["success"] is False and b["errorCode"] == 1
    st, b = await call(session, gw, "Contract/available", tok, {"live": False})
    assert len(b["contracts"]) == 2
    r = await session.get(f"{gw.urls.rest}/api/Status/ping")
    assert r.status == 200


async def test_retrieve_bars_newest_first_limit_and_codes(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    gw.replay.step(4 * 600)  # ten minutes of 1-s bars
    body = {"contractId": gw.contract.id, "live": False, "startTime": "2020-01-01T00:00:00Z",
            "endTime": "2030-01-01T00:00:00Z", "unit": 2, "unitNumber": 1, "limit": 3,
            "includePartialBar": False}
    st, b = await call(session, gw, "History/retrieveBars", tok, body)
    ts = [x["t"] for x in b["bars"]]
    assert len(ts) == 3 and ts == sorted(ts, reverse=True)
    assert len(ts[0].split(".")[1].split("+")[0]) == 7  # 7 fractional digits
    now = gw.clock.now()
    assert ts[0] < now.isoformat()  # never a bar from the future
    for k, v in (("limit", 20_001), ("unit", 9), ("unitNumber", 0)):
        st, b = await call(session, gw, "History/retrieveBars", tok, {**body, k: v})
        assert b["errorCode"] == {"limit": 4, "unit": 2, "unitNumber": 3}[k] and b["success"] is False
    st, b = await call(session, gw, "History/retrieveBars", tok, {**body, "startTime": "2001-01-01T00:00:00Z",
                                                                   "endTime": "2001-01-02T00:00:00Z"})
    assert b["bars"] == []
    st, b = await call(session, gw, "History/retrieveBars", tok, {**body, "unit": 7, "unitNumber": 4})
    assert b["success"] and b["bars"]


async def test_rate_limits_return_429(bars, session: aiohttp.ClientSession) -> None:  # noqa: ANN001
    g = SimGateway(bars, config=GatewayConfig(rest_limit=(4, 60), bars_limit=(2, 30), retry_after=True))
    await g.start()
    try:
        tok = await login(session, g)  # counted per address, not per token
        codes = [(await call(session, g, "Account/search", tok, {}))[0] for _ in range(5)]
        assert codes == [200, 200, 200, 200, 429]
        r = await session.post(f"{g.urls.rest}/api/Account/search", json={},
                               headers={"Authorization": f"Bearer {tok}"})
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
        body = {"contractId": g.contract.id, "live": False, "startTime": "2020-01-01T00:00:00Z",
                "endTime": "2030-01-01T00:00:00Z", "unit": 2, "unitNumber": 1, "limit": 10}
        codes = [(await call(session, g, "History/retrieveBars", tok, body))[0] for _ in range(3)]
        assert codes == [200, 200, 429]
    finally:
        await g.stop()


async def test_orders_positions_trades_over_rest(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    st, b = await call(session, gw, "Order/place", tok, place_body(
        gw, customTag="t-1", stopLossBracket={"ticks": -8, "type": 4},
        takeProfitBracket={"ticks": 8, "type": 1}, type=1, limitPrice=4000.0))
    assert b["success"] and b["orderId"] > 2**31
    entry = b["orderId"]
    st, b = await call(session, gw, "Order/searchOpen", tok, {"accountId": AID})
    assert [o["id"] for o in b["orders"]] == [entry]  # Suspended legs are hidden
    st, b = await call(session, gw, "Order/v2/query", tok, {"filter": {"accountId": AID, "statuses": [1, 8]},
                                                            "includeTotalCount": True})
    assert b["totalCount"] == 3 and {o["customTag"] for o in b["orders"]} == {"t-1", "t-1-SL", "t-1-TP"}
    st, b = await call(session, gw, "Order/v2/query", tok, {"filter": {}})
    assert st == 400 and "accountId" in b["errors"]
    st, b = await call(session, gw, "Order/place", tok, place_body(gw, customTag="t-1"))
    assert b["success"] is False and b["errorCode"] == 2
    st, b = await call(session, gw, "Order/place", tok, place_body(gw, type=1, limitPrice=4000.1))
    assert b["errorCode"] == 2 and "aligned" in b["errorMessage"]
    st, b = await call(session, gw, "Order/place", tok, {"accountId": AID})
    assert st == 400
    st, b = await call(session, gw, "Order/cancel", tok, {"accountId": AID, "orderId": entry})
    assert b == {"success": True, "errorCode": 0, "errorMessage": None}
    st, b = await call(session, gw, "Order/searchById", tok, {"accountId": AID, "orderId": entry})
    assert b["order"]["status"] == 3
    st, b = await call(session, gw, "Order/place", tok, place_body(gw, size=2))
    st, b = await call(session, gw, "Position/searchOpen", tok, {"accountId": AID})
    (p,) = b["positions"]
    assert p["type"] == 1 and p["size"] == 2 and p["contractDisplayName"] == gw.contract.name
    st, b = await call(session, gw, "Position/partialCloseContract", tok,
                       {"accountId": AID, "contractId": gw.contract.id, "size": 5})
    assert b["errorCode"] == 5
    st, b = await call(session, gw, "Position/partialCloseContract", tok,
                       {"accountId": AID, "contractId": gw.contract.id, "size": 1})
    assert b["success"]
    st, b = await call(session, gw, "Position/closeContract", tok, {"accountId": AID, "contractId": gw.contract.id})
    assert b["success"]
    st, b = await call(session, gw, "Trade/search", tok, {"accountId": AID, "startTimestamp": "2020-01-01T00:00:00Z"})
    pnl = [t["profitAndLoss"] for t in b["trades"]]
    assert pnl[0] is None and all(x is not None for x in pnl[1:]) and len(pnl) == 3
    assert all(t["fees"] == pytest.approx(0.37 * t["size"]) for t in b["trades"])


async def test_bracket_mode_position_rejects_over_the_wire(bars, session: aiohttp.ClientSession) -> None:  # noqa: ANN001
    cfg = GatewayConfig(accounts=[AccountConfig(bracket_mode=BracketMode.POSITION)])
    g = SimGateway(bars, config=cfg)
    await g.start()
    g.replay.step(4)
    try:
        tok = await login(session, g)
        st, b = await call(session, g, "Order/place", tok, place_body(g, stopLossBracket={"ticks": 8, "type": 4}))
        assert b["errorCode"] == 2 and "Auto OCO" in b["errorMessage"] and b["success"] is False
    finally:
        await g.stop()


# ------------------------------------------------------------------ hubs
async def test_hub_handshake_auth_and_bad_protocol(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await session.ws_connect(gw.urls.user_hub.replace("http", "ws", 1) + "?access_token=bad")
    assert exc.value.status == 401
    tok = await login(session, gw)
    ws = await session.ws_connect(gw.urls.user_hub.replace("http", "ws", 1) + f"?access_token={tok}")
    await ws.send_str(json.dumps({"protocol": "messagepack", "version": 1}) + RS)
    assert "error" in json.loads((await ws.receive_str()).rstrip(RS))
    hub = await RawHub.connect(session, gw.urls.user_hub, tok, negotiate=True)
    assert (await hub.invoke("SubscribeAccounts"))["result"] is None
    assert "error" in await hub.invoke("NoSuchMethod")
    await hub.wait_for(lambda: any(r.get("type") == 6 for r in hub.records))  # server pings
    await hub.close()


async def test_user_events_order_and_shapes(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    hub = await RawHub.connect(session, gw.urls.user_hub, tok)
    await hub.invoke("SubscribeAccounts")
    for t in ("SubscribeOrders", "SubscribePositions", "SubscribeTrades"):
        await hub.invoke(t, AID)
    await call(session, gw, "Order/place", tok, place_body(gw))
    await hub.wait_for(lambda: len(hub.events()) >= 5)
    seq = [(e["target"], e["arguments"][0].get("status")) for e in hub.events()]
    assert seq[:5] == [("GatewayUserOrder", 6), ("GatewayUserOrder", 2), ("GatewayUserTrade", None),
                       ("GatewayUserPosition", None), ("GatewayUserAccount", None)]
    assert all(len(e["arguments"]) == 1 for e in hub.events())
    gw.set_faults(user_shape="wrapped")
    n = len(hub.events())
    await call(session, gw, "Position/closeContract", tok, {"accountId": AID, "contractId": gw.contract.id})
    await hub.wait_for(lambda: len(hub.events()) >= n + 5)
    new = hub.events()[n:]
    pos = [e for e in new if e["target"] == "GatewayUserPosition"][0]["arguments"][0]
    assert isinstance(pos, list) and pos[0]["action"] == 2 and pos[0]["data"]["size"] == 0
    trade = [e for e in new if e["target"] == "GatewayUserTrade"][0]["arguments"][0]
    assert trade[0]["action"] == 0 and trade[0]["data"]["profitAndLoss"] is not None
    await hub.close()


async def test_market_quotes_sparse_depth_reset_and_trades(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    hub = await RawHub.connect(session, gw.urls.market_hub, tok)
    cid = gw.contract.id
    await hub.invoke("SubscribeContractQuotes", cid)
    await hub.invoke("SubscribeContractTrades", cid)
    await hub.invoke("SubscribeContractMarketDepth", cid)
    gw.replay.step(40)
    await hub.wait_for(lambda: len(hub.events("GatewayQuote")) >= 3 and hub.events("GatewayTrade"))
    quotes = [e["arguments"] for e in hub.events("GatewayQuote")]
    assert quotes[0][0] == cid and {"bestBid", "bestAsk", "lastPrice", "symbolName"} <= set(quotes[0][1])
    assert any(len(q[1]) < len(quotes[0][1]) for q in quotes[1:])  # sparse updates
    depth = [e["arguments"][1] for e in hub.events("GatewayDepth")]
    assert depth[0][0]["type"] == 6 and depth[0][0]["price"] == 0 and len(depth[0]) > 10
    assert all(len(d) <= 8 for d in depth[1:])
    t = hub.events("GatewayTrade")[0]["arguments"][1]
    assert isinstance(t, dict) and t["type"] in (0, 1) and t["symbolId"] == "F.US.MES"
    gw.set_faults(market_shape="wrapped")
    n = len(hub.events("GatewayTrade"))
    gw.replay.step(8)
    await hub.wait_for(lambda: len(hub.events("GatewayTrade")) > n)
    assert isinstance(hub.events("GatewayTrade")[-1]["arguments"][1], list)
    await hub.close()


# ------------------------------------------------------------------ faults
async def test_fault_drop_close_and_logout(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    u = await RawHub.connect(session, gw.urls.user_hub, tok)
    m = await RawHub.connect(session, gw.urls.market_hub, tok)
    assert gw.send_logout() == 2
    await u.wait_for(lambda: u.events("GatewayLogout"))
    await m.wait_for(lambda: m.events("GatewayLogout"))
    r = await session.post(f"{gw.urls.admin}/faults", json={"close": "market"})
    assert (await r.json())["done"]["closed"] == 1
    await asyncio.wait_for(m.closed.wait(), 3)
    assert m.records[-1]["type"] == 7 and "error" in m.records[-1]
    assert gw.drop_hub_connections() == 1
    await asyncio.wait_for(u.closed.wait(), 3)


async def test_fault_stall_with_and_without_pings(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    m = await RawHub.connect(session, gw.urls.market_hub, tok)
    await m.invoke("SubscribeContractQuotes", gw.contract.id)
    gw.set_faults(stall_market=True, pings_during_stall=True)
    n = len(m.events())
    gw.replay.step(40)
    pings = sum(r.get("type") == 6 for r in m.records)
    await m.wait_for(lambda: sum(r.get("type") == 6 for r in m.records) > pings + 1)
    assert len(m.events()) == n and not m.closed.is_set()
    gw.set_faults(pings_during_stall=False)
    await asyncio.sleep(0.15)
    pings = sum(r.get("type") == 6 for r in m.records)
    await asyncio.sleep(0.35)
    assert sum(r.get("type") == 6 for r in m.records) == pings
    gw.set_faults(stall_market=False)
    gw.replay.step(40)
    await m.wait_for(lambda: len(m.events()) > n)
    await m.close()


async def test_fault_dup_loss_reorder(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    m = await RawHub.connect(session, gw.urls.market_hub, tok)
    await m.invoke("SubscribeContractTrades", gw.contract.id)
    gw.set_faults(dup_prob=1.0)
    gw.replay.step(16)
    await m.wait_for(lambda: len(m.events()) >= 2)
    ev = m.events()
    assert ev[0] == ev[1]
    gw.set_faults(dup_prob=0.0, loss_prob=1.0)
    n = len(m.events())
    gw.replay.step(16)
    await asyncio.sleep(0.1)
    assert len(m.events()) == n
    gw.set_faults(loss_prob=0.0, reorder_prob=1.0, seed=1)
    gw.replay.step(40)
    await m.wait_for(lambda: len(m.events()) >= n + 4)
    stamps = [e["arguments"][1]["timestamp"] for e in m.events()[n:]]
    assert stamps != sorted(stamps)  # some prints arrive out of order
    await m.close()


async def test_fault_rest_storm_5xx_and_delay(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    r = await session.post(f"{gw.urls.admin}/faults", json={"storm_429_s": 0.3})
    assert r.status == 200
    assert (await call(session, gw, "Account/search", tok, {}))[0] == 429
    await asyncio.sleep(0.35)
    assert (await call(session, gw, "Account/search", tok, {}))[0] == 200
    gw.set_faults(rest_5xx_rate=1.0)
    assert (await call(session, gw, "Account/search", tok, {}))[0] == 503
    gw.set_faults(rest_5xx_rate=0.0, rest_delay_ms=300)
    with pytest.raises(asyncio.TimeoutError):
        await session.post(f"{gw.urls.rest}/api/Account/search", json={},
                           headers={"Authorization": f"Bearer {tok}"},
                           timeout=aiohttp.ClientTimeout(total=0.1))
    r = await session.post(f"{gw.urls.admin}/faults", json={"bogus": 1})
    assert r.status == 400


@pytest.mark.parametrize("mode", ["drop", "delay"])
async def test_fault_timeout_after_accept(mode: str, gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    gw.set_faults(timeout_after_accept=1, timeout_mode=mode, timeout_delay_s=1.0)
    with pytest.raises((aiohttp.ClientError, asyncio.TimeoutError)):
        await session.post(f"{gw.urls.rest}/api/Order/place", json=place_body(gw, customTag="amb-1"),
                           headers={"Authorization": f"Bearer {tok}"},
                           timeout=aiohttp.ClientTimeout(total=0.3))
    # the order went through: a retry with the same tag is refused as a duplicate
    st, b = await call(session, gw, "Order/place", tok, place_body(gw, customTag="amb-1"))
    assert b["errorCode"] == 2 and "already" in b["errorMessage"]
    st, b = await call(session, gw, "Order/v2/query", tok, {"filter": {"accountId": AID}})
    assert [o["customTag"] for o in b["orders"]] == ["amb-1"] and b["orders"][0]["status"] == 2


async def test_quote_blast_reaches_a_raw_consumer(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    tok = await login(session, gw)
    m = await RawHub.connect(session, gw.urls.market_hub, tok)
    await m.invoke("SubscribeContractQuotes", gw.contract.id)
    n0 = len(m.events("GatewayQuote"))
    r = await session.post(f"{gw.urls.admin}/blast", json={"count": 3000})
    assert (await r.json())["queued"] == 3000
    await m.wait_for(lambda: len(m.events("GatewayQuote")) >= n0 + 3000, timeout=10)
    seqs = [e["arguments"][1]["seq"] for e in m.events("GatewayQuote")[n0:]]
    assert seqs == list(range(3000)) and m.frames < 3000  # batched frames
    await m.close()


async def test_feed_admin_and_state(gw: SimGateway, session: aiohttp.ClientSession) -> None:
    r = await session.post(f"{gw.urls.admin}/feed", json={"action": "step", "n": 4})
    assert (await r.json())["replay"]["index"] == 12
    gw.start_feed(0)
    await asyncio.wait_for(gw.wait_feed(), 20)
    st = await (await session.get(f"{gw.urls.admin}/state")).json()
    assert st["replay"]["index"] == st["replay"]["total"]
    r = await session.post(f"{gw.urls.admin}/feed", json={"action": "rewind"})
    assert r.status == 400


async def test_token_expiry_closes_hub_and_roll_switches_contract(bars, session: aiohttp.ClientSession) -> None:  # noqa: ANN001
    wall = SimClock(1_000 * 10**9)
    g = SimGateway(bars, config=GatewayConfig(token_lifetime_s=60, keepalive_s=0.05), wall_clock=wall)
    await g.start()
    g.replay.step(8)
    try:
        tok = await login(session, g)
        hub = await RawHub.connect(session, g.urls.market_hub, tok)
        old, new = g.contracts[0].id, g.contracts[1].id
        r = await session.post(f"{g.urls.admin}/feed", json={"action": "roll", "contractId": new})
        assert r.status == 200
        st, b = await call(session, g, "Contract/available", tok, {"live": False})
        assert {c["id"]: c["activeContract"] for c in b["contracts"]} == {old: False, new: True}
        st, b = await call(session, g, "Order/place", tok, place_body(g, contractId=old))
        assert b["errorCode"] == 9
        await hub.invoke("SubscribeContractQuotes", new)
        g.replay.step(8)
        await hub.wait_for(lambda: any(e["arguments"][0] == new for e in hub.events("GatewayQuote")))
        wall.advance_ns(61 * 10**9)
        await asyncio.wait_for(hub.closed.wait(), 3)
        last = hub.records[-1]
        assert last["type"] == 7 and "expired" in last["error"] and last["allowReconnect"] is False
    finally:
        await g.stop()


async def test_fault_depth_nulls_early_subscribe_false_and_recorded_rejections(
        bars, session: aiohttp.ClientSession) -> None:  # noqa: ANN001
    from core.venues.sim.matching import MatchingConfig

    g = SimGateway(bars, matching=MatchingConfig(record_rejections=True))
    await g.start()
    g.replay.step(8)
    try:
        tok = await login(session, g)
        g.set_faults(early_subscribe_false_s=30.0, depth_nulls=True)
        hub = await RawHub.connect(session, g.urls.market_hub, tok)
        assert (await hub.invoke("SubscribeContractMarketDepth", g.contract.id))["result"] is False
        assert not hub.events("GatewayDepth")  # nothing was subscribed
        g.set_faults(early_subscribe_false_s=0.0)
        await hub.invoke("SubscribeContractMarketDepth", g.contract.id)
        g.replay.step(8)
        await hub.wait_for(lambda: len(hub.events("GatewayDepth")) >= 2)
        assert all(e["arguments"][1][-1] is None for e in hub.events("GatewayDepth"))
        st, b = await call(session, g, "Order/place", tok, place_body(g, type=1, limitPrice=1.1))
        assert b["success"] is False and b["errorCode"] == 2 and b["orderId"] is not None
        st, b = await call(session, g, "Order/searchById", tok, {"accountId": AID, "orderId": b["orderId"]})
        assert b["order"]["status"] == 5
        await hub.close()
    finally:
        await g.stop()
