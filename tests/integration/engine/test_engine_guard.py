"""Protection invariant, kill and reconciliation against the simulator (over loopback)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.domain import OrderType
from core.engine.live import side_of
from core.venues.base import OrderRequest
from tests.integration.engine.test_engine_sim import _engine
from tests.integration.topstepx.conftest import wait_for

pytestmark = pytest.mark.asyncio


def _never(bar) -> tuple[int, float]:  # noqa: ANN001
    return 0, 0.0


async def _play(sim: Any, eng, points: int = 8) -> None:  # noqa: ANN001
    for _ in range(points):
        sim.replay.step(1)
        await asyncio.sleep(0.01)
        await eng.on_time()


async def _naked_buy(v, eng, size: int = 1) -> None:  # noqa: ANN001
    """A position opened behind the engine's back (no bracket, no stop)."""
    await v.place_order(OrderRequest(account_id=eng.account_id, contract_id=eng.contract.id,
                                     side=side_of(1), type=OrderType.MARKET, size=size))


async def test_a_naked_position_gets_a_protective_stop(sim: Any) -> None:
    eng, v, task = await _engine(sim, _never)
    try:
        await _play(sim, eng)
        await _naked_buy(v, eng, 2)
        await wait_for(lambda: eng.state.position == 2, what="the position")
        await _play(sim, eng, 4)
        await wait_for(lambda: eng.guard.repairs >= 1, what="a protective stop")
        orders = await v.open_orders(eng.account_id)
        stops = [o for o in orders if o.stop_price is not None]
        assert stops and sum(o.size for o in stops) == 2
        assert stops[0].stop_price < eng.state.last_price           # below the market, long
        assert eng.state.position == 2                               # protected, not flattened
        assert eng.guard.naked_flattens == 0
    finally:
        task.cancel()
        await v.close()


async def test_kill_flattens_verifies_and_latches(sim: Any) -> None:
    def once(bar, n={"k": 0}) -> tuple[int, float]:  # noqa: ANN001, B006
        n["k"] += 1
        return (1, 0.75) if n["k"] == 2 else (0, 0.0)

    eng, v, task = await _engine(sim, once)
    try:
        for _ in range(12):
            await _play(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        st = await eng.ops.kill()
        assert st["killed"] and st["mode"] == "HALTED"
        assert not [p for p in await v.positions(eng.account_id) if p.signed_size]
        assert not [o for o in await v.open_orders(eng.account_id) if o.stop_price or o.limit_price]
        await wait_for(lambda: eng.state.position == 0, what="flat")
        # latched: a new entry is refused locally and never sent
        order = await eng.sender.send("entry", 1, OrderType.MARKET, 1)
        assert order.state == "refused"
        assert (await eng.ops.arm())["armed"] is False                  # arming needs a re-arm first
        assert (await eng.ops.rearm())["mode"] != "HALTED"
    finally:
        task.cancel()
        await v.close()


async def test_reconcile_adopts_the_broker_and_blocks_entries_until_ack(sim: Any) -> None:
    eng, v, task = await _engine(sim, _never)
    try:
        await _play(sim, eng)
        task.cancel()                                  # the engine misses the events …
        await _naked_buy(v, eng, 1)
        await asyncio.sleep(0.2)
        ok = await eng.guard.reconcile(reason="after reconnect")
        assert not ok and eng.state.position == 1
        st = await eng.ops.status()
        assert st["entries_blocked"] and st["alerts"][0]["needs_ack"]
        assert (await eng.ops.ack())["entries_blocked"] == ""
    finally:
        await v.close()


async def test_mll_headroom_comes_from_the_broker_balance(sim: Any) -> None:
    from tests.unit.backtest_fixtures import profile

    eng, v, task = await _engine(sim, _never, profile("topstep_50k_combine"))
    try:
        await _play(sim, eng)
        assert await eng.guard.reconcile(reason="test")
        st = await eng.ops.status()
        assert st["broker_balance"] == 50_000.0 and st["balance_seen_ns"]
        assert st["mll_headroom"] == 50_000.0 - 48_000.0       # flat: balance − MLL level
    finally:
        task.cancel()
        await v.close()


async def test_pause_blocks_entries_and_resume_lets_them_through(sim: Any) -> None:
    """`ctl pause` (the console's `p`): an entry signal while paused is denied by the risk
    kernel and nothing is sent; after `resume` the next one goes out."""
    def always(bar) -> tuple[int, float]:  # noqa: ANN001
        return 1, 0.75

    eng, v, task = await _engine(sim, always)
    seen: list[dict] = []
    eng.publish = seen.append
    try:
        st = await eng.ops.pause()
        assert st["mode"] == "PAUSED"
        for _ in range(4):
            await _play(sim, eng, 4)
        decided = [e for e in seen if e["type"] == "SignalDecided" and e["action"] == "entry"]
        assert decided and all(e["contracts"] == 0 and e["reason"] for e in decided)
        assert not [o for o in eng.book.orders.values() if o.role == "entry"]
        await eng.ops.resume()
        for _ in range(6):
            await _play(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="an entry after resume")
    finally:
        task.cancel()
        await v.close()
