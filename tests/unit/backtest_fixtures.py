"""Helpers shared by the risk/backtest tests: profiles with adjusted numbers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.config import Profile, load_profile


def profile(name: str = "account_1k", *, risk: dict[str, Any] | None = None,
            strategy: dict[str, Any] | None = None, costs: dict[str, Any] | None = None,
            topstep: dict[str, Any] | None = None, schedule: dict[str, Any] | None = None) -> Profile:
    """A shipped profile with some settings replaced (frozen dataclasses → ``replace``)."""
    p = load_profile(name)
    if risk:
        p = replace(p, risk=replace(p.risk, **risk))
    if strategy:
        p = replace(p, strategy=replace(p.strategy, **strategy))
    if costs:
        p = replace(p, costs=replace(p.costs, **costs))
    if topstep:
        p = replace(p, topstep=replace(p.topstep, **topstep))
    if schedule:
        p = replace(p, schedule=replace(p.schedule, **schedule))
    return p


#: Limits so wide that no risk rule interferes (for tests about fills and costs).
LOOSE = dict(max_daily_loss=1e9, max_daily_drawdown=1e9, account_drawdown_stop=1e9,
             kill_switch_loss=1e9, min_balance=0.0, loss_pauses=(), max_risk_per_trade=1e9,
             volatility_breaker_multiple=1e9, volume_floor_ratio=0.0)
