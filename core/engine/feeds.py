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
