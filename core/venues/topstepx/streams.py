"""Hub event handling and REST resync for :class:`TopstepXVenue` (a mixin, split for size).

Handlers run on the event loop (the hub client hands events over with
``call_soon_threadsafe``). They parse, merge and de-duplicate, then queue typed events.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from core.domain import Position, PositionType
from core.venues.base import (
    AccountEvent,
    ConnectionEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
)
from core.venues.topstepx import parse as p
from core.venues.topstepx import schemas as s
from core.venues.topstepx.book import DepthBook

if TYPE_CHECKING:
    from core.venues.topstepx.venue import TopstepXVenue

log = logging.getLogger(__name__)


class StreamsMixin:
    """Event handlers and resync; mixed into :class:`TopstepXVenue`."""

    # ---------------------------------------------------------------- user hub
    def _on_user(self: TopstepXVenue, name: str, args: list[Any]) -> None:
        if name == s.LOGOUT_EVENT:
            self._logout_seen("user")
            return
        arg = args[0] if args else None
        try:
            for _action, d in p.unwrap_user(arg):
                self._apply_user(name, d, "hub")
        except Exception as exc:  # noqa: BLE001 - one bad payload must not kill the stream
            self._count("user_bad_payloads")
            log.warning("bad %s payload skipped: %s", name, exc)

    def _count(self: TopstepXVenue, key: str) -> None:
        """Count what the client did not pass on (shown as the engine's drop counters)."""
        c = self.__dict__.setdefault("drop_counts", {})
        c[key] = c.get(key, 0) + 1

    def _apply_user(self: TopstepXVenue, name: str, d: dict[str, Any], source: str) -> None:
        st = self.state
        if name == "GatewayUserOrder":
            order = p.parse_order(d)
            ev: Any = OrderEvent(order, source) if st.apply_order(order) else None
        elif name == "GatewayUserPosition":
            pos = p.parse_position(d)
            ev = PositionEvent(pos, source) if st.apply_position(pos) else None
        elif name == "GatewayUserTrade":
            fill = p.parse_trade(d)
            ev = FillEvent(fill, source) if st.apply_fill(fill) else None
        elif name == "GatewayUserAccount":
            acc = p.parse_account(d)
            ev = AccountEvent(acc, source) if st.apply_account(acc) else None
        else:
            return
        if ev is None:
            # Not lost: a duplicate or an older copy of state already applied (idempotent).
            self._count("user_duplicates_ignored")
        else:
            self._queue.put_nowait(ev)

    def _logout_seen(self: TopstepXVenue, hub: str) -> None:
        # Both hubs usually get the same GatewayLogout: one re-login serves both.
        now = time.monotonic()
        if now - self._last_logout_mono < 2.0:
            return
        self._last_logout_mono = now
        rev = self.auth.revision

        async def relogin() -> None:
            # A new token triggers the rebuild of both hubs (see _token_changed).
            try:
                await self.auth.relogin(rev)
            except Exception as exc:  # noqa: BLE001 - surfaced as a connection event
                self._queue.put_nowait(ConnectionEvent(hub, self.user.state,
                                                       f"re-login after GatewayLogout failed: {exc}"))
                self.user.request_rebuild("GatewayLogout")
                self.market.request_rebuild("GatewayLogout")

        self._spawn(relogin())

    # ---------------------------------------------------------------- market hub
    def _on_market(self: TopstepXVenue, name: str, args: list[Any]) -> None:
        if name == s.LOGOUT_EVENT:
            self._logout_seen("market")
            return
        if len(args) < 2:
            return
        cid, data = str(args[0]), args[1]
        con = self._contracts.get(cid)
        tick = con.tick_size if con is not None else 0.0
        try:
            if name == "GatewayQuote":
                if isinstance(data, list):  # tolerate a list-wrapped quote
                    data = next((x for x in data if isinstance(x, dict)), None)
                if not isinstance(data, dict):
                    return
                q = p.merge_quote(cid, data, self._quotes.get(cid), tick)
                book = self._books.get(cid)
                if book is not None:
                    # Quotes carry no sizes (§7.4): take them from depth at the same prices.
                    q = replace(q, bid_size=book.bids.get(q.bid) if q.bid is not None else None,
                                ask_size=book.asks.get(q.ask) if q.ask is not None else None)
                self._quotes[cid] = q
                if q.ts > self.state.server_ts:
                    self.state.server_ts = q.ts
                self._queue.put_nowait(QuoteEvent(q))
            elif name == "GatewayTrade":
                for t in p.parse_market_trades(cid, data, tick):
                    self._queue.put_nowait(TradeEvent(t))
            elif name == "GatewayDepth":
                book = self._books.get(cid)
                if book is None:
                    book = self._books[cid] = DepthBook(cid)
                self._queue.put_nowait(book.apply(p.depth_rows(data)))
        except Exception as exc:  # noqa: BLE001 - skip the bad payload, keep the stream
            self._count("market_bad_payloads")
            log.warning("bad %s payload skipped: %s", name, exc)

    def _on_state(self: TopstepXVenue, event: ConnectionEvent) -> None:
        self._queue.put_nowait(event)

    async def _market_reconnected(self: TopstepXVenue) -> None:
        # Depth restarts with Reset → snapshot after the resubscribe; nothing to fetch.
        self._books.clear()

    # ---------------------------------------------------------------- resync
    async def resync(self: TopstepXVenue) -> None:
        """Reload orders (incl. suspended bracket legs), fills, positions and accounts via REST.

        Runs after every user-hub reconnect: there is no replay and no sequence number, so
        whatever happened during the gap is only visible through REST (§7.2).
        """
        t0 = time.perf_counter()
        for acc_id in list(self._accounts_watched):
            await self._resync_account(acc_id)
        try:
            for acc in await self.accounts(only_active=False):
                if acc.id in self._accounts_watched:
                    self._queue.put_nowait(AccountEvent(acc, "resync"))
        except Exception as exc:  # noqa: BLE001 - account refresh is best effort
            log.warning("account resync failed: %s", exc)
        self.resyncs += 1
        self.last_resync_s = time.perf_counter() - t0

    async def _resync_account(self: TopstepXVenue, acc_id: int) -> None:
        st = self.state
        working_before = {o.id for o in st.working(acc_id)}
        current = await self.exec.open_orders(acc_id, include_suspended=True)
        for o in current:
            if st.apply_order(o):
                self._queue.put_nowait(OrderEvent(o, "resync"))
        missing = working_before - {o.id for o in current}
        if missing:
            # They finished during the gap: fetch their final state (server-time window).
            start = min(st.orders[i].created_ts for i in missing) - 60_000_000_000
            for o in await self.exec.order_search(acc_id, start):
                if o.id in missing and st.apply_order(o):
                    self._queue.put_nowait(OrderEvent(o, "resync"))
        start = (st.last_fill_ts - 60_000_000_000) if st.last_fill_ts else self.search_start_ns()
        for f in sorted(await self.trades(acc_id, start), key=lambda f: (f.ts, f.id)):
            if st.apply_fill(f):
                self._queue.put_nowait(FillEvent(f, "resync"))
        open_now = {pos.contract_id: pos for pos in await self.positions(acc_id)}
        for (a, cid), old in list(st.positions.items()):
            if a == acc_id and old.size and cid not in open_now:
                flat = Position(account_id=a, contract_id=cid, type=PositionType.FLAT,
                                size=0, average_price=0.0, ts=old.ts)
                if st.apply_position(flat):
                    self._queue.put_nowait(PositionEvent(flat, "resync"))
        for pos in open_now.values():
            if st.apply_position(pos):
                self._queue.put_nowait(PositionEvent(pos, "resync"))
