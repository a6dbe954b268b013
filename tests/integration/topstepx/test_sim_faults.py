"""Client ↔ simulator under every fault the simulator injects.

Outages, stalls, logouts, 429 storms, lost responses, 5xx and damaged event streams must all
end in the same place: no duplicate order, and orders/positions equal to the venue's truth.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.clock import SimClock
from core.domain import OrderType, Side
from core.venues.base import ConnectionState, OrderRequest, QuoteEvent
from core.venues.topstepx.venue import TopstepXVenue
from tests.integration.topstepx.conftest import T0, Recorder, venue_for, wait_for

pytestmark = pytest.mark.asyncio


async def _tags_at_venue(v: TopstepXVenue, acc: int, tag: str) -> int:
    return sum(1 for o in await v.exec.query_v2(acc) if o.custom_tag == tag)


async def _assert_consistent(v: TopstepXVenue, acc: int) -> None:
    """The client's view equals the venue's REST truth."""
    truth_pos = {(p.contract_id, p.type, p.size) for p in await v.positions(acc)}
    mine_pos = {(p.contract_id, p.type, p.size) for (a, _), p in v.state.positions.items()
                if a == acc and p.size}
    assert mine_pos == truth_pos
    truth_orders = {(o.id, o.status) for o in await v.open_orders(acc)}
    mine_orders = {(o.id, o.status) for o in v.state.working(acc)}
    assert mine_orders == truth_orders
    fills = await v.trades(acc, T0 - 86_400 * 10**9)  # the simulator's market time
    assert {f.id for f in fills} <= v.state.fill_ids


async def test_hub_dies_mid_position_then_resubscribes_and_resyncs(
        venue: TopstepXVenue, recorder: Recorder, sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    await venue.subscribe_quotes(cid)
    await venue.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.MARKET, 2))
    await wait_for(lambda: venue.state.positions.get((acc, cid)) is not None
                   and venue.state.positions[(acc, cid)].size == 2, what="position")
    reconnects = venue.user.reconnects
    # The position changes while the user hub delivers nothing, then both hubs die:
    # those events are lost forever (no replay); only a REST resync can recover them.
    sim.set_faults(stall_user=True)
    await venue.exec.close_position(acc, cid, _one)
    sim.drop_hub_connections()  # both hubs, abrupt
    sim.set_faults(stall_user=False)
    await wait_for(lambda: ConnectionState.RESYNCED in recorder.states("user")
                   and venue.user.reconnects > reconnects, what="user hub resync")
    await wait_for(lambda: venue.market.connected, what="market hub back")
    assert ("SubscribeContractQuotes", cid) in venue.market.subscriptions
    n = len(recorder.of(QuoteEvent))
    sim.replay.step(12)
    await wait_for(lambda: len(recorder.of(QuoteEvent)) > n, what="quotes after resubscribe")
    assert venue.state.positions[(acc, cid)].size == 0  # learned through REST resync
    await _assert_consistent(venue, acc)


async def _one() -> int:
    return 1


async def test_silent_stall_triggers_watchdog_rebuild(venue: TopstepXVenue, recorder: Recorder,
                                                      sim: Any) -> None:
    cid = sim.contract.id
    await venue.subscribe_quotes(cid)
    sim.start_feed(speed=600)  # ~10 bars/s keeps quotes flowing
    await wait_for(lambda: recorder.of(QuoteEvent), what="first quotes")
    sim.set_faults(stall_market=True)
    await wait_for(lambda: ConnectionState.STALLED in recorder.states("market"), what="stall")
    sim.set_faults(stall_market=False)
    n = len(recorder.of(QuoteEvent))
    await wait_for(lambda: venue.market.reconnects >= 1 and venue.market.connected,
                   what="market rebuilt")
    await wait_for(lambda: len(recorder.of(QuoteEvent)) > n, what="quotes after rebuild")
    sim.pause_feed()


async def test_gateway_logout_logs_in_again_and_rebuilds(venue: TopstepXVenue,
                                                         recorder: Recorder, sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    logins = venue.auth.logins
    assert sim.send_logout() == 2
    await wait_for(lambda: venue.auth.logins == logins + 1, what="re-login")  # once, not twice
    await wait_for(lambda: venue.user.reconnects >= 1 and venue.user.connected
                   and venue.market.connected, what="hubs rebuilt")
    res = await venue.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.MARKET, 1))
    await wait_for(lambda: res.order_id in venue.state.orders, what="order event after logout")
    assert venue.auth.logins == logins + 1


async def test_429_storm_never_duplicates_an_order(venue: TopstepXVenue, sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    await venue.contract(cid)  # tick size cached: the storm hits Order/place itself
    sim.storm_429(0.1)  # shorter than the read-retry budget of the fast test settings
    res = await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.LIMIT, 1,
                                               limit_price=9000.0))
    assert venue.http.rate_limited >= 1
    assert await _tags_at_venue(venue, acc, res.tag) == 1


@pytest.mark.parametrize("mode", ["drop", "delay"])
async def test_lost_place_response_is_found_by_tag(venue: TopstepXVenue, sim: Any,
                                                   mode: str) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    venue.http.config = replace(venue.http.config, request_timeout_s=0.4)
    sim.set_faults(timeout_after_accept=1, timeout_mode=mode, timeout_delay_s=1.0)
    res = await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.LIMIT, 1,
                                               limit_price=9000.0))
    assert res.reconciled and res.attempts == 1  # found by its tag, never sent again
    assert await _tags_at_venue(venue, acc, res.tag) == 1


async def test_5xx_reads_retried_and_mutations_reconciled(venue: TopstepXVenue, sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    sim.set_faults(rest_5xx_rate=0.3, seed=11)
    assert await venue.accounts()
    tags = []
    for i in range(6):
        res = await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.LIMIT, 1,
                                                   limit_price=9000.0 + i))
        tags.append(res.tag)
    ids = [o.id for o in await venue.exec.query_v2(acc) if o.custom_tag in tags]
    for oid in ids:  # modify and cancel through the same 5xx storm: reconciled, not blind
        await venue.modify_order(acc, oid, limit_price=9100.0)
    for oid in ids:
        await venue.cancel_order(acc, oid)
    sim.set_faults(rest_5xx_rate=0.0)
    for tag in tags:
        assert await _tags_at_venue(venue, acc, tag) == 1
    final = {o.id: o for o in await venue.exec.query_v2(acc) if o.id in ids}
    assert all(o.status.name == "CANCELLED" and o.limit_price == 9100.0 for o in final.values())


async def test_damaged_event_stream_is_consistent_after_resync(venue: TopstepXVenue,
                                                               recorder: Recorder,
                                                               sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    sim.set_faults(dup_prob=0.3, reorder_prob=0.3, loss_prob=0.2, seed=5, user_shape="wrapped")
    for side in (Side.BUY, Side.BUY, Side.SELL, Side.BUY):
        await venue.place_order(OrderRequest(acc, cid, side, OrderType.MARKET, 1))
    await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.LIMIT, 1,
                                         limit_price=9000.0))
    sim.set_faults(dup_prob=0.0, reorder_prob=0.0, loss_prob=0.0)
    sim.drop_hub_connections("user")
    await wait_for(lambda: ConnectionState.RESYNCED in recorder.states("user"), what="resync")
    await _assert_consistent(venue, acc)


async def test_token_renewed_before_expiry_and_hubs_rebuilt(sim: Any) -> None:
    clock = SimClock(sim.tokens.clock.now_ns())
    sim.tokens.clock = clock  # the simulator's token expiry follows the same injected clock
    v = venue_for(sim, clock=clock, refresh_margin_s=600)
    await v.connect()
    try:
        first = v.auth.token
        clock.advance_ns(int((86_400 - 300) * 1e9))  # 5 min before expiry: inside the margin
        await v.accounts()
        assert v.auth.token != first and v.auth.refreshes + v.auth.logins >= 2
        await wait_for(lambda: v.user.reconnects >= 1 and v.user.connected, what="rebuild")
    finally:
        await v.close()


async def test_watchdog_is_quiet_when_the_market_is_closed(sim: Any) -> None:
    import asyncio

    v = venue_for(sim, stall_timeout_s=0.2)
    v.market._market_open = lambda: False  # noqa: SLF001 - the watchdog's calendar seam
    await v.connect()
    try:
        await v.subscribe_quotes(sim.contract.id)  # no feed runs: no quote will come
        await asyncio.sleep(1.0)
        assert v.market.reconnects == 0 and v.market.state == ConnectionState.CONNECTED
    finally:
        await v.close()


async def test_half_open_socket_without_pings_is_rebuilt() -> None:
    from core.venues.sim.gateway.config import GatewayConfig
    from tests.integration.topstepx.conftest import SimGateway, make_bars

    gw = SimGateway(make_bars(), config=GatewayConfig(keepalive_s=0.1))
    await gw.start()
    v = venue_for(gw, dead_after_s=0.6)
    try:
        await v.connect()
        import asyncio
        await asyncio.sleep(0.8)  # pings every 0.1 s keep both hubs alive
        assert v.user.reconnects == 0 and v.market.reconnects == 0
        gw.set_faults(stall_user=True, stall_market=True, pings_during_stall=False)
        await wait_for(lambda: v.user.reconnects >= 1 and v.market.reconnects >= 1,
                       what="rebuild of silent hubs")
        assert "no message from the server" in v.user.last_reason
    finally:
        await v.close()
        await gw.stop()
