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

    #: The engine's clock in the stand-in (fixed: snapshots must not move): 2024-01-03
    #: 14:32:08 UTC, i.e. 09:32 ET / 08:32 CT.
    NOW_NS = 1_704_292_328_000_000_000

    def orders(self) -> list[dict[str, Any]]:
        """The working orders: the position's OCO bracket legs while it is open."""
        if not self.position:
            return []
        exit_side = "SELL" if self.position > 0 else "BUY"
        return [{"tag": "live-3", "id": 9003, "role": "stop", "side": exit_side, "type": "STOP",
                 "size": abs(self.position), "price": 4998.25, "status": "working"},
                {"tag": "live-4", "id": 9004, "role": "target", "side": exit_side,
                 "type": "LIMIT", "size": abs(self.position), "price": 5001.75,
                 "status": "working"}]

    async def status(self) -> dict[str, Any]:
        now = self.NOW_NS
        orders = self.orders()
        return {"ts_ns": now, "mode": self.mode, "reason": "operator kill" if self.killed else (
                    "operator pause" if self.mode == "PAUSED" else "ok"),
                "armed": self.armed, "killed": self.killed,
                "position": self.position, "avg_price": 5000.25 if self.position else None,
                "last_price": 5000.75, "open_pnl": 5.0 * self.position if self.position else 0.0,
                "day_pnl": -37.5, "balance": 50_000.0, "entries_blocked": "reconciliation" if any(
                    a["needs_ack"] for a in self.alerts.values()) else "",
                "alerts": list(self.alerts.values()),
                "working_orders": [o["tag"] for o in orders],
                # The fields the console renders beyond the first slice's (issue 10).
                "profile": "demo", "book": "simulator", "venue": "sim",
                "account": "50KTC-V2-SIM-1", "account_id": 1,
                "quote": {"bid": 5000.5, "ask": 5000.75, "last": 5000.75, "change": 12.25,
                          "volume": 48_213, "ts_ns": now - 400_000_000},
                "model": {"name": "mes_lgbm", "probs": [0.18, 0.31, 0.51], "confidence": 0.62,
                          "direction": 1, "signal": 1, "ts_ns": now - 8_000_000_000,
                          "latency_ms": 0.19},
                "shadow": {"name": "mes_tcn", "probs": [0.40, 0.35, 0.25], "confidence": 0.55,
                           "direction": -1, "signal": 0, "ts_ns": now - 8_000_000_000,
                           "latency_ms": 1.4},
                "orders": orders,
                "limits": [{"name": "daily loss", "limit": 1000.0, "used": 37.5},
                           {"name": "daily drawdown", "limit": 600.0, "used": 310.0},
                           {"name": "account drawdown", "limit": 2000.0, "used": 1700.0},
                           {"name": "kill switch", "limit": 1500.0, "used": 37.5},
                           {"name": "MLL", "limit": 2000.0, "used": 450.0}],
                "mll_headroom": 1550.0, "reconciled_ns": now - 12_000_000_000,
                "loss_streak": 2, "pause_until_ns": None,
                "flatten_at_ns": 1_704_316_200_000_000_000,      # 16:10 ET / 15:10 CT
                "feeds": {"user": "connected", "market": "connected"}, "feed_block": "",
                "quotes_coalesced": 1_204, "drops": {"quotes_coalesced": 1_204},
                "bars": 131, "trades": 3}

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
