"""The live engine's plain state and the journal interface it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.domain import Side


class JournalPort(Protocol):
    """What the engine needs from the journal (core.journal.Journal implements it)."""

    def next_tag(self, run_id: str) -> str: ...
    def record_intent(self, tag: str, payload: dict[str, Any]) -> None: ...
    def mark(self, tag: str, status: str, order_id: int | None = None, reason: str = "") -> None: ...
    def save_risk(self, snapshot: dict[str, Any]) -> None: ...
    def last_risk(self) -> dict[str, Any] | None: ...


def sign_of(side: Side) -> int:
    """+1 for a buy, −1 for a sell (the neutral Side is signed)."""
    return int(Side(side))


@dataclass
class EngineState:
    """What the operator sees besides the risk status."""

    armed: bool = False
    position: int = 0                   #: signed contracts, the broker's view
    avg_price: float = 0.0
    last_price: float | None = None
    bars: int = 0
    last_exit_bar: int = -(1 << 40)
    entries_blocked: str = ""           #: non-empty: why entries are blocked (needs ack)
    trades_booked: int = 0
