"""The engine flattens by its own end-of-day schedule on DST-change days — before Topstep's
15:10 CT hard deadline (which the simulator's Topstep layer enforces by itself)."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from core.venues.sim.gateway.config import GatewayConfig
from core.venues.sim.gateway.server import SimGateway
from tests.integration.engine.test_engine_sim import _engine
from tests.integration.topstepx.conftest import make_bars, wait_for
from tests.unit.backtest_fixtures import LOOSE, profile

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("day", ["2024-03-11", "2024-11-04"])     # first sessions after DST
async def test_position_is_flat_by_the_schedule_across_dst(day: str) -> None:
    start = pd.Timestamp(f"{day} 14:40", tz="America/Chicago").value
    exit_at = pd.Timestamp(f"{day} 15:03", tz="America/Chicago").value
    flat_at = pd.Timestamp(f"{day} 15:05", tz="America/Chicago").value
    gw = SimGateway(make_bars(n=40, start_ns=start),
                    config=GatewayConfig(rest_limit=(100_000, 60.0), bars_limit=(100_000, 30.0)))
    await gw.start()
    gw.replay.step(4)
    n = {"k": 0}

    def once(bar) -> tuple[int, float]:  # noqa: ANN001
        n["k"] += 1
        return (1, 0.75) if n["k"] == 2 else (0, 0.0)

    prof = profile("topstep_50k_combine",
                   risk={**LOOSE, "starting_balance": 50_000.0, "min_balance": 0.0},
                   strategy=dict(time_stop_minutes=None, stop_ticks=60, target_ticks=60))
    eng, v, task = await _engine(gw, once, prof)
    flat_seen = None
    try:
        while not gw.replay.done:
            gw.replay.step(1)
            await asyncio.sleep(0.01)
            await eng.on_time()
            now = gw.engine.clock.now_ns()
            if eng.state.position == 0 and eng.state.trades_booked and flat_seen is None:
                flat_seen = now
        await wait_for(lambda: eng.state.trades_booked >= 1, what="the trade")
        assert flat_seen is not None and exit_at <= flat_seen <= flat_at
        assert eng.trades[0]["exit_reason"] == "flatten"
    finally:
        task.cancel()
        await v.close()
        await gw.stop()
