"""The console attaches to an engine's control socket; keys send intents; a silent engine
shows as FROZEN. (The engine here is the control tests' stand-in, over a real socket.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from console.tui.app import ConsoleApp
from console.tui.panes import QuotesPane
from tests.unit.control_fixtures import FakeEngine, ServerThread, short_dir


async def until(pred: Callable[[], Any], pilot: Any, timeout: float = 10.0) -> None:
    """Let the app run until ``pred()`` holds (fails after ``timeout`` s)."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        await pilot.pause(0.05)


def screen_text(app: ConsoleApp) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(s.text for s in app.screen._compositor.render_strips())


async def test_keys_send_intents_and_the_status_renders() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test() as pilot:
                await until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                await pilot.press("p")
                await until(lambda: "pause" in eng.calls, pilot)
                await until(lambda: app.status.get("mode") == "PAUSED", pilot)
                await pilot.press("p")
                await until(lambda: "resume" in eng.calls, pilot)
                await pilot.press("ctrl+k")
                await until(lambda: eng.killed, pilot)
                await until(lambda: app.status.get("mode") == "HALTED", pilot)
                await pilot.press("f")
                await until(lambda: "flatten" in eng.calls, pilot)
            assert eng.calls.count("kill") == 1                      # one chord, one kill


async def test_an_engine_without_heartbeats_shows_frozen() -> None:
    with short_dir() as d:
        srv_engine = FakeEngine()
        with ServerThread(srv_engine, d / "e.sock") as srv:
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=(150, 45)) as pilot:
                await until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                await until(lambda: srv.subscribers() >= 1, pilot)
                srv.publish({"type": "Heartbeat", "ts_ns": 1, "seq": 1, "uptime_s": 1.0})
                await until(lambda: app.last_heartbeat is not None, pilot)
                await pilot.pause(0.2)
                assert "engine ♥" in screen_text(app) and "FROZEN" not in screen_text(app)
                app.last_heartbeat -= 10                              # ten silent seconds
                await pilot.pause(0.3)                                # a few frames
                assert app.is_frozen()
                assert "s without a heartbeat)" in screen_text(app)
                assert "engine FROZEN" in screen_text(app)
                # The console's own liveness is shown apart from the engine's.
                assert "console ♥" in screen_text(app)


async def test_a_frame_after_the_panes_are_gone_draws_nothing() -> None:
    """CI saw the frame timer tick once more while the app tore its screen down
    (NoMatches on QuotesPane): that last frame has nothing to draw and must not raise."""
    with short_dir() as d:
        with ServerThread(FakeEngine(), d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=(150, 45)) as pilot:
                await until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                for pane in app.query(QuotesPane):
                    await pane.remove()
                st = dict(app.status)
                st["quote"] = {"bid": 1.0, "ask": 1.25, "last": 1.0, "ts_ns": 2}
                st["last_price"] = 1.0
                app.push(st)                                  # something new to draw …
                app.frame()                                   # … and no pane: no exception
