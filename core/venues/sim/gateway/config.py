"""Settings and runtime-switchable faults of the simulated gateway.

Defaults are documented here (and printed by ``scalpdesk sim run``): user ``sim``, API key
``sim-key`` — point ``TOPSTEPX_USERNAME``/``TOPSTEPX_API_KEY`` at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from core.errors import ConfigError
from core.venues.sim.models import BracketMode

USER_SHAPES = ("documented", "wrapped")


@dataclass(slots=True)
class AccountConfig:
    """One simulated account. ``kind`` "combine" gets the Topstep rules, "xfa" starts at $0."""

    name: str = "50KTC-V2-SIM-1"
    balance: float = 50_000.0
    kind: str = "combine"  # combine | xfa | practice (practice: no Topstep rules)
    can_trade: bool = True
    simulated: bool = True
    bracket_mode: BracketMode = BracketMode.AUTO_OCO
    account_size: int = 50_000
    #: Optional purchased Daily Loss Limit in dollars (None: none, the Topstep default).
    daily_loss_limit: float | None = None


@dataclass(slots=True)
class GatewayConfig:
    """Static settings of a :class:`SimGateway` (see topstepx-gateway.md §11)."""

    username: str = "sim"
    api_key: str = "sim-key"
    token_lifetime_s: float = 86_400.0
    rest_limit: tuple[int, float] = (200, 60.0)
    bars_limit: tuple[int, float] = (50, 30.0)
    retry_after: bool = False
    keepalive_s: float = 15.0
    #: Close a hub connection after this long without any client message (None: never).
    client_timeout_s: float | None = 30.0
    timestamp_digits: int = 7
    sparse_quotes: bool = True
    depth_levels: int = 10
    #: Completion result of Subscribe*/Unsubscribe* invokes (§7.2: true or null).
    subscribe_result: Any = None
    accounts: list[AccountConfig] = field(default_factory=lambda: [AccountConfig()])
    symbol: str = "MES"


@dataclass(slots=True)
class Faults:
    """Faults of the wire; change at runtime with ``SimGateway.set_faults`` or POST /_sim/faults.

    Attributes:
        user_shape: ``"documented"`` bare models (default) or ``"wrapped"`` ``[{action,data}]``.
        market_shape: ``"documented"`` (GatewayTrade data is one object) or ``"wrapped"``
            (GatewayTrade data is a list, as observed live). GatewayDepth is always a list.
        stall_market: Market hub stays open but sends no events (§7.5 silent stall).
        stall_user: Same for the user hub.
        pings_during_stall: Whether server pings continue during a stall (both happen).
        dup_prob: Probability that a hub event is sent twice.
        reorder_prob: Probability that a hub event is held back behind the next one.
        loss_prob: Probability that a hub event is silently lost.
        seed: Seed of the fault RNG (deterministic tests).
        rest_5xx_rate: Probability that a REST call answers 503 (before doing anything).
        rest_delay_ms: Extra latency of every REST response.
        timeout_after_accept: The next N mutations (place/modify/cancel/close) are executed
            but their HTTP response is delayed by ``timeout_delay_s`` or dropped.
        timeout_mode: ``"delay"`` or ``"drop"`` (connection closed without a response).
        timeout_delay_s: Delay used by ``"delay"``.
        depth_nulls: Put a ``null`` item into every GatewayDepth list (seen live, §7.5).
        early_subscribe_false_s: Subscribe* invokes within this many seconds of the handshake
            complete with ``false`` and subscribe nothing (the race of §7.5 / issue #126).
        reject_closes: The next N position closes (``Position/closeContract`` and partial
            closes) are rejected the way the live gateway rejects a close while the market is
            closed: ``success=false`` with the close-rejected code and a null message (§4.9).
    """

    user_shape: str = "documented"
    market_shape: str = "documented"
    stall_market: bool = False
    stall_user: bool = False
    pings_during_stall: bool = True
    dup_prob: float = 0.0
    reorder_prob: float = 0.0
    loss_prob: float = 0.0
    seed: int = 0
    rest_5xx_rate: float = 0.0
    rest_delay_ms: float = 0.0
    timeout_after_accept: int = 0
    timeout_mode: str = "delay"
    timeout_delay_s: float = 15.0
    depth_nulls: bool = False
    early_subscribe_false_s: float = 0.0
    reject_closes: int = 0

    def update(self, **changes: Any) -> None:
        """Set fields by name, with type checks.

        Raises:
            ConfigError: Unknown field or a value of the wrong kind.
        """
        names = {f.name: f for f in fields(self)}
        problems = []
        for k, v in changes.items():
            if k not in names:
                problems.append(f"unknown fault {k!r} (known: {', '.join(sorted(names))})")
                continue
            cur = getattr(self, k)
            try:
                v = type(cur)(v) if not isinstance(cur, bool) else _as_bool(v)
            except (TypeError, ValueError):
                problems.append(f"{k}: {v!r} is not a {type(cur).__name__}")
                continue
            if k in ("user_shape", "market_shape") and v not in USER_SHAPES:
                problems.append(f"{k}: {v!r} must be one of {USER_SHAPES}")
                continue
            if k == "timeout_mode" and v not in ("delay", "drop"):
                problems.append(f"timeout_mode: {v!r} must be 'delay' or 'drop'")
                continue
            setattr(self, k, v)
        if problems:
            raise ConfigError("bad simulator faults", problems=problems,
                              hint="see core.venues.sim.gateway.config.Faults for the fields")


def _as_bool(v: Any) -> bool:
    if isinstance(v, str):
        if v.lower() in ("1", "true", "yes", "on"):
            return True
        if v.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(v)
    return bool(v)
