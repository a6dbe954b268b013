"""Both hub transports behind the same seam: signalrcore (default) and the aiohttp one."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain import OrderType, Side
from core.venues.base import ConnectionState, OrderRequest, QuoteEvent
from core.venues.topstepx.signalr import signalrcore_factory
from core.venues.topstepx.wshub import aiohttp_factory
from tests.integration.topstepx.conftest import Recorder, venue_for, wait_for


@pytest.mark.parametrize("factory", [signalrcore_factory, aiohttp_factory],
                         ids=["signalrcore", "aiohttp"])
async def test_transport_stream_order_and_forgotten_token(sim: Any, factory: Any) -> None:
    v = venue_for(sim)
    v.user._factory = v.market._factory = factory  # noqa: SLF001 - the seam under test
    await v.connect()
    rec = Recorder(v)
    try:
        acc = (await v.accounts())[0].id
        await v.watch_account(acc)
        cid = sim.contract.id
        await v.subscribe_quotes(cid)
        sim.replay.step(8)
        await wait_for(lambda: rec.of(QuoteEvent), what="quotes")
        res = await v.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.MARKET, 1))
        await wait_for(lambda: res.order_id in v.state.orders, what="order event")
        # The gateway forgets our token (restart/revocation) and drops us: the hub upgrade
        # answers 401, the client logs in again and reconnects instead of looping.
        logins = v.auth.logins
        sim.tokens.revoke(v.auth.token)
        sim.drop_hub_connections()
        await wait_for(lambda: v.auth.logins > logins and v.user.connected and v.market.connected
                       and ConnectionState.RESYNCED in rec.states("user"), what="re-login + resync")
        n = len(rec.of(QuoteEvent))
        sim.replay.step(8)
        await wait_for(lambda: len(rec.of(QuoteEvent)) > n, what="quotes after reconnect")
    finally:
        await rec.stop()
        await v.close()
