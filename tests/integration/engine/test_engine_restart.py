"""Restart after a crash mid-position: the position is found and protected, nothing re-sent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from core.engine.live import LiveEngine
from core.journal import Journal
from tests.integration.topstepx.conftest import venue_for, wait_for
from tests.unit.backtest_fixtures import LOOSE, profile

pytestmark = pytest.mark.asyncio


async def _connect(sim: Any):  # noqa: ANN202
    v = venue_for(sim)
    await v.connect()
    acc = (await v.accounts())[0]
    await v.watch_account(acc.id)
    c = await v.active_contract("F.US.MES")
    await v.subscribe_trades(c.id)
    return v, acc.id, c


async def _engine_in_position(sim: Any, jpath: Any, publish: Any = None):  # noqa: ANN202
    """Engine A on journal ``jpath``: one entry on the second bar, played until it filled.

    Returns (venue, account id, contract, journal, engine, its event task, profile).
    """
    prof = profile("demo", risk=LOOSE)
    n = {"k": 0}

    def once(bar) -> tuple[int, float]:  # noqa: ANN001
        n["k"] += 1
        return (1, 0.75) if n["k"] == 2 else (0, 0.0)

    v, acc, c = await _connect(sim)
    j1 = Journal(jpath)
    kw = {} if publish is None else {"publish": lambda ev: publish(j1, ev)}
    a = LiveEngine(profile=prof, venue=v, journal=j1, clock=sim.engine.clock, account_id=acc,
                   contract=c, signal=once, bar_seconds=60, run_id="runA", armed=True, **kw)

    async def pump() -> None:
        async for ev in v.events():
            await a.on_event(ev)
    task = asyncio.create_task(pump())
    for _ in range(16):
        sim.replay.step(1)
        await asyncio.sleep(0.02)
        await a.on_time()
    await wait_for(lambda: a.state.position != 0, what="the entry")
    return v, acc, c, j1, a, task, prof


async def test_restart_finds_the_position_protects_it_and_never_resends(sim: Any,
                                                                         tmp_path: Any) -> None:
    jpath = tmp_path / "engine.journal"
    v, acc, c, j1, a, task, prof = await _engine_in_position(sim, jpath)
    pos = a.state.position
    # --- the crash: the engine dies without cleaning up; its stop leg is lost meanwhile,
    # and one intent was journaled but never sent.
    task.cancel()
    j1.record_intent(j1.next_tag("runA"), {"role": "entry", "side": 1, "size": 1})
    for o in await v.open_orders(acc):
        await v.cancel_order(acc, o.id)
    await asyncio.sleep(0.2)
    j1.close()
    sent_before = sim.engine.orders_placed if hasattr(sim.engine, "orders_placed") else None
    # --- the restart
    j2 = Journal(jpath)
    b = LiveEngine(profile=prof, venue=v, journal=j2, clock=sim.engine.clock, account_id=acc,
                   contract=c, signal=lambda bar: (0, 0.0), bar_seconds=60, run_id="runB",
                   armed=False)
    t0 = time.perf_counter()
    found = await b.guard.recover()
    stops = []
    while time.perf_counter() - t0 < 3.0 and not stops:
        stops = [o for o in await v.open_orders(acc) if o.stop_price is not None]
        await asyncio.sleep(0.05)
    assert stops, "no protective stop within 3 s of the restart"
    assert found["position"] == pos and b.state.position == pos
    assert sum(o.size for o in stops) == abs(pos)
    assert found["unresolved_missing"] == ["runA-4"] or found["unresolved_missing"]
    roles = [rec.payload.get("role") for rec in (j2.intent(f"runB-{k}") for k in (1, 2, 3))
             if rec is not None]
    assert roles == ["protect"]                     # nothing re-sent, only the repair
    if sent_before is not None:
        assert sim.engine.orders_placed == sent_before + 1
    j2.close()
    await v.close()


async def test_a_broker_close_while_down_is_recognised_and_booked(sim: Any, tmp_path: Any) -> None:
    """Topstep force-closes look like the broker zeroing the position while we are away."""
    from core.domain import OrderType
    from core.engine.live import side_of
    from core.venues.base import OrderRequest

    jpath = tmp_path / "engine.journal"

    def keep_positions(j: Journal, ev: dict) -> None:
        if ev["type"] == "PositionChanged":
            j.append(ev, run_id="runA")
    v, acc, c, j1, a, task, prof = await _engine_in_position(sim, jpath, keep_positions)
    pos = a.state.position
    bal0 = float(a.risk.fs[0])
    task.cancel()                                    # the engine is down …
    await v.place_order(OrderRequest(account_id=acc, contract_id=c.id, side=side_of(-pos),
                                     type=OrderType.MARKET, size=abs(pos)))   # … broker closes
    await asyncio.sleep(0.3)
    j1.close()
    j2 = Journal(jpath)
    b = LiveEngine(profile=prof, venue=v, journal=j2, clock=sim.engine.clock, account_id=acc,
                   contract=c, signal=lambda bar: (0, 0.0), bar_seconds=60, run_id="runB")
    found = await b.guard.recover()
    assert found["position"] == 0
    assert "closed-while-down" in b.alerts and b.alerts["closed-while-down"]["needs_ack"]
    assert float(b.risk.fs[0]) != bal0 and int(b.risk.ist[5]) == 1   # booked once (I_TRADES)
    j2.close()
    await v.close()
