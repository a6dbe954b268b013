"""The live engine against the simulator (the unchanged TopstepX client over loopback)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.engine.live import LiveEngine
from tests.integration.topstepx.conftest import venue_for, wait_for
from tests.unit.backtest_fixtures import LOOSE, profile

pytestmark = pytest.mark.asyncio


class ListJournal:
    """A small in-memory journal with the engine's journal interface (records call order)."""

    def __init__(self) -> None:
        self.seq = 0
        self.calls: list[tuple[str, str, str]] = []
        self.risk: dict | None = None

    def next_tag(self, run_id: str) -> str:
        self.seq += 1
        return f"{run_id}-{self.seq}"

    def record_intent(self, tag: str, payload: dict) -> None:
        self.calls.append(("intent", tag, payload["role"]))

    def mark(self, tag: str, status: str, order_id: int | None = None, reason: str = "") -> None:
        self.calls.append(("mark", tag, status))

    def save_risk(self, snapshot: dict) -> None:
        self.risk = snapshot

    def last_risk(self) -> dict | None:
        return self.risk


async def _engine(sim: Any, signal, prof=None) -> tuple[LiveEngine, Any, asyncio.Task]:  # noqa: ANN001
    v = venue_for(sim)
    await v.connect()
    acc = (await v.accounts())[0]
    await v.watch_account(acc.id)
    c = await v.active_contract("F.US.MES")
    await v.subscribe_quotes(c.id)
    await v.subscribe_trades(c.id)
    prof = prof or profile("demo", risk=LOOSE)
    eng = LiveEngine(profile=prof, venue=v, journal=ListJournal(), clock=sim.engine.clock,
                     account_id=acc.id, contract=c, signal=signal, bar_seconds=60, run_id="t1",
                     armed=True)

    async def pump() -> None:
        async for ev in v.events():
            await eng.on_event(ev)
    return eng, v, asyncio.create_task(pump())


async def test_entry_with_native_bracket_then_exit_books_one_trade(sim: Any) -> None:
    calls = {"n": 0}

    def signal(bar) -> tuple[int, float]:  # noqa: ANN001
        calls["n"] += 1
        return (1, 0.75) if calls["n"] == 2 else (0, 0.0)

    eng, v, task = await _engine(sim, signal)
    try:
        for _ in range(40):                       # ten bars, four points each
            sim.replay.step(4)
            await asyncio.sleep(0.02)
            await eng.on_time()
        await wait_for(lambda: eng.state.position != 0 or eng.state.trades_booked > 0,
                       what="the entry to fill")
        # write-ahead: the entry's intent was journaled before anything else happened to it
        first = [c for c in eng.journal.calls if c[1] == "t1-1"]
        assert first[0] == ("intent", "t1-1", "entry") and ("mark", "t1-1", "confirmed") in first
        entry = eng.book.get("t1-1")
        assert entry is not None and entry.order_id is not None
        if eng.state.position:
            orders = await v.open_orders(eng.account_id)
            assert any(o.stop_price is not None for o in orders)  # the native stop leg works
        await eng.flatten(reason="test end")
        await wait_for(lambda: eng.state.position == 0 and eng.state.trades_booked == 1,
                       what="flat with the trade booked")
        assert eng.risk.ist[0] >= 0 and eng.journal.risk is not None
    finally:
        task.cancel()
        await v.close()
