"""Feed hygiene: coalesce bursts of quotes (latest wins per contract), never drop anything else.

When the engine falls behind a burst, only the newest quote per contract matters for marks
and the display; prints (they build the bars), order, fill, position, account and connection
events are never dropped and keep their order. The number of quotes coalesced away is
counted and shown in the engine status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.venues.base import QuoteEvent


def coalesce(events: Iterable[Any]) -> tuple[list[Any], int]:
    """(events with only the last quote of each contract kept in place, quotes dropped).

    A quote is kept at the position of its contract's LAST quote in the burst, so it still
    follows every print that came before it.
    """
    evs = list(events)
    last: dict[str, int] = {}
    for i, ev in enumerate(evs):
        if isinstance(ev, QuoteEvent):
            last[ev.quote.contract_id] = i
    out = [ev for i, ev in enumerate(evs)
           if not isinstance(ev, QuoteEvent) or last[ev.quote.contract_id] == i]
    return out, len(evs) - len(out)


class QuoteBoard(dict):
    """The latest top of book for the operator: bid, ask, last, session volume, and the change
    against the trading day's first price. Sparse updates keep the last known fields."""

    def __init__(self) -> None:
        super().__init__()
        self._day = -1
        self._open: float | None = None

    def apply(self, q: Any, trading_day: int) -> None:
        """Apply one quote (``trading_day``: its trading day, from the risk kernel)."""
        for k in ("bid", "ask", "last", "volume"):
            v = getattr(q, k)
            if v is not None:
                self[k] = float(v)
        self["ts_ns"] = int(q.ts)
        last = self.get("last")
        if trading_day != self._day and last is not None:
            self._day, self._open = trading_day, last
        if self._open is not None and last is not None:
            self["change"] = last - self._open
