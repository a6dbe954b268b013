"""The order state machine: every order the engine wants, from intent to a final state.

One machine for every order (entry, bracket legs, protective stops, flattens). States:

* ``intent``  — journaled (write-ahead), not sent yet;
* ``submitted`` — sent, no answer yet (in flight);
* ``working`` — the broker has it (open, pending or a suspended bracket leg);
* ``pending_update`` / ``pending_cancel`` — a modify / cancel is in flight;
* ``unknown`` — the send's outcome is unknown (timeout, dropped connection). An unknown order
  is NEVER re-sent: it is resolved by looking its tag up at the broker, or by an arriving
  acknowledgement (which also cancels any pending retry);
* final: ``filled``, ``cancelled``, ``rejected`` (by the broker), ``refused`` (locally, never
  sent), ``expired``.

Broker events apply idempotently: an order update is keyed by (order id, update time) and a
fill by its id, so duplicated or replayed events change nothing; an update older than what the
machine already holds (a REST snapshot arriving after newer stream events) never overwrites it.
The machine is venue-neutral: broker statuses are mapped by name (:func:`state_of_status`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

INTENT, SUBMITTED, WORKING = "intent", "submitted", "working"
PENDING_UPDATE, PENDING_CANCEL, UNKNOWN = "pending_update", "pending_cancel", "unknown"
FILLED, CANCELLED, REJECTED, REFUSED, EXPIRED = "filled", "cancelled", "rejected", "refused", "expired"
FINAL = frozenset({FILLED, CANCELLED, REJECTED, REFUSED, EXPIRED})
IN_FLIGHT = frozenset({SUBMITTED, PENDING_UPDATE, PENDING_CANCEL, UNKNOWN})

#: Broker status names (any casing / spelling seen) → machine state.
_STATUS = {
    "open": WORKING, "working": WORKING, "pending": WORKING, "suspended": WORKING,
    "pending_cancel": PENDING_CANCEL, "pending_cancellation": PENDING_CANCEL,
    "pendingcancellation": PENDING_CANCEL,
    "filled": FILLED, "cancelled": CANCELLED, "canceled": CANCELLED, "expired": EXPIRED,
    "rejected": REJECTED,
}


def state_of_status(status: Any) -> str | None:
    """Machine state of a broker status (an enum member or a name); None if not mappable."""
    name = getattr(status, "name", None) or getattr(status, "value", None) or str(status)
    return _STATUS.get(str(name).lower())


@dataclass
class TrackedOrder:
    """One order as the engine tracks it.

    Attributes:
        tag: Deterministic client tag (run id + sequence), journaled before sending.
        role: ``entry``, ``stop``, ``target``, ``protect`` (a repair stop) or ``flatten``.
        side: +1 buy, -1 sell.
        size: Requested size; ``filled`` of it so far.
        order_id: The broker's id once known.
        broker_ts: Update time of the newest broker event applied (stale events are ignored).
        suspended: A bracket leg the broker holds until its entry fills.
    """

    tag: str
    role: str
    side: int
    type: str
    size: int
    state: str = INTENT
    filled: int = 0
    avg_fill_price: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    order_id: int | None = None
    parent_tag: str | None = None
    broker_ts: int = -1
    suspended: bool = False
    reason: str = ""
    history: list[str] = field(default_factory=list)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    @property
    def is_live(self) -> bool:
        """Could still fill or is still held by the broker (working or in flight)."""
        return self.state in (WORKING, SUBMITTED, PENDING_UPDATE, PENDING_CANCEL, UNKNOWN)


class OrderBook:
    """All tracked orders of one engine run, and the idempotent transitions between states."""

    def __init__(self) -> None:
        self.orders: dict[str, TrackedOrder] = {}
        self._by_id: dict[int, str] = {}
        self._seen_updates: set[tuple[int, int, str]] = set()
        self._seen_fills: set[int] = set()
        self.duplicates = 0           #: broker events ignored as already applied
        self.stale = 0                #: broker events ignored as older than the state held

    # ------------------------------------------------------------------ lookups
    def get(self, tag: str) -> TrackedOrder | None:
        return self.orders.get(tag)

    def by_order_id(self, order_id: int) -> TrackedOrder | None:
        tag = self._by_id.get(int(order_id))
        return None if tag is None else self.orders.get(tag)

    def live(self, roles: Iterable[str] | None = None) -> list[TrackedOrder]:
        """Orders that are working or in flight, optionally of some roles."""
        rs = None if roles is None else set(roles)
        return [o for o in self.orders.values() if o.is_live and (rs is None or o.role in rs)]

    def unresolved(self) -> list[TrackedOrder]:
        """Orders whose send outcome is unknown: look them up by tag, never re-send."""
        return [o for o in self.orders.values() if o.state == UNKNOWN]

    # ------------------------------------------------------------------ local transitions
    def add(self, order: TrackedOrder) -> TrackedOrder:
        """Track a journaled intent (state ``intent``)."""
        if order.tag in self.orders:
            raise ValueError(f"order tag {order.tag!r} is already tracked")
        self.orders[order.tag] = order
        order.history.append(order.state)
        return order

    def _to(self, o: TrackedOrder, state: str, reason: str = "") -> None:
        if o.state != state:
            o.state = state
            o.history.append(state)
        if reason:
            o.reason = reason

    def sent(self, tag: str) -> None:
        """The request left the process (outcome pending)."""
        o = self.orders[tag]
        if o.state == INTENT:
            self._to(o, SUBMITTED)

    def acknowledged(self, tag: str, order_id: int) -> None:
        """The broker answered with an id: the order exists there (also resolves an unknown)."""
        o = self.orders[tag]
        self._link(o, order_id)
        if o.state in (INTENT, SUBMITTED, UNKNOWN):
            self._to(o, WORKING)

    def send_failed(self, tag: str, *, unknown: bool, reason: str) -> None:
        """The send raised: a definite rejection, or an unknown outcome (never retried blind)."""
        o = self.orders[tag]
        if o.is_final or o.state == WORKING:
            return                      # an acknowledgement/event already settled it
        self._to(o, UNKNOWN if unknown else REJECTED, reason)

    def refused(self, tag: str, reason: str) -> None:
        """Refused locally (risk kernel, kill switch, invariant): never sent."""
        self._to(self.orders[tag], REFUSED, reason)

    def resolved_missing(self, tag: str) -> None:
        """A lookup by tag found no such order at the broker: the send never arrived."""
        o = self.orders[tag]
        if o.state == UNKNOWN:
            self._to(o, REJECTED, "not found at the broker after an unknown outcome")

    def cancel_requested(self, tag: str) -> None:
        o = self.orders[tag]
        if not o.is_final:
            self._to(o, PENDING_CANCEL)

    def modify_requested(self, tag: str) -> None:
        o = self.orders[tag]
        if not o.is_final:
            self._to(o, PENDING_UPDATE)

    def modify_done(self, tag: str) -> None:
        o = self.orders[tag]
        if o.state == PENDING_UPDATE:
            self._to(o, WORKING)

    # ------------------------------------------------------------------ broker events
    def _link(self, o: TrackedOrder, order_id: int) -> None:
        if order_id is not None:
            o.order_id = int(order_id)
            self._by_id[int(order_id)] = o.tag

    def apply_order(self, *, order_id: int, status: Any, updated_ts: int, tag: str | None = None,
                    size: int | None = None, filled: int | None = None,
                    fill_price: float | None = None, limit_price: float | None = None,
                    stop_price: float | None = None) -> TrackedOrder | None:
        """Apply one broker order update (stream or REST); returns the order if it is ours.

        Idempotent on (order id, update time, status); an update older than the newest one
        applied is ignored (a REST snapshot never overwrites newer stream state).
        """
        key = (int(order_id), int(updated_ts), str(getattr(status, "name", status)))
        if key in self._seen_updates:
            self.duplicates += 1
            return self.by_order_id(order_id)
        o = self.by_order_id(order_id)
        if o is None and tag is not None and tag in self.orders:
            o = self.orders[tag]
            self._link(o, order_id)
        if o is None:
            return None
        if updated_ts < o.broker_ts:
            self.stale += 1
            return o
        self._seen_updates.add(key)
        o.broker_ts = int(updated_ts)
        state = state_of_status(status)
        o.suspended = str(getattr(status, "name", status)).lower() == "suspended"
        if size is not None and size > 0:
            o.size = int(size)
        if filled is not None:
            o.filled = max(o.filled, int(filled))
        if fill_price is not None:
            o.avg_fill_price = float(fill_price)
        if limit_price is not None:
            o.limit_price = float(limit_price)
        if stop_price is not None:
            o.stop_price = float(stop_price)
        if state is not None and not (o.is_final and state not in FINAL):
            self._to(o, state)
        return o

    def apply_fill(self, *, fill_id: int, order_id: int, size: int, price: float) -> TrackedOrder | None:
        """Apply one execution (idempotent on the fill id); returns the order if it is ours."""
        if int(fill_id) in self._seen_fills:
            self.duplicates += 1
            return None
        self._seen_fills.add(int(fill_id))
        o = self.by_order_id(order_id)
        if o is None:
            return None
        prev = o.filled
        o.filled = min(o.size, prev + int(size)) if o.size else prev + int(size)
        if o.avg_fill_price is None or prev == 0:
            o.avg_fill_price = float(price)
        else:
            o.avg_fill_price = (o.avg_fill_price * prev + float(price) * int(size)) / (prev + int(size))
        if o.filled >= o.size > 0:
            self._to(o, FILLED)
        return o
