"""The engine under the broker's failure modes (the simulator's fault injection, loopback).

Every test ends with: no naked position for more than 2 s, no duplicate order, and a risk
state that booked each round trip exactly once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from core.domain import OrderType
from core.engine.guard import stop_cover
from core.engine.live import side_of
from core.venues.base import OrderRequest
from tests.integration.engine.test_engine_sim import _engine
from tests.integration.topstepx.conftest import wait_for

pytestmark = pytest.mark.asyncio


class Watch:
    """Samples the broker every 50 ms: the longest time a position went without a stop."""

    def __init__(self, eng: Any) -> None:
        self.eng = eng
        self.naked_max = 0.0
        self._since: float | None = None
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        e = self.eng
        while True:
            pos = e.state.position
            cover = stop_cover(e.broker_orders, e.contract.id, pos, e.sign_of_side)
            now = time.monotonic()
            if pos and cover < abs(pos):
                self._since = self._since or now
                self.naked_max = max(self.naked_max, now - self._since)
            else:
                self._since = None
            await asyncio.sleep(0.05)

    async def stop(self) -> float:
        self._task.cancel()
        return self.naked_max


def _once(at: int = 2):  # noqa: ANN202
    n = {"k": 0}

    def signal(bar) -> tuple[int, float]:  # noqa: ANN001
        n["k"] += 1
        return (1, 0.75) if n["k"] == at else (0, 0.0)
    return signal


async def _bars(sim: Any, eng: Any, k: int) -> None:
    for _ in range(4 * k):
        sim.replay.step(1)
        await asyncio.sleep(0.01)
        await eng.on_time()


async def _entries_at_broker(v: Any, eng: Any) -> list:
    fills = await v.trades(eng.account_id, 0)
    return [f for f in fills if (o := eng.book.by_order_id(f.order_id)) and o.role == "entry"]


async def test_hub_drop_mid_position_keeps_it_protected(sim: Any) -> None:
    eng, v, task = await _engine(sim, _once())
    w = Watch(eng)
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        sim.drop_hub_connections()                     # both hubs, abrupt
        await _bars(sim, eng, 2)
        await wait_for(lambda: eng.feeds.get("market") is not None, what="feed events")
        await _bars(sim, eng, 2)
        await eng.flatten(reason="test end")
        assert await w.stop() < 2.0
        assert len(await _entries_at_broker(v, eng)) >= 1
        assert len([o for o in eng.book.orders.values() if o.role == "entry"]) == 1
    finally:
        task.cancel()
        await v.close()


async def test_entry_accepted_but_response_lost_is_never_duplicated(sim: Any) -> None:
    eng, v, task = await _engine(sim, _once())
    try:
        sim.set_faults(timeout_after_accept=1, timeout_mode="drop")
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, timeout=20, what="the entry")
        entries = [o for o in eng.book.orders.values() if o.role == "entry"]
        assert len(entries) == 1 and entries[0].state in ("working", "filled", "unknown")
        tag = entries[0].tag
        at_broker = [o for o in sim.engine.orders.values() if o.custom_tag == tag]
        assert len(at_broker) == 1                      # one order for one tag, ever
        await eng.flatten(reason="test end")
    finally:
        task.cancel()
        await v.close()


async def test_duplicated_and_reordered_events_book_each_trade_once(sim: Any) -> None:
    sim.set_faults(dup_prob=0.5, reorder_prob=0.3, seed=4)
    eng, v, task = await _engine(sim, _once())
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        bal0 = float(eng.risk.fs[0])
        await eng.flatten(reason="test end")
        await wait_for(lambda: eng.state.trades_booked == 1, what="one booked trade")
        await asyncio.sleep(0.3)                          # late duplicates arrive
        assert eng.state.trades_booked == 1 and len(eng.trades) == 1
        assert abs(float(eng.risk.fs[0]) - bal0 - eng.trades[0]["net_pnl"]) < 1e-6
        # the duplicates were counted, not lost: the status and the metrics say how many
        drops = (await eng.ops.status())["drops"]
        assert drops["user_duplicates_ignored"] > 0 and drops["user_bad_payloads"] == 0
        from core.engine.metrics import EngineMetrics

        m = EngineMetrics()
        m.on_status({"drops": drops})
        assert (f'scalpdesk_dropped_events{{reason="user_duplicates_ignored"}} '
                f'{float(drops["user_duplicates_ignored"])}') in m.text()
    finally:
        task.cancel()
        await v.close()


async def test_kill_during_a_429_storm_still_reaches_flat(sim: Any) -> None:
    eng, v, task = await _engine(sim, _once())
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        sim.storm_429(1.0)
        st = await eng.ops.kill()
        assert st["killed"] and st["mode"] == "HALTED"
        assert not [p for p in await v.positions(eng.account_id) if p.signed_size]
    finally:
        task.cancel()
        await v.close()


async def test_gateway_logout_then_protection_and_flatten_still_work(sim: Any) -> None:
    eng, v, task = await _engine(sim, _once())
    w = Watch(eng)
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        sim.send_logout()
        await _bars(sim, eng, 3)
        assert await eng.flatten(reason="after logout")
        assert await w.stop() < 2.0
    finally:
        task.cancel()
        await v.close()


async def test_a_close_by_the_broker_is_booked_and_orphans_cancelled(sim: Any) -> None:
    """The broker zeroes the position behind the engine (as Topstep does at the MLL or at
    15:10 CT): the round trip is booked once and the bracket legs left are cancelled."""
    eng, v, task = await _engine(sim, _once())
    published: list[dict] = []
    eng.publish = published.append
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        pos = eng.state.position
        await v.place_order(OrderRequest(account_id=eng.account_id, contract_id=eng.contract.id,
                                         side=side_of(-pos), type=OrderType.MARKET,
                                         size=abs(pos)))
        await wait_for(lambda: eng.state.position == 0 and eng.state.trades_booked == 1,
                       what="the external close booked")
        assert eng.trades[0]["exit_reason"] == "flatten"
        # recognised and said (journaled as an Alert): not the engine's own exit
        assert [e for e in published if e["type"] == "Alert"
                and str(e["alert_id"]).startswith("broker-close")]
        await _bars(sim, eng, 1)
        await wait_for(lambda: not [o for o in eng.broker_orders.values()
                                    if o.contract_id == eng.contract.id and o.is_working],
                       what="the orphaned legs cancelled")
        # each cancel was journaled before it was sent, and its outcome recorded
        calls = eng.journal.calls
        cancels = [tag for kind, tag, role in calls if kind == "intent" and role == "cancel"]
        assert cancels
        for tag in cancels:
            i = calls.index(("intent", tag, "cancel"))
            assert any(c[0] == "mark" and c[1] == tag for c in calls[i + 1:])
    finally:
        task.cancel()
        await v.close()


async def test_a_close_refused_as_market_closed_is_protected_and_retried_until_flat(sim: Any
                                                                                    ) -> None:
    """The gateway refuses the close the way it does while the market is closed (success
    false, a null message): the kill keeps its latch, the position gets a protective stop
    between attempts (the flatten cancelled its bracket), and the retries reach flat."""
    eng, v, task = await _engine(sim, _once())
    published: list[dict] = []
    eng.publish = published.append
    w = Watch(eng)
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        sim.set_faults(reject_closes=3)
        st = await eng.ops.kill()
        assert st["killed"] and st["mode"] == "HALTED"
        assert sim.faults.reject_closes == 0                 # every refusal was met, then flat
        assert not [p for p in await v.positions(eng.account_id) if p.signed_size]
        assert eng.guard.repairs >= 3                       # protected after each refusal
        assert "close-refused" in [ev.get("alert_id") for ev in published]
        assert await w.stop() < 2.0
        await wait_for(lambda: eng.state.position == 0 and eng.state.trades_booked == 1,
                       what="the round trip booked once")
        assert len(await _entries_at_broker(v, eng)) == 1    # no duplicate entry
    finally:
        task.cancel()
        await v.close()



def _every(*at: int):  # noqa: ANN202
    n = {"k": 0}

    def signal(bar) -> tuple[int, float]:  # noqa: ANN001
        n["k"] += 1
        return (1, 0.75) if n["k"] in at else (0, 0.0)
    return signal


class _StaleFirst:
    """The client, except that its first position read answers from before the entry."""

    def __init__(self, v: Any) -> None:
        self._v, self.stale = v, 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._v, name)

    async def positions(self, account_id: int) -> list:
        if self.stale:
            self.stale -= 1
            return []
        return await self._v.positions(account_id)


@pytest.mark.parametrize("busy", [True, False])
async def test_a_stale_rest_read_is_not_a_position_mismatch(sim: Any, busy: bool) -> None:
    """Found in the demo: a periodic reconciliation at an entry fill read the broker flat,
    raised a critical mismatch, adopted 0 and blocked entries. A snapshot taken while orders
    were moving is skipped; otherwise the mismatch must hold on a second read."""
    eng, v, task = await _engine(sim, _once())
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        pos = eng.state.position
        eng.venue = _StaleFirst(v)
        eng._touched_ns = eng._wall.now_ns() if busy else 0
        assert await eng.guard.reconcile(reason="periodic")
        assert eng.state.position == pos and not eng.state.entries_blocked
        assert "position-mismatch" not in eng.alerts
        eng.venue = v
        assert await eng.flatten(reason="test end")
    finally:
        task.cancel()
        await v.close()


async def test_an_unknown_entry_that_filled_is_found_by_tag_not_called_missing(sim: Any
                                                                               ) -> None:
    """An entry whose send outcome is unknown (the response and the client's own lookup
    lost) but which reached the broker and FILLED — so it is no longer among the working
    orders. Reconciliation must find it by its tag over every status and adopt it, never
    resolve it as 'never arrived'."""
    from core.engine import orders as O

    eng, v, task = await _engine(sim, lambda bar: (0, 0.0))
    try:
        await _bars(sim, eng, 2)
        tag = eng.journal.next_tag(eng.run_id)
        eng.journal.record_intent(tag, {"role": "entry", "side": 1, "size": 1})
        eng.book.add(O.TrackedOrder(tag=tag, role="entry", side=1, type="market", size=1))
        eng.book.sent(tag)
        task.cancel()                          # the stream misses the order's events too
        await v.place_order(OrderRequest(account_id=eng.account_id, contract_id=eng.contract.id,
                                         side=side_of(1), type=OrderType.MARKET, size=1,
                                         tag=tag))
        eng.book.send_failed(tag, unknown=True, reason="response lost, lookup failed")
        for _ in range(4):                     # the market moves (no engine cycle meanwhile)
            sim.replay.step(1)
            await asyncio.sleep(0.01)
        assert [p for p in await v.positions(eng.account_id) if p.signed_size]
        await eng.guard.reconcile(reason="after reconnect")
        o = eng.book.orders[tag]
        assert o.order_id is not None and o.state == "filled", (o.state, o.history)
    finally:
        task.cancel()
        await v.close()


async def test_fills_the_stream_missed_are_booked_from_the_broker_once(sim: Any) -> None:
    """The order stream misses the engine's own exit fill and the position update (a hub
    gap): reconciliation reads the broker's trade list, books the round trip once into the
    risk kernel (daily P&L is right), and sees no mismatch; a late stream copy books
    nothing twice."""
    eng, v, task = await _engine(sim, _once())
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0 and eng.rt.position != 0,
                       what="the entry")
        await asyncio.sleep(0.2)
        task.cancel()                                   # the gap begins
        bal0 = float(eng.risk.fs[0])
        await eng.sender.close_position(reason="signal")  # our exit; its events go missing
        for _ in range(4):
            sim.replay.step(1)
            await asyncio.sleep(0.02)
        assert eng.state.trades_booked == 0
        assert await eng.guard.reconcile(reason="after reconnect")
        assert eng.guard.fills_synced >= 1 and eng.state.trades_booked == 1
        assert eng.state.position == 0 and not eng.state.entries_blocked
        net = eng.trades[0]["net_pnl"]
        assert abs(float(eng.risk.fs[0]) - bal0 - net) < 1e-6
        for ev in v.drain_events():                     # the stream's late copies
            await eng.on_event(ev)
        assert eng.state.trades_booked == 1 and abs(float(eng.risk.fs[0]) - bal0 - net) < 1e-6
    finally:
        task.cancel()
        await v.close()


async def test_the_engines_own_flatten_is_not_called_a_broker_close(sim: Any) -> None:
    eng, v, task = await _engine(sim, _once())
    published: list[dict] = []
    eng.publish = published.append
    try:
        await _bars(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        assert await eng.flatten(reason="operator")
        await wait_for(lambda: eng.state.trades_booked == 1, what="the round trip booked")
        assert not [e for e in published if e["type"] == "Alert"
                    and str(e["alert_id"]).startswith("broker-close")]
    finally:
        task.cancel()
        await v.close()
