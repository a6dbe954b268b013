"""Client ↔ simulator over loopback: every operation of the Venue interface."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain import OrderStatus, OrderType, PositionType, Side
from core.errors import FatalVenueError, NonRetryableVenueError
from core.venues.base import (
    Bracket,
    DepthEvent,
    FillEvent,
    OrderEvent,
    OrderRequest,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
    Venue,
)
from core.venues.topstepx.venue import TopstepXVenue
from tests.integration.topstepx.conftest import T0, Recorder, venue_for, wait_for

pytestmark = pytest.mark.asyncio


async def test_reference_data_and_paged_bars(sim: Any) -> None:
    v = venue_for(sim, bars_limit=50)  # forces paging: 240 bars in pages of 50
    sim.replay.step(10_000)  # play the whole day: history only reaches the market clock
    await v.connect(hubs=False)
    try:
        assert isinstance(v, Venue)
        accs = await v.accounts()
        assert accs and accs[0].id == sim.engine.accounts[accs[0].id].id
        c = await v.active_contract("F.US.MES")
        assert c.active and c.symbol_id == "F.US.MES" and c.tick_size == 0.25
        assert (await v.contract(c.id)).id == c.id
        assert any(x.id == c.id for x in await v.search_contracts("MES"))
        with pytest.raises(NonRetryableVenueError):
            await v.active_contract("F.US.NOPE")
        bars = await v.bars(c.id, T0, T0 + 239 * 60_000_000_000)
        ts = [b.ts for b in bars]
        assert ts == sorted(set(ts)) and len(bars) >= 200
        assert v.http.requests >= 5  # really paged
    finally:
        await v.close()


async def test_bad_credentials_are_fatal(sim: Any) -> None:
    v = venue_for(sim)
    v.auth._api_key = "wrong"  # noqa: SLF001 - simulate a bad key without printing it
    with pytest.raises(FatalVenueError) as exc:
        await v.connect()
    assert "wrong" not in str(exc.value)
    await v.close()


async def test_market_data_streams(venue: TopstepXVenue, recorder: Recorder, sim: Any) -> None:
    cid = sim.contract.id
    await venue.subscribe_quotes(cid)
    await venue.subscribe_trades(cid)
    await venue.subscribe_depth(cid)
    sim.replay.step(20)
    await wait_for(lambda: recorder.of(QuoteEvent) and recorder.of(TradeEvent)
                   and recorder.of(DepthEvent), what="quotes, trades and depth")
    q = recorder.of(QuoteEvent)[-1].quote
    assert q.bid is not None and q.ask is not None and q.bid < q.ask
    n = len(recorder.of(QuoteEvent))
    sim.replay.step(8)
    await wait_for(lambda: len(recorder.of(QuoteEvent)) > n, what="quotes after depth")
    sized = [e.quote for e in recorder.of(QuoteEvent)[n:] if e.quote.bid_size]
    assert sized, "top-of-book sizes come from depth while depth is subscribed"
    assert recorder.of(DepthEvent)[0].reset
    await venue.unsubscribe_quotes(cid)
    await venue.unsubscribe_trades(cid)
    await venue.unsubscribe_depth(cid)
    assert not venue.market.subscriptions


async def test_market_order_with_bracket_then_flatten(venue: TopstepXVenue, recorder: Recorder,
                                                      sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    res = await venue.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.MARKET, 1,
                                               bracket=Bracket(stop_ticks=40, target_ticks=40)))
    assert res.order_id > 0 and not res.reconciled
    await wait_for(lambda: any(isinstance(e, PositionEvent) and e.position.size == 1
                               for e in recorder.events), what="long position event")
    assert any(f.fill.order_id == res.order_id for f in recorder.of(FillEvent))
    pos = await venue.positions(acc)
    assert [(p.type, p.size) for p in pos] == [(PositionType.LONG, 1)]
    legs = [o for o in await venue.open_orders(acc) if o.parent_id == res.order_id]
    assert sorted(o.type for o in legs) == [OrderType.LIMIT, OrderType.STOP]
    assert all(o.custom_tag and o.custom_tag.startswith(res.tag) for o in legs)
    await venue.flatten(acc, cid)
    assert await venue.positions(acc) == []
    assert [o for o in await venue.open_orders(acc) if o.contract_id == cid] == []
    await wait_for(lambda: venue.state.positions[(acc, cid)].size == 0, what="flat via hub")


async def test_limit_modify_cancel_and_tick_rounding(venue: TopstepXVenue, recorder: Recorder,
                                                     sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    px = 4900.0  # far below the market (~5000): rests
    res = await venue.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.LIMIT, 2,
                                               limit_price=px + 0.1))  # off-grid: rounded
    o = next(x for x in await venue.open_orders(acc) if x.id == res.order_id)
    assert o.limit_price == px and o.status == OrderStatus.OPEN
    await venue.modify_order(acc, res.order_id, limit_price=px - 0.26)
    o = next(x for x in await venue.open_orders(acc) if x.id == res.order_id)
    assert o.limit_price == px - 0.25 and o.size == 2
    await venue.cancel_order(acc, res.order_id)
    await venue.cancel_order(acc, res.order_id)  # already cancelled: success, not an error
    assert all(x.id != res.order_id for x in await venue.open_orders(acc))
    await wait_for(lambda: venue.state.orders.get(res.order_id) is not None
                   and venue.state.orders[res.order_id].status == OrderStatus.CANCELLED,
                   what="cancel event")
    assert any(isinstance(e, OrderEvent) and e.order.id == res.order_id for e in recorder.events)


async def test_suspended_bracket_legs_only_visible_with_v2_query(venue: TopstepXVenue,
                                                                 sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    res = await venue.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.LIMIT, 1,
                                               limit_price=4000.0,
                                               bracket=Bracket(stop_ticks=10, target_ticks=20)))
    with_legs = [o for o in await venue.open_orders(acc) if o.parent_id == res.order_id]
    assert [o.status for o in with_legs] == [OrderStatus.SUSPENDED] * 2
    plain = await venue.open_orders(acc, include_suspended=False)
    assert all(o.parent_id != res.order_id for o in plain)
    await venue.flatten(acc, cid)
    assert await venue.open_orders(acc) == []


async def test_rejections_are_non_retryable(venue: TopstepXVenue, sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    with pytest.raises(NonRetryableVenueError):
        await venue.place_order(OrderRequest(acc, cid, Side.BUY, OrderType.MARKET, 0))
    with pytest.raises(NonRetryableVenueError):
        await venue.place_order(OrderRequest(acc, "CON.F.US.NOPE.Z25", Side.BUY,
                                             OrderType.MARKET, 1))
    with pytest.raises(NonRetryableVenueError):
        await venue.cancel_order(acc, 999)
    res = await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.LIMIT, 1,
                                               limit_price=9000.0, tag="dup-tag-1"))
    again = await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.LIMIT, 1,
                                                 limit_price=9000.0, tag="dup-tag-1"))
    assert again.order_id == res.order_id and again.reconciled  # same tag = same order
    assert venue.health().hubs[0].connected


async def test_partial_close_ping_and_trades(venue: TopstepXVenue, sim: Any) -> None:
    acc, cid = venue.account_id, sim.contract.id  # type: ignore[attr-defined]
    assert await venue.ping()
    await venue.place_order(OrderRequest(acc, cid, Side.SELL, OrderType.MARKET, 3))
    await venue.partial_close(acc, cid, 2)
    assert [(p.type, p.size) for p in await venue.positions(acc)] == [(PositionType.SHORT, 1)]
    fills = await venue.trades(acc, T0 - 86_400 * 10**9)  # the simulator's market time
    assert sum(f.size for f in fills) == 5
    assert [f.profit_and_loss is None for f in fills].count(True) >= 1  # the opening half-turn
    await venue.flatten(acc, cid)
    assert await venue.positions(acc) == []


async def test_a_false_subscribe_completion_is_an_error(venue: TopstepXVenue, sim: Any) -> None:
    from core.errors import RetryableVenueError

    sim.config.subscribe_result = False  # project-x-py #126: "Subscription returned False"
    with pytest.raises(RetryableVenueError, match="returned False"):
        await venue.subscribe_quotes(sim.contract.id)
    sim.config.subscribe_result = None


async def test_modify_rounds_even_before_the_hub_reported_the_order(sim: Any) -> None:
    v = venue_for(sim)
    await v.connect(hubs=False)  # no hub: the client only knows the order through REST
    try:
        acc = (await v.accounts())[0].id
        res = await v.place_order(OrderRequest(acc, sim.contract.id, Side.BUY, OrderType.LIMIT, 1,
                                               limit_price=4900.0))
        assert res.order_id not in v.state.orders
        await v.modify_order(acc, res.order_id, limit_price=4899.9)
        o = next(x for x in await v.open_orders(acc) if x.id == res.order_id)
        assert o.limit_price == 4900.0  # 4899.9 → nearest tick
        await v.cancel_order(acc, res.order_id)
    finally:
        await v.close()
