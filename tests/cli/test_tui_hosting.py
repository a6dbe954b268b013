"""The console on a REAL engine: `live --headless` in its own process against the local
simulator (no model, so it trades nothing), started by the console's host. Attach shows its
state, ctrl+k kills and latches it, quitting the console never stops it, and the host's
quit answer stops it. (~15 s: one engine process.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.tui.app import ConsoleApp
from console.tui.host import HostError, finish, start_engine
from tests.cli.test_tui_console import screen_text, until
from tests.unit.control_fixtures import short_dir


async def test_attach_shows_a_headless_engine_kill_latches_and_quit_leaves_it_running(
        tmp_path: Path) -> None:
    with short_dir() as d:
        env = {**os.environ, "SCALPDESK_HOME": str(tmp_path / "home"),
               "SCALPDESK_RUN_DIR": str(d / "run")}
        sock, log = d / "run" / "demo.sock", tmp_path / "engine.log"
        proc = start_engine(["--profile", "demo", "--speed", "40"], sock, log, env=env)
        try:
            app = ConsoleApp(sock, poll_s=0.2)
            async with app.run_test(size=(150, 45)) as pilot:
                await until(lambda: (app.status.get("bars") or 0) >= 1
                            and app.last_heartbeat is not None, pilot, timeout=60)
                await pilot.pause(0.3)
                text = screen_text(app)
                assert "SIMULATOR" in text and " demo " in text and "engine ♥" in text
                assert "market" in text and "ACTIVE" in text
                await pilot.press("ctrl+k")
                await until(lambda: app.status.get("mode") == "HALTED", pilot, timeout=30)
                assert app.status.get("killed") and app.status.get("position") == 0
                await pilot.pause(0.3)
                assert "KILLED" in screen_text(app) and "FLAT" in screen_text(app)
                await pilot.press("q")                           # attached: just leaves
            assert app.return_value is None
            assert proc.poll() is None                           # the engine keeps running
            with pytest.raises(HostError, match="already runs"):  # one engine per socket
                start_engine(["--profile", "demo"], sock, log, env=env)
            said: list[str] = []
            assert finish("leave", proc, sock, log, said.append) == 0
            assert proc.poll() is not None
            assert "console: quit: leave; stopping the engine" in log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
