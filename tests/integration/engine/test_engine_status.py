"""What the operator sees (`ctl status`, the console): the engine's snapshot against the
simulator — quotes, bracket legs, limit gauges, the flatten deadline, which book."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.engine.test_engine_faults import _once
from tests.integration.engine.test_engine_guard import _play
from tests.integration.engine.test_engine_sim import _engine
from tests.integration.topstepx.conftest import wait_for

pytestmark = pytest.mark.asyncio


async def test_status_shows_quote_bracket_legs_gauges_and_deadline(sim: Any) -> None:
    eng, v, task = await _engine(sim, _once())
    try:
        for _ in range(12):
            await _play(sim, eng, 4)
        await wait_for(lambda: eng.state.position != 0, what="the entry")
        await _play(sim, eng, 2)
        st = await eng.ops.status()
        q = st["quote"]
        assert q is not None and q["last"] == pytest.approx(st["last_price"])
        assert "change" in q and q["ts_ns"] > 0
        legs = {o["role"]: o for o in st["orders"]}
        # the native OCO bracket's legs: a sell stop below and a sell target above, full size
        assert {"stop", "target"} <= set(legs), st["orders"]
        assert legs["stop"]["side"] == "SELL" and legs["stop"]["size"] == st["position"]
        assert legs["stop"]["price"] < st["last_price"] < legs["target"]["price"]
        names = [g["name"] for g in st["limits"]]
        assert "daily loss" in names and "kill switch" in names
        assert all(g["limit"] > 0 for g in st["limits"])
        assert st["flatten_at_ns"] is None or st["flatten_at_ns"] > st["ts_ns"]
        assert st["loss_streak"] == 0 and st["pause_until_ns"] is None
        assert st["drops"]["quotes_coalesced"] >= 0
        assert st["model"] is None                  # a fixed signal source is not a model
    finally:
        task.cancel()
        await v.close()
