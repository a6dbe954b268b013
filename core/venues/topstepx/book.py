"""Market depth book built from GatewayDepth rows: Reset → snapshot → increments (§7.5)."""

from __future__ import annotations

from core.venues.base import DepthEvent, DepthLevel
from core.venues.topstepx import schemas as s

_BID_TYPES = (s.DOM_BID, s.DOM_BEST_BID, s.DOM_NEW_BEST_BID)
_ASK_TYPES = (s.DOM_ASK, s.DOM_BEST_ASK, s.DOM_NEW_BEST_ASK)


class DepthBook:
    """Price → resting size per side for one contract.

    A Reset row clears the book (it starts every subscription and may come again); a size of
    0 removes a level. Trade/Low/High/Fill rows do not change resting sizes.
    """

    def __init__(self, contract_id: str, levels: int = 10) -> None:
        self.contract_id = contract_id
        self.levels = levels
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.ts = 0

    def apply(self, rows: list[tuple[int, float, float, int]]) -> DepthEvent:
        """Apply ``(type, price, volume, ts)`` rows and return the resulting top levels."""
        reset = False
        for kind, price, volume, ts in rows:
            self.ts = max(self.ts, ts)
            if kind == s.DOM_RESET:
                self.bids.clear()
                self.asks.clear()
                reset = True
                continue
            side = self.bids if kind in _BID_TYPES else self.asks if kind in _ASK_TYPES else None
            if side is None:
                continue
            if volume <= 0:
                side.pop(price, None)
            else:
                side[price] = volume
        bids = tuple(DepthLevel(p, self.bids[p], s.DOM_BID)
                     for p in sorted(self.bids, reverse=True)[: self.levels])
        asks = tuple(DepthLevel(p, self.asks[p], s.DOM_ASK) for p in sorted(self.asks)[: self.levels])
        return DepthEvent(ts=self.ts, contract_id=self.contract_id, bids=bids, asks=asks,
                          reset=reset)
