"""A small real engine stand-in for the control socket, and a server on a background loop."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.control import ControlError, ControlServer


class FakeEngine:
    """Implements the ControlTarget methods over a little state machine (no mocks)."""

    def __init__(self) -> None:
        self.mode = "ACTIVE"
        self.armed = False
        self.killed = False
        self.position = 2
        self.alerts: dict[str, dict[str, Any]] = {
            "recon-1": {"alert_id": "recon-1", "level": "critical", "needs_ack": True,
                        "message": "broker position differs from the journal"},
            "feed-2": {"alert_id": "feed-2", "level": "warning", "needs_ack": False,
                       "message": "market hub stale"}}
        self.calls: list[str] = []

    async def status(self) -> dict[str, Any]:
        return {"mode": self.mode, "armed": self.armed, "killed": self.killed,
                "position": self.position, "avg_price": 5000.25, "day_pnl": -37.5,
                "balance": 50_000.0, "entries_blocked": "reconciliation" if any(
                    a["needs_ack"] for a in self.alerts.values()) else "",
                "alerts": list(self.alerts.values()), "working_orders": ["live-3"]}

    async def _did(self, name: str) -> dict[str, Any]:
        self.calls.append(name)
        return await self.status()

    async def pause(self) -> dict[str, Any]:
        self.mode = "PAUSED"
        return await self._did("pause")

    async def resume(self) -> dict[str, Any]:
        self.mode = "ACTIVE"
        return await self._did("resume")

    async def flatten(self) -> dict[str, Any]:
        self.position = 0
        return await self._did("flatten")

    async def kill(self) -> dict[str, Any]:
        self.killed, self.mode, self.armed, self.position = True, "HALTED", False, 0
        return await self._did("kill")

    async def rearm(self) -> dict[str, Any]:
        self.killed, self.mode = False, "ACTIVE"
        return await self._did("rearm")

    async def arm(self) -> dict[str, Any]:
        if self.killed:
            raise ControlError("arm refused: the engine was killed",
                               hint="re-arm after a kill is explicit: `scalpdesk ctl rearm`")
        self.armed = True
        return await self._did("arm")

    async def disarm(self) -> dict[str, Any]:
        self.armed = False
        return await self._did("disarm")

    async def ack(self, alert_id: str | None = None) -> dict[str, Any]:
        if alert_id is not None and alert_id not in self.alerts:
            raise ControlError(f"no alert {alert_id}", hint="`scalpdesk ctl status` lists them")
        for k in [alert_id] if alert_id else list(self.alerts):
            self.alerts.pop(k)
        return await self._did(f"ack:{alert_id}")


@contextlib.contextmanager
def short_dir() -> Iterator[Path]:
    """A short temporary directory (AF_UNIX paths must stay under 108 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="sd-", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class ServerThread:
    """A ControlServer on its own event loop in a daemon thread (for blocking clients)."""

    def __init__(self, target: Any, path: Path) -> None:
        self.target = target
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.server: ControlServer | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        self.server = ControlServer(self.target, self.path)
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def publish(self, *events: Any) -> None:
        """Publish from the engine's loop, as the engine would (waits until handed over)."""
        async def go() -> None:
            for ev in events:
                self.server.publish(ev)  # type: ignore[union-attr]
        asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)

    def subscribers(self) -> int:
        return self.server.stats()["subscribers"]  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)  # type: ignore[union-attr]
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
