"""The console attaches to an engine's control socket; keys send intents; a silent engine
shows as FROZEN. (Issue 10's first slice; the engine here is the control tests' stand-in.)"""

from __future__ import annotations

import asyncio
import time

from console.tui.app import ConsoleApp
from tests.unit.control_fixtures import FakeEngine, ServerThread, short_dir


async def _until(pred, pilot, timeout: float = 10.0) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        await pilot.pause(0.05)


async def test_keys_send_intents_and_the_status_renders() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test() as pilot:
                await _until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                await pilot.press("p")
                await _until(lambda: "pause" in eng.calls, pilot)
                await _until(lambda: app.status.get("mode") == "PAUSED", pilot)
                await pilot.press("p")
                await _until(lambda: "resume" in eng.calls, pilot)
                await pilot.press("ctrl+k")
                await _until(lambda: eng.killed, pilot)
                await _until(lambda: app.status.get("mode") == "HALTED", pilot)
                await pilot.press("f")
                await _until(lambda: "flatten" in eng.calls, pilot)
            assert eng.calls.count("kill") == 1                      # one chord, one kill


async def test_an_engine_without_heartbeats_shows_frozen() -> None:
    with short_dir() as d:
        srv_engine = FakeEngine()
        with ServerThread(srv_engine, d / "e.sock") as srv:
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test() as pilot:
                await _until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                await _until(lambda: srv.subscribers() >= 1, pilot)
                srv.publish({"type": "Heartbeat", "ts_ns": 1, "seq": 1, "uptime_s": 1.0})
                await _until(lambda: app.last_heartbeat is not None, pilot)
                app.last_heartbeat -= 10                              # ten silent seconds
                app._render_heartbeat()
                assert "FROZEN" in app.title
