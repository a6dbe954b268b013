"""A real `kill -9` of the engine process mid-position, then a restart (separate processes).

The simulator runs in the test's process (it must outlive the engine). The engine runs as
`scalpdesk live --headless` in a child process against it. A position is opened behind its
back; the engine protects it; the engine is killed with SIGKILL; its stop is lost meanwhile;
a new engine process starts, finds the position and has a protective stop working — without
ever re-sending an order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core.domain import OrderType
from core.engine.live import side_of
from core.venues.base import OrderRequest
from tests.integration.topstepx.conftest import venue_for

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[3]


def _profile(tmp: Path, url: str) -> Path:
    text = (ROOT / "profiles" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('[venue]\nkind = "sim"',
                        f'[venue]\nkind = "sim"\napi_url = "{url}"\n'
                        f'user_hub_url = "{url}/hubs/user"\nmarket_hub_url = "{url}/hubs/market"')
    path = tmp / "k9.toml"
    path.write_text(text.replace('name = "demo"', 'name = "k9"'), encoding="utf-8")
    return path


def _start(profile: Path, tmp: Path) -> subprocess.Popen:
    env = {**os.environ, "SCALPDESK_HOME": str(tmp / "home"), "SCALPDESK_RUN_DIR": str(tmp / "run"),
           "TOPSTEPX_USERNAME": "sim", "TOPSTEPX_API_KEY": "sim-key"}
    return subprocess.Popen([sys.executable, "-c", "from console.cli.app import main; main()",
                             "live", "--profile", str(profile), "--headless", "--on-exit", "leave"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


async def _wait_line(proc: subprocess.Popen, needle: str, timeout: float = 90.0) -> str:
    loop = asyncio.get_running_loop()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = await loop.run_in_executor(None, proc.stdout.readline)
        if needle in line:
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"engine never printed {needle!r}")


async def _stops(v: Any, acc: int) -> list:
    return [o for o in await v.open_orders(acc) if o.stop_price is not None]


async def test_kill_9_mid_position_then_restart_protects_without_resending(sim: Any,
                                                                           tmp_path: Path) -> None:
    sim.start_feed(speed=30)
    prof = _profile(tmp_path, sim.urls.rest)
    v = venue_for(sim)
    await v.connect()
    acc = (await v.accounts())[0].id
    c = await v.active_contract("F.US.MES")
    first = _start(prof, tmp_path)
    second = None
    try:
        await _wait_line(first, "EngineStarted")
        await v.place_order(OrderRequest(account_id=acc, contract_id=c.id, side=side_of(1),
                                         type=OrderType.MARKET, size=1))
        for _ in range(200):                            # the engine protects the position
            if await _stops(v, acc):
                break
            await asyncio.sleep(0.05)
        assert await _stops(v, acc), "the first engine never protected the position"
        orders_before = len(sim.engine.orders)
        os.kill(first.pid, signal.SIGKILL)              # the crash
        first.wait(10)
        for o in await _stops(v, acc):                  # … and its stop is lost meanwhile
            await v.cancel_order(acc, o.id)
        assert not await _stops(v, acc)
        second = _start(prof, tmp_path)
        await _wait_line(second, "EngineStarted")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0 and not await _stops(v, acc):
            await asyncio.sleep(0.05)
        assert await _stops(v, acc), "no protective stop within 3 s of the restart"
        assert sum(p.signed_size for p in await v.positions(acc)) == 1
        assert len(sim.engine.orders) == orders_before + 1   # only the repair was sent
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        await v.close()
