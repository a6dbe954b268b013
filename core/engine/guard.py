"""The engine's safety duties: protection invariant, kill and flatten, reconciliation.

* **Protection** (checked every cycle, not only on transitions): a non-zero position has
  working stop orders at the broker covering its full size. If not, a protective stop is
  placed (journaled like any order); if the position is still naked ``grace_s`` later, it is
  flattened. A stop is never placed while the broker says flat, and protective orders left
  working after the position closed (orphans) are cancelled.
* **Kill**: latches HALTED in the risk kernel (new submits refused, cancels allowed), cancels
  every working order, closes the position, verifies flat through REST and retries —
  including "market closed" rejections — until flat. Fills after a kill are still recorded.
* **Reconciliation** (start, after every reconnect, periodically): the broker is the source
  of truth. Its open orders (suspended bracket legs included) and positions are adopted; a
  position that differs from what the engine believed raises an alert and blocks new entries
  until an operator acknowledges. A network error is never read as "not found".
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from core.domain import Order, OrderType
from core.errors import NonRetryableVenueError, VenueError
from core.venues.base import FillEvent

if TYPE_CHECKING:
    from core.engine.live import LiveEngine

log = logging.getLogger(__name__)

_STOP_TYPES = {"stop", "stop_limit", "trailing_stop"}


def _type_name(t: Any) -> str:
    return str(getattr(t, "name", t)).lower()


def is_working(o: Order) -> bool:
    """Whether a broker order can still fill (neutral by status name)."""
    return str(getattr(o.status, "name", o.status)).lower() in (
        "open", "pending", "suspended", "pending_cancellation", "pending_cancel")


def stop_cover(orders: dict[int, Order], contract_id: str, position: int, sign_of: Any) -> int:
    """Contracts covered by working, non-suspended stop orders on the closing side."""
    if position == 0:
        return 0
    want = -int(np.sign(position))
    total = 0
    for o in orders.values():
        if (o.contract_id == contract_id and is_working(o) and _type_name(o.type) in _STOP_TYPES
                and str(getattr(o.status, "name", o.status)).lower() != "suspended"
                and sign_of(o.side) == want):
            total += int(o.size) - int(o.filled_size or 0)
    return total


class Guard:
    """Protection, kill/flatten and reconciliation for one :class:`LiveEngine`."""

    def __init__(self, engine: LiveEngine, *, grace_s: float = 2.0, retry_s: float = 0.25,
                 max_attempts: int = 40) -> None:
        self.e = engine
        self.grace_ns = int(grace_s * 1e9)
        self.retry_s = retry_s
        self.max_attempts = max_attempts
        self.naked_since: int | None = None
        self.killed = False                  #: latched until re-armed on purpose
        self.flattening = 0                  #: flattens in progress (their closes are ours)
        self._flattened_wall_ns = 0
        self.fills_synced = 0                #: fills booked from REST (missed by the stream)
        self.confirm_s = 0.5                 #: a position mismatch is read twice, this apart
        self.repairs = 0                     #: protective stops placed
        self.naked_flattens = 0

    # ------------------------------------------------------------------ protection
    async def protect(self) -> None:
        """One protection check (call it every cycle)."""
        e = self.e
        pos = e.state.position
        if pos == 0:
            self.naked_since = None
            await self._cancel_orphans()
            return
        covered = stop_cover(e.broker_orders, e.contract.id, pos, e.sign_of_side)
        if covered >= abs(pos):
            self.naked_since = None
            return
        now = e.clock.now_ns()
        # A stop on its way (a repair, or a client-side bracket's stop leg) is not doubled.
        in_flight = [o for o in e.book.live(("protect", "stop")) if o.state != "working"]
        if self.naked_since is None:
            self.naked_since = now
            if not in_flight:
                await self._place_protective_stop(abs(pos) - covered)
        elif now - self.naked_since >= self.grace_ns:
            self.naked_flattens += 1
            e.alert("naked-position", "critical",
                    f"position {pos} without a working stop for {abs(pos) - covered} contracts "
                    f"after {self.grace_ns / 1e9:.1f} s: flattening", needs_ack=True)
            self.naked_since = None
            await self.flatten("naked position")

    async def _place_protective_stop(self, size: int) -> None:
        e = self.e
        pos = e.state.position
        d = int(np.sign(pos))
        dist = e.profile.strategy.stop_ticks * e.tick
        ref = e.state.avg_price or (e.state.last_price or 0.0)
        px = ref - d * dist
        if e.state.last_price is not None:       # never a stop already through the market
            px = min(px, e.state.last_price - e.tick) if d > 0 else max(px, e.state.last_price + e.tick)
        px = round(px / e.tick) * e.tick
        self.repairs += 1
        e.alert("protect", "warning", f"position {pos} had no working stop: placing one at {px}")
        await e.sender.send("protect", -d, OrderType.STOP, size, stop_price=px)

    async def _cancel_orphans(self) -> None:
        """Flat at the broker: cancel our stops/targets still working (orphaned legs)."""
        e = self.e
        for o in list(e.broker_orders.values()):
            if o.contract_id == e.contract.id and is_working(o) and o.id not in e.cancelling:
                await e.sender.cancel(o.id, "orphan: flat at the broker")

    # ------------------------------------------------------------------ kill / flatten
    async def kill(self) -> bool:
        """Latch HALTED and flatten until the broker confirms flat. Returns True when flat."""
        self.killed = True
        e = self.e
        e.state.armed = False
        e.risk.kill()
        e.publish_risk("operator kill")
        return await self.flatten("kill")

    async def flatten(self, reason: str) -> bool:
        """Cancel every working order, close the position, verify flat through REST, retry."""
        self.flattening += 1
        try:
            return await self._flatten(reason)
        finally:
            self.flattening -= 1
            # The close's fills may arrive on the stream after REST said flat.
            self._flattened_wall_ns = self.e.wall_ns()

    async def _flatten(self, reason: str) -> bool:
        e = self.e
        e.alert(f"flatten-{reason}", "info", f"flatten: {reason}")
        rejected = 0
        for attempt in range(self.max_attempts):
            try:
                await e.venue.flatten(e.account_id, e.contract.id)
                positions = await e.venue.positions(e.account_id)
                orders = await e.venue.open_orders(e.account_id, include_suspended=True)
            except NonRetryableVenueError as exc:
                # The broker refused the close (a closed market answers so): the bracket legs
                # were cancelled on the way, so the position must not wait naked for the next
                # attempt — protect it, then back off (up to 5 s) and try again.
                rejected += 1
                log.warning("flatten attempt %d refused: %s", attempt + 1, exc)
                await self._protect_after_refused_close(exc)
                await asyncio.sleep(min(5.0, self.retry_s * 2 ** min(rejected - 1, 5)))
                continue
            except VenueError as exc:          # 429, 5xx, a dropped link: retry soon
                log.warning("flatten attempt %d: %s", attempt + 1, exc)
                await asyncio.sleep(self.retry_s)
                continue
            size = sum(p.signed_size for p in positions if p.contract_id == e.contract.id)
            working = [o for o in orders if o.contract_id == e.contract.id and is_working(o)]
            if size == 0 and not working:
                e.state.last_exit_bar = e.state.bars
                return True
            await asyncio.sleep(self.retry_s)
        e.alert("flatten-failed", "critical", f"flatten ({reason}) not confirmed after "
                f"{self.max_attempts} attempts", needs_ack=True)
        return False

    async def _protect_after_refused_close(self, exc: Exception) -> None:
        e = self.e
        try:
            positions = await e.venue.positions(e.account_id)
        except VenueError:
            positions = None                   # unknown: trust the stream's position
        pos = e.state.position if positions is None else \
            sum(p.signed_size for p in positions if p.contract_id == e.contract.id)
        if pos == 0:
            return
        e.state.position = int(pos)
        e.alert("close-refused", "warning", f"close of {pos} refused by the broker ({exc}); "
                "protecting the position and retrying")
        await self._place_protective_stop(abs(int(pos)))

    # ------------------------------------------------------------------ reconciliation
    async def reconcile(self, *, reason: str) -> bool:
        """Adopt the broker's orders and position; alert and block entries on a mismatch.

        Returns True when the broker agreed with the engine.
        """
        e = self.e
        try:
            positions = await e.venue.positions(e.account_id)
            orders = await e.venue.open_orders(e.account_id, include_suspended=True)
            accounts = await e.venue.accounts()
        except VenueError as exc:      # never "not found": try again on the next cycle
            log.warning("reconcile (%s) failed: %s", reason, exc)
            return False
        for a in accounts:             # the REST balance behind the MLL headroom
            if a.id == e.account_id:
                e.broker_balance = float(a.balance)
                e.balance_seen_ns = e.clock.now_ns()
        for o in orders:
            e.adopt_order(o)
        synced = await self._sync_fills()
        # Unknown send outcomes: the tag is either at the broker (a working order adopted
        # above, or one that already filled or was cancelled — found by a lookup by tag over
        # every status) or the order never arrived. Only a SUCCESSFUL lookup may say so.
        tags = {o.custom_tag for o in orders if o.custom_tag}
        for t in e.book.unresolved():
            if t.tag in tags or t.order_id is not None:
                continue
            try:
                found = await self._lookup(t.tag)
            except VenueError as exc:
                log.warning("lookup of %s failed (%s): still unknown", t.tag, exc)
                continue
            if found is not None:
                e.adopt_order(found)
            else:
                e.book.resolved_missing(t.tag)
                e.journal.mark(t.tag, "resolved", reason="not found at the broker")
        broker = sum(p.signed_size for p in positions if p.contract_id == e.contract.id)
        avg = next((p.average_price for p in positions if p.contract_id == e.contract.id), 0.0)
        if broker != e.state.position and synced and e.rt.position == broker:
            # The stream missed fills AND the position update; the broker's own trade list
            # accounts for the whole difference: catch up, no mismatch.
            log.warning("position %s → %s from fills the stream missed", e.state.position, broker)
            e.state.position = broker
            e.state.avg_price = float(avg) if broker else 0.0
            return True
        if broker != e.state.position and reason == "periodic" and e.recently_busy():
            # A REST snapshot may be older than the stream (an order or fill in the last few
            # seconds): never let it overwrite newer state. The next period compares again.
            return True
        if broker != e.state.position:
            # Confirm before acting: a second read a moment later must say the same.
            await asyncio.sleep(self.confirm_s)
            try:
                again = sum(p.signed_size for p in await e.venue.positions(e.account_id)
                            if p.contract_id == e.contract.id)
            except VenueError as exc:
                log.warning("reconcile (%s) confirmation failed: %s", reason, exc)
                return False
            if again == e.state.position:
                return True                 # the stream caught up meanwhile
            broker = again
        if broker != e.state.position:
            e.alert("position-mismatch", "critical",
                    f"{reason}: broker position {broker} differs from the engine's "
                    f"{e.state.position}; adopted the broker's, entries blocked until `ctl ack`",
                    needs_ack=True)
            e.state.entries_blocked = "position mismatch with the broker"
            e.state.position = broker
            e.state.avg_price = float(avg) if broker else 0.0
            e.rt.position = broker
            return False
        return True

    async def _sync_fills(self) -> int:
        """Fills of this run the stream never delivered (a hub gap): read from the broker
        and booked through the same path, in time order — deduplicated by fill id, so a
        late stream copy books nothing twice. A failed read is retried next time."""
        e = self.e
        if not hasattr(e.venue, "trades"):
            return 0
        try:
            fills = await e.venue.trades(e.account_id, e.fills_since_ns)
        except VenueError as exc:
            log.warning("fill sync failed (%s): retried at the next reconciliation", exc)
            return 0
        missed = sorted((f for f in fills if f.contract_id == e.contract.id
                         and not f.voided and not e.rt.seen(f.id)), key=lambda f: (f.ts, f.id))
        for f in missed:
            log.warning("fill %s (order %s) missed by the stream: booked from the broker's "
                        "trade list", f.id, f.order_id)
            await e.on_event(FillEvent(f, "reconcile"))
        self.fills_synced += len(missed)
        # Only fills of the engine's own orders (and their bracket legs) may explain a
        # position difference; a trade placed behind its back stays a mismatch to acknowledge.
        return len(missed) if missed and all(self.owns(f.order_id) for f in missed) else 0

    def owns(self, order_id: int) -> bool:
        """Whether the broker's order ``order_id`` is the engine's (or a leg of one of its
        orders, tagged ``<our tag>-SL``/``-TP``)."""
        e = self.e
        if e.book.by_order_id(order_id) is not None:
            return True
        if self.flattening or e.wall_ns() - self._flattened_wall_ns < 10_000_000_000:
            return True                      # the close of our own flatten (no tag of ours)
        o = e.broker_orders.get(order_id)
        return bool(o is not None and o.custom_tag and str(o.custom_tag).startswith(e.run_id))

    async def _lookup(self, tag: str) -> Order | None:
        """The broker's order with ``tag`` in any status (venues without a lookup by tag
        answer from their working orders only)."""
        e = self.e
        find = getattr(e.venue, "find_by_tag", None)
        if find is not None:
            return await find(e.account_id, tag)
        orders = await e.venue.open_orders(e.account_id, include_suspended=True)
        return next((o for o in orders if o.custom_tag == tag), None)

    # ------------------------------------------------------------------ start-up / restart
    async def recover(self) -> dict[str, Any]:
        """Start-up after a clean stop or a crash (``kill -9``): the broker is the truth.

        1. Every intent the journal left without an outcome (journaled, submitted, unknown) is
           looked up by its tag among the broker's orders — adopted if found, resolved as
           "never arrived" if the lookup succeeded without it. Nothing is ever re-sent.
        2. Orders and position are reconciled (a position the journal did not expect is
           adopted with an alert; entries stay blocked until acknowledged).
        3. A position found open is protected at once: the protection check places a stop if
           none works (the caller keeps calling :meth:`on_time`, which re-checks every cycle).

        Returns:
            What was found: unresolved intents, adopted orders, position.
        """
        e = self.e
        unresolved = list(getattr(e.journal, "unresolved", lambda: [])())
        orders = await e.venue.open_orders(e.account_id, include_suspended=True)
        by_tag = {o.custom_tag: o for o in orders if o.custom_tag}
        found, missing = [], []
        for rec in unresolved:
            if (rec.payload or {}).get("role") in ("modify", "cancel"):
                # Not an order of its own: the order's state is adopted from the broker below.
                e.journal.mark(rec.tag, "resolved", reason="outcome unknown at a restart; the "
                               "broker's order state adopted")
                continue
            o = by_tag.get(rec.tag)
            if o is None:
                o = await self._lookup(rec.tag)   # filled/cancelled meanwhile? (raises: unknown)
            if o is not None:
                e.journal.mark(rec.tag, "confirmed", order_id=o.id,
                                  reason="found by tag after a restart")
                found.append(rec.tag)
            else:
                e.journal.mark(rec.tag, "resolved",
                                  reason="not at the broker after a restart: never re-sent")
                missing.append(rec.tag)
        for o in orders:
            e.adopt_order(o)
        positions = await e.venue.positions(e.account_id)
        pos = sum(p.signed_size for p in positions if p.contract_id == e.contract.id)
        await self._closed_while_down(int(pos))
        avg = next((p.average_price for p in positions if p.contract_id == e.contract.id), 0.0)
        e.state.position, e.state.avg_price = int(pos), float(avg) if pos else 0.0
        # A round trip that began before this run: accounted from the broker's average.
        e.rt.adopt(int(pos), float(avg), e.clock.now_ns())
        if pos:
            e.alert("restart-position", "warning",
                       f"restart found a position of {pos} at {avg}: protecting it")
        await self.protect()
        return {"unresolved_found": found, "unresolved_missing": missing,
                "orders": [o.id for o in orders], "position": int(pos)}


    async def _closed_while_down(self, broker_pos: int) -> None:
        """The journal's last position was open but the broker is flat: the broker closed it
        while the engine was down (Topstep's MLL, DLL or 15:10 CT force-close look exactly
        like this). Journal it, book the broker's realised P&L into the risk kernel, alert."""
        e = self.e
        replay = getattr(e.journal, "replay", None)
        if replay is None or broker_pos != 0:
            return
        size, since, prev = 0, 0, 0
        for _seq, ev in replay(types=["PositionChanged"]):
            d = ev if isinstance(ev, dict) else {"size": ev.size, "ts_ns": ev.ts_ns}
            size = int(d.get("size", 0))
            if size and not prev:
                since = int(d.get("ts_ns", 0))       # this round trip opened here
            prev = size
        if size == 0:
            return
        try:
            fills = await e.venue.trades(e.account_id, since)
        except VenueError as exc:
            e.alert("closed-while-down", "critical", f"the broker is flat but the journal had "
                    f"{size}; its fills could not be read ({exc}): P&L not booked", needs_ack=True)
            return
        # The round trip's fills: realised P&L on the closing ones, fees on all of them.
        mine = [f for f in fills if f.contract_id == e.contract.id and not f.voided
                and f.ts >= since - 1_000_000_000]
        net = sum(float(f.profit_and_loss or 0.0) - float(f.fees) - float(f.commissions or 0.0)
                  for f in mine)
        e.risk.on_trade_closed(net, e.clock.now_ns())
        e.journal.save_risk(e.risk.snapshot())
        e.publish({"type": "PositionChanged", "ts_ns": e.clock.now_ns(),
                   "contract_id": e.contract.id, "size": 0, "avg_price": 0.0, "open_pnl": 0.0,
                   "source": "closed by the broker while the engine was down"})
        e.alert("closed-while-down", "critical",
                f"the position of {size} was closed by the broker while the engine was down "
                f"(a Topstep force-close?); booked {net:+.2f} from {len(mine)} fill(s)",
                needs_ack=True)
