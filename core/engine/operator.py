"""The operator's intents as engine calls: what `scalpdesk ctl` and the console send.

:class:`Operator` is the control socket's target (core.control.server.ControlTarget): status,
pause, resume, arm, disarm, kill, re-arm and acknowledge. Every intent goes through the risk
kernel's state machine (core.risk.RiskKernel) or the guard, so a journal replay applies it the
same way; none of them can place an entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.engine.live import LiveEngine


class Operator:
    """Operator intents for one :class:`LiveEngine` (the control socket's target)."""

    def __init__(self, engine: LiveEngine) -> None:
        self.e = engine

    async def flatten(self) -> dict[str, Any]:
        """Cancel every working order and close the position (verified through REST)."""
        await self.e.flatten(reason="operator")
        return await self.status()

    async def status(self) -> dict[str, Any]:
        """What `scalpdesk ctl status` and the console show (core.engine.snapshot)."""
        from core.engine.snapshot import status_of

        return status_of(self.e)

    async def pause(self) -> dict[str, Any]:
        self.e.risk.pause()
        self.e.publish_risk("operator pause")
        return await self.status()

    async def resume(self) -> dict[str, Any]:
        self.e.risk.resume()
        self.e.publish_risk("operator resume")
        return await self.status()

    async def arm(self) -> dict[str, Any]:
        if self.e.guard.killed:
            self.e.alert("arm-refused", "warning", "armed refused: the engine was killed; "
                       "re-arm after a kill is a separate, explicit step (`ctl rearm`)")
            return await self.status()
        self.e.state.armed = True
        return await self.status()

    async def disarm(self) -> dict[str, Any]:
        self.e.state.armed = False
        return await self.status()

    async def kill(self) -> dict[str, Any]:
        await self.e.guard.kill()
        return await self.status()

    async def rearm(self) -> dict[str, Any]:
        """Lift an operator kill (never a limit halt); entries stay disarmed until `arm`."""
        if self.e.risk.rearm():
            self.e.guard.killed = False
            self.e.publish_risk("re-armed by the operator")
        return await self.status()

    async def ack(self, alert_id: str | None = None) -> dict[str, Any]:
        """Acknowledge one alert (or all): unblocks entries blocked by a reconciliation."""
        for k in [alert_id] if alert_id else list(self.e.alerts):
            self.e.alerts.pop(k, None)
        if not any(a["needs_ack"] for a in self.e.alerts.values()):
            self.e.state.entries_blocked = ""
        return await self.status()

    async def stop(self, on_exit: str | None = None) -> dict[str, Any]:
        """Stop the engine the way the operator says: ``flatten`` (cancel orders, close the
        position, verified) or ``leave`` (positions stay under their brackets); default the
        profile's shutdown policy. The engine then writes its session report and exits."""
        from core.errors import ConfigError

        if on_exit not in (None, "flatten", "leave"):
            raise ConfigError(f"stop: on_exit {on_exit!r} is not flatten or leave",
                              hint="use on_exit flatten or leave")
        if on_exit is not None:
            self.e.shutdown_policy = on_exit
        if self.e.on_stop is not None:
            self.e.on_stop()
        return {**(await self.status()), "stopping": True,
                "on_exit": self.e.shutdown_policy}
