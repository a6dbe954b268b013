"""Client-side OCO brackets, for accounts whose bracket mode forbids native ones.

TopstepX accounts start in "Position Brackets" mode, where an order carrying
``stopLossBracket``/``takeProfitBracket`` is refused (gateway spec §5.2). The engine then keeps
the bracket itself, with the same levels a native bracket would have (ticks from the entry's
average fill, from core.strategy's bracket step):

* the entry's first fill places a stop and a limit target for the filled size; later entry
  fills grow both legs (partial fills resize the legs);
* a leg's (partial) fill shrinks the other leg to the position left; flat cancels both;
* every change is an order of the engine's own (journaled, tagged, idempotent), so the
  protection invariant (core.engine.guard) sees the stop leg like any other stop.

The gap between one leg filling and the other being cancelled cannot be closed on the client
(native OCO is atomic at the broker): it is one event-loop turn after the fill event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain import OrderType

if TYPE_CHECKING:
    from core.engine.live import LiveEngine


def refuses_native_brackets(message: str) -> bool:
    """Whether a rejection says the account's bracket mode forbids native brackets."""
    m = message.lower()
    return "bracket" in m and ("position bracket" in m or "auto oco" in m or "not allowed" in m
                               or "can't" in m or "cannot" in m)


class ClientBrackets:
    """The client-side OCO bracket of the engine's position.

    Args:
        engine: The engine whose orders and fills it follows.
    """

    def __init__(self, engine: LiveEngine) -> None:
        self.e = engine
        self.ticks: tuple[int, int] | None = None     #: (stop, target) ticks of the open trade
        self.pending: dict[str, tuple[int, int]] = {}  #: entry tag → its bracket's ticks

    def expect(self, entry_tag: str, stop_ticks: int, target_ticks: int) -> None:
        """An entry was sent without a native bracket: keep its bracket for its fills."""
        self.pending[entry_tag] = (int(stop_ticks), int(target_ticks))

    async def sync(self, filled_tag: str | None = None) -> None:
        """Bring the legs in line with the position our fills imply (call after every fill)."""
        e = self.e
        if filled_tag is not None and filled_tag in self.pending:
            self.ticks = self.pending.pop(filled_tag)
        pos = e.rt.position
        stops = e.book.live(("stop",))
        targets = e.book.live(("target",))
        if pos == 0:
            self.ticks = None
            for o in stops + targets:
                await self._cancel(o)
            return
        if self.ticks is None:
            return                          # not a client-bracketed trade (native or adopted)
        opening = e.rt.open.get("opening") or []
        n = sum(q for q, _ in opening)
        if not n:
            return
        avg = sum(q * px for q, px in opening) / n
        d = 1 if pos > 0 else -1
        want = abs(pos)
        stop_px = round((avg - d * self.ticks[0] * e.tick) / e.tick) * e.tick
        target_px = round((avg + d * self.ticks[1] * e.tick) / e.tick) * e.tick
        for role, legs, otype, px in (("stop", stops, OrderType.STOP, stop_px),
                                      ("target", targets, OrderType.LIMIT, target_px)):
            if not legs:
                await e.sender.send(role, -d, otype, want,
                              stop_price=px if otype == OrderType.STOP else None,
                              limit_price=px if otype == OrderType.LIMIT else None)
                continue
            leg = legs[0]
            if leg.order_id is None or leg.state != "working":
                continue                    # in flight: the next fill or cycle resizes it
            if leg.size - leg.filled != want:
                if await e.sender.modify(leg.order_id, f"client bracket {role} resize",
                                         size=leg.filled + want):
                    leg.size = leg.filled + want
                else:
                    e.alert("bracket-resize", "warning",
                            f"client bracket {role} resize to {want} not confirmed")

    async def _cancel(self, o: object) -> None:
        oid = getattr(o, "order_id", None)
        if oid is not None:                  # a refusal (already filled/cancelled): the stream says
            await self.e.sender.cancel(oid, "client bracket: flat")
