"""The README's first command in a real terminal: `scalpdesk demo` in tmux, ctrl+k, HALTED and flat.

Issue 10 item 7: the console is driven through a real pseudo-terminal (tmux, fixed 200×50),
not Textual's Pilot: the key goes through the terminal, the engine runs in its own process,
and the test reads the screen as a person would (``tmux capture-pane -p``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.demo_fixtures import demo_env, demo_home  # noqa: F401 - fixture

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None,
    reason="tmux is not installed (Debian/Ubuntu: apt-get install tmux); the real-terminal "
           "demo test needs it")

ROOT = Path(__file__).resolve().parents[2]
#: A live position in the position pane (``SHORT 2 @ 4,880.25``).
IN_POSITION = re.compile(r"\b(LONG|SHORT) \d+ @ [\d,]+\.\d\d")


class Tmux:
    """One detached tmux session on a private server (never the developer's own tmux)."""

    def __init__(self, name: str) -> None:
        self.server = ["tmux", "-L", name, "-f", "/dev/null"]
        self.target = "demo"

    def run(self, *args: str) -> str:
        out = subprocess.run([*self.server, *args], capture_output=True, text=True, timeout=10)
        return out.stdout

    def start(self, command: str) -> None:
        subprocess.run([*self.server, "new-session", "-d", "-s", self.target, "-x", "200",
                        "-y", "50", command], check=True, timeout=10)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def wait(self, ok: Callable[[str], bool], timeout: float, what: str) -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if ok(text):
                return text
            time.sleep(0.25)
        raise AssertionError(f"{what} not on screen within {timeout:.0f} s; the screen:\n{text}")

    def close(self) -> None:
        subprocess.run([*self.server, "kill-server"], capture_output=True, timeout=10)


def test_demo_in_tmux_ctrl_k_kills_and_shows_halted_and_flat(demo_home: Path) -> None:  # noqa: F811
    env = demo_env(demo_home)
    # --minutes bounds the engine process even if this test dies half-way (it runs in its own
    # session, apart from tmux); the shell keeps the pane open to show the exit code.
    demo = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "console", "demo",
                                             "--minutes", "2", "--speed", "20"))
    exports = " ".join(f"{k}={shlex.quote(env[k])}" for k in
                       ("SCALPDESK_HOME", "SCALPDESK_RUN_DIR", "NUMBA_CACHE_DIR") if k in env)
    tmux = Tmux(f"scalpdesk-test-{os.getpid()}")
    # COLUMNS/LINES from the test's environment would override the pane's 200×50 size.
    tmux.start(f"cd {shlex.quote(str(ROOT))} && env -u COLUMNS -u LINES {exports} {demo}; "
               "echo DEMO-EXIT=$?; sleep 60")
    try:
        tmux.wait(lambda s: "position & orders" in s and "ACTIVE" in s, 60,
                  "the console with an ACTIVE engine")
        # Kill while the engine holds a position when it takes one soon (it does within a
        # few seconds at speed 20): then "flat" proves the kill flattened.
        try:
            before = tmux.wait(lambda s: bool(IN_POSITION.search(s)), 20, "a position")
        except AssertionError:
            before = tmux.screen()
        tmux.keys("C-k")
        # One frame can be half-painted: wait for the header, the risk and the position pane.
        after = tmux.wait(lambda s: "HALTED" in s.splitlines()[0] and "killed by the operator"
                          in s and re.search(r"\bFLAT\s+open \$0\.00", s) is not None, 10,
                          "HALTED (header and risk pane) and FLAT")
        if IN_POSITION.search(before):
            assert not IN_POSITION.search(after)
        tmux.keys("q")
        # Quitting a flat hosted engine asks nothing or offers the policy (1: flatten).
        text = tmux.wait(lambda s: "DEMO-EXIT=" in s or "flatten" in s.lower()
                         and "leave" in s.lower(), 20, "the quit dialog or the exit")
        if "DEMO-EXIT=" not in text:
            tmux.keys("1")
        text = tmux.wait(lambda s: "DEMO-EXIT=" in s, 60, "the demo's exit")
        assert "DEMO-EXIT=0" in text, text
        assert "Traceback" not in text
    finally:
        tmux.close()
        _stop_engine(demo_home)


def _stop_engine(home: Path) -> None:
    """End the engine this test's demo started if it still runs (a failed test kills tmux, and
    the engine, in its own session by design, would trade on until --minutes)."""
    log = home / "logs" / "demo-engine.log"
    pids = re.findall(r"started the engine \(pid (\d+)\)", log.read_text()) if log.is_file() \
        else []
    for pid in pids[-1:]:
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
