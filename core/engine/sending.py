"""How the engine's decisions become broker orders: write-ahead, tagged, outcome tracked.

Every order is journaled with its deterministic tag BEFORE it is sent and ends confirmed,
rejected, refused locally or *unknown* (an unknown outcome is resolved by looking the tag up,
never by sending again). While HALTED only orders that reduce risk are sent. Entries carry a
native OCO bracket, or the engine keeps the bracket itself when the account refuses native
ones (core.engine.client_oco).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.domain import Bar, OrderType, Side
from core.strategy import steps as S
from core.engine import orders as O
from core.engine.client_oco import refuses_native_brackets
from core.engine.state import sign_of
from core.errors import NonRetryableVenueError, VenueError
from core.venues.base import Bracket, OrderRequest

if TYPE_CHECKING:
    from core.engine.live import LiveEngine


def side_of(direction: int) -> Side:
    """Domain side of a direction (+1 buy, −1 sell)."""
    return Side.BUY if direction > 0 else Side.SELL


class OrderSender:
    """The engine's only way to the broker's order entry.

    Args:
        engine: The engine whose journal, book and venue it uses.
    """

    def __init__(self, engine: LiveEngine) -> None:
        self.e = engine

    async def send_entry(self, direction: int, size: int, bracket: Bracket) -> None:
        """A market entry with its bracket: native OCO (placed once, with the entry), or kept
        by the engine when the account refuses native brackets (core.engine.client_oco)."""
        e = self.e
        if not e.native_brackets:
            order = await self.send("entry", direction, OrderType.MARKET, size)
            e.oco.expect(order.tag, bracket.stop_ticks, bracket.target_ticks)
            return
        order = await self.send("entry", direction, OrderType.MARKET, size, bracket=bracket)
        if order.state == O.REJECTED and refuses_native_brackets(order.reason):
            # Nothing exists at the broker (a definite refusal, not an unknown outcome), so
            # this decision is sent again — once, as a new tagged order — with the bracket
            # kept client-side; so are all later ones.
            if e.profile.venue.brackets == "native":
                e.alert("bracket-mode", "critical", "the account refuses native brackets "
                        f"({order.reason}); venue.brackets = native: entries stay refused. "
                        "Turn on Auto OCO Brackets (TopstepX → Settings → Risk Settings) "
                        "or set venue.brackets = auto", needs_ack=True)
                return
            e.native_brackets = False
            e.alert("bracket-mode", "warning", "the account refuses native brackets "
                    "(Position Brackets mode): the engine keeps OCO brackets itself from now "
                    "on; turn on Auto OCO Brackets in TopstepX → Settings → Risk Settings for "
                    "native ones")
            await self.send_entry(direction, size, bracket)

    async def send(self, role: str, direction: int, otype: OrderType, size: int, *,
                   bracket: Bracket | None = None, stop_price: float | None = None,
                   limit_price: float | None = None,
                   parent_tag: str | None = None) -> O.TrackedOrder:
        """Journal, then send. The outcome ends confirmed, rejected or unknown (never re-sent).

        While HALTED (kill switch, operator kill, MLL…) only orders that reduce risk (exits,
        protective stops) are sent; anything else is refused locally and journaled as such.
        """
        e = self.e
        tag = e.journal.next_tag(e.run_id)
        payload = {"role": role, "side": direction, "type": otype.name.lower(), "size": size,
                   "stop_price": stop_price, "limit_price": limit_price,
                   "contract_id": e.contract.id,
                   "bracket": None if bracket is None else
                   {"stop_ticks": bracket.stop_ticks, "target_ticks": bracket.target_ticks}}
        e.journal.record_intent(tag, payload)          # write-ahead: before the send
        order = e.book.add(O.TrackedOrder(tag=tag, role=role, side=direction,
                                             type=otype.name.lower(), size=size,
                                             stop_price=stop_price, limit_price=limit_price,
                                             parent_tag=parent_tag))
        if role == "entry" and (e.guard.killed or e.risk.halted):
            e.book.refused(tag, "halted: only orders that reduce risk are sent")
            e.journal.mark(tag, "refused", reason="halted")
            self.order_event(order)
            return order
        e.book.sent(tag)
        e.journal.mark(tag, "submitted")
        self.order_event(order)
        req = OrderRequest(account_id=e.account_id, contract_id=e.contract.id,
                           side=side_of(direction), type=otype, size=size,
                           stop_price=stop_price, limit_price=limit_price, bracket=bracket,
                           tag=tag)
        try:
            res = await e.venue.place_order(req)
        except NonRetryableVenueError as exc:
            e.book.send_failed(tag, unknown=False, reason=str(exc))
            e.journal.mark(tag, "rejected", reason=str(exc))
        except (VenueError, OSError, TimeoutError) as exc:
            # The request may or may not have reached the broker: look it up by tag later.
            e.book.send_failed(tag, unknown=True, reason=str(exc))
            e.journal.mark(tag, "unknown", reason=str(exc))
        else:
            e.book.acknowledged(tag, res.order_id)
            e.journal.mark(tag, "confirmed", order_id=res.order_id)
        self.order_event(order)
        return order

    async def close_position(self, *, reason: str) -> None:
        """Market order for the whole broker position (bracket legs are cancelled on fill)."""
        e = self.e
        pos = e.state.position
        if pos == 0:
            return
        order = await self.send("exit", -int(np.sign(pos)), OrderType.MARKET, abs(pos))
        e.rt.exit_why[order.tag] = {"time stop": "time"}.get(reason, reason)
        e.state.last_exit_bar = e.state.bars

    def order_event(self, o: O.TrackedOrder) -> None:
        e = self.e
        e.publish({"type": "OrderUpdated", "ts_ns": e.clock.now_ns(), "tag": o.tag,
                      "order_id": o.order_id, "state": o.state, "side": o.side,
                      "order_type": o.type,
                      "size": o.size, "filled": o.filled, "limit_price": o.limit_price,
                      "stop_price": o.stop_price, "reason": o.reason})

    async def modify(self, order_id: int, why: str, **fields: float | int) -> bool:
        """Journal, then modify a working order (only ``fields``); True when confirmed.

        A refusal is journaled and returned as False; an unknown outcome (the request may or
        may not have arrived) is journaled as such and never repeated blind — the order's own
        next update from the broker says which it was.
        """
        return await self._mutate("modify", order_id, why, fields)

    async def cancel(self, order_id: int, why: str) -> bool:
        """Journal, then cancel a working order; True when confirmed (see :meth:`modify`)."""
        e = self.e
        if order_id in e.cancelling:
            return False                         # already on its way
        e.cancelling.add(order_id)
        ok = await self._mutate("cancel", order_id, why, {})
        if not ok:
            e.cancelling.discard(order_id)
        return ok

    async def _mutate(self, kind: str, order_id: int, why: str,
                      fields: dict[str, float | int]) -> bool:
        e = self.e
        tag = e.journal.next_tag(e.run_id)
        e.journal.record_intent(tag, {"role": kind, "order_id": order_id, "why": why,
                                      "contract_id": e.contract.id, **fields})
        try:
            if kind == "cancel":
                await e.venue.cancel_order(e.account_id, order_id)
            else:
                await e.venue.modify_order(e.account_id, order_id, **fields)
        except NonRetryableVenueError as exc:    # e.g. already filled or cancelled
            e.journal.mark(tag, "rejected", order_id=order_id, reason=str(exc))
            return False
        except (VenueError, OSError, TimeoutError) as exc:
            e.journal.mark(tag, "unknown", order_id=order_id, reason=str(exc))
            return False
        e.journal.mark(tag, "confirmed", order_id=order_id)
        return True

    async def manage_open_position(self, bar: Bar, now: int) -> None:
        """The time stop and the breakeven trail: the same strategy steps as the backtester."""
        e = self.e
        t = e.rt.open
        if not t:
            return
        entry_bar = t["entry_ns"] // e.bar_ns * e.bar_ns
        if S.time_stop_due(e.sp, entry_bar, now):
            await self.close_position(reason="time stop")
            return
        d = int(np.sign(e.state.position))
        t["best"] = max(t.get("best", bar.high), bar.high) if d > 0 else \
            min(t.get("best", bar.low), bar.low)
        for o in list(e.broker_orders.values()):
            if (o.contract_id == e.contract.id and o.stop_price is not None
                    and sign_of(o.side) == -d and str(getattr(o.status, "name", o.status)).lower()
                    in ("open", "pending")):
                new = float(S.breakeven_stop(e.sp, float(d), float(e.state.avg_price),
                                             float(t["best"]), float(o.stop_price), e.tick))
                if new != o.stop_price and not await self.modify(o.id, "breakeven",
                                                                 stop_price=new):
                    e.alert("breakeven", "warning", f"breakeven move of order {o.id} to {new} "
                            "not confirmed (the broker's next update decides)")
