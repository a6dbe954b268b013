"""Order placement, modification, cancellation and flattening — exactly once.

Mutations are never retried blindly (gateway spec §5.4, §6; project-x-py PR #124,
projectx-rs README). Every order carries a ``customTag`` that the gateway keeps unique per
account. After any failure that might hide an accepted order (timeout, 5xx, 429, 401, a
transient errorCode) we first *look the tag up*; only if the order is verifiably absent do we
send again — with the same tag, so a late-arriving first attempt makes the second one bounce
with "tag already in use", which we resolve by another lookup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from core.domain import Order, OrderStatus, OrderType, Side
from core.errors import NonRetryableVenueError, RetryableVenueError
from core.venues.base import OrderRequest, PlaceResult
from core.venues.topstepx import schemas as s
from core.venues.topstepx.codes import order_status_code, order_type_code, side_code
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.parse import format_ts, items, parse_order, round_price
from core.venues.topstepx.state import VenueState

log = logging.getLogger(__name__)
_DAY_NS = 86_400 * 1_000_000_000
MUTATION_ATTEMPTS = 4


class RestPort(Protocol):
    """What execution needs from the venue's REST layer."""

    async def read(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A read with the retry policy (429/5xx/timeouts backed off and retried)."""
        ...

    async def mutate(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Exactly one attempt of a mutation (raises on any failure)."""
        ...

    def backoff_s(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before attempt ``attempt + 1``."""
        ...

    def search_start_ns(self) -> int:
        """A safe lower bound for time-window order/trade searches (server time)."""
        ...


def _is_tag_conflict(exc: NonRetryableVenueError) -> bool:
    msg = str(exc).lower()
    return getattr(exc, "error_code", None) == 2 and "tag" in msg


class OrderExecution:
    """Places and manages orders through a :class:`RestPort`.

    Args:
        rest: The REST layer.
        state: Shared order state (hub events feed it too).
        config: Client settings (bracket sign convention, tag prefix).
        tick_size: Coroutine giving a contract's tick size (prices are rounded before sending).
        new_tag: Returns a fresh unique tag.
    """

    def __init__(self, rest: RestPort, state: VenueState, config: TopstepXConfig, *,
                 tick_size: Callable[[str], Awaitable[float]], new_tag: Callable[[], str]) -> None:
        self.rest = rest
        self.state = state
        self.config = config
        self._tick = tick_size
        self._new_tag = new_tag
        self.reconciled = 0
        self.verified_absent = 0

    # ------------------------------------------------------------------ lookups
    async def order_search(self, account_id: int, start_ns: int | None = None) -> list[Order]:
        """``Order/search`` from ``start_ns`` (server time) to now; all statuses."""
        start = start_ns if start_ns is not None else self.rest.search_start_ns()
        payload = await self.rest.read(s.ORDER_SEARCH, {"accountId": account_id,
                                                         "startTimestamp": format_ts(start)})
        return [parse_order(d) for d in items(payload, "orders")]

    async def query_v2(self, account_id: int, statuses: tuple[OrderStatus, ...] | None = None,
                       contract_id: str | None = None, max_pages: int = 20) -> list[Order]:
        """``Order/v2/query`` paged, newest first (shows Suspended bracket legs)."""
        out: list[Order] = []
        size = 100
        for page in range(max_pages):
            flt: dict[str, Any] = {"accountId": account_id}
            if statuses:
                flt["statuses"] = [order_status_code(st) for st in statuses]
            if contract_id:
                flt["contractId"] = contract_id
            payload = await self.rest.read(s.ORDER_QUERY_V2, {
                "filter": flt, "pageSize": size, "pageOffset": page * size, "sortBy": 1,
                "sortDirection": 1, "includeTotalCount": False})
            rows = items(payload, "orders")
            out.extend(parse_order(d) for d in rows)
            if len(rows) < size:
                break
        return out

    async def open_orders(self, account_id: int, *, include_suspended: bool = True) -> list[Order]:
        """Working orders; with ``include_suspended`` also bracket legs waiting on their entry.

        ``Order/searchOpen`` hides Suspended legs (project-x-py #100: a position looked
        unprotected), so they come from ``Order/v2/query`` with statuses Open+Suspended.
        """
        payload = await self.rest.read(s.ORDER_SEARCH_OPEN, {"accountId": account_id})
        found = {o.id: o for o in (parse_order(d) for d in items(payload, "orders"))}
        if include_suspended:
            try:
                for o in await self.query_v2(account_id, statuses=(OrderStatus.OPEN,
                                                                    OrderStatus.SUSPENDED)):
                    found.setdefault(o.id, o)
            except NonRetryableVenueError as exc:
                log.warning("Order/v2/query unavailable (%s); suspended legs not visible", exc)
        return sorted((o for o in found.values() if o.is_working), key=lambda o: o.id)

    async def find_by_tag(self, account_id: int, tag: str) -> Order | None:
        """The order carrying ``tag`` at the venue (REST; never trusts the local cache alone)."""
        for o in await self.order_search(account_id):
            if o.custom_tag == tag:
                return o
        try:
            for o in await self.query_v2(account_id, max_pages=2):
                if o.custom_tag == tag:
                    return o
        except NonRetryableVenueError:
            pass
        return None

    async def order_by_id(self, account_id: int, order_id: int) -> Order | None:
        """One order by id (``Order/searchById``; falls back to a search)."""
        try:
            payload = await self.rest.read(s.ORDER_BY_ID, {"accountId": account_id,
                                                            "orderId": order_id})
            d = payload.get("order")
            if isinstance(d, dict):
                return parse_order(d)
        except NonRetryableVenueError:
            pass
        for o in await self.order_search(account_id):
            if o.id == order_id:
                return o
        return None

    # ------------------------------------------------------------------ place
    async def _body(self, req: OrderRequest, tag: str) -> dict[str, Any]:
        if req.size <= 0:
            raise NonRetryableVenueError(f"order size must be > 0 (got {req.size})",
                                         hint="send a positive number of contracts")
        tick = await self._tick(req.contract_id)
        body: dict[str, Any] = {"accountId": req.account_id, "contractId": req.contract_id,
                                "type": order_type_code(req.type), "side": side_code(req.side),
                                "size": int(req.size),
                                "customTag": tag}
        for key, value in (("limitPrice", req.limit_price), ("stopPrice", req.stop_price),
                           ("trailPrice", req.trail_price)):
            if value is not None:
                body[key] = round_price(value, tick)
        if req.type == OrderType.LIMIT and req.limit_price is None:
            raise NonRetryableVenueError("limit order without limit_price")
        if req.type == OrderType.STOP and req.stop_price is None:
            raise NonRetryableVenueError("stop order without stop_price")
        b = req.bracket
        if b is not None:
            long = req.side == Side.BUY
            sign = (-1 if long else 1) if self.config.signed_bracket_ticks else 1
            if b.stop_ticks is not None:
                body["stopLossBracket"] = {"ticks": sign * abs(int(b.stop_ticks)),
                                           "type": order_type_code(b.stop_type)}
            if b.target_ticks is not None:
                tsign = -sign if self.config.signed_bracket_ticks else 1
                body["takeProfitBracket"] = {"ticks": tsign * abs(int(b.target_ticks)),
                                             "type": order_type_code(OrderType.LIMIT)}
        return body

    async def place(self, req: OrderRequest) -> PlaceResult:
        """Place ``req`` exactly once; see the module docstring for the protocol.

        Raises:
            NonRetryableVenueError: The venue rejected the order.
            FatalVenueError: The account cannot trade.
            RetryableVenueError: Not placed (verified absent) after the attempts, or the
                outcome could not be verified (``ambiguous`` set: do NOT resend blindly).
        """
        tag = req.tag or self._new_tag()
        body = await self._body(req, tag)
        last: Exception | None = None
        for attempt in range(MUTATION_ATTEMPTS):
            try:
                payload = await self.rest.mutate(s.ORDER_PLACE, body)
            except NonRetryableVenueError as exc:
                if _is_tag_conflict(exc):
                    found = await self._lookup(req.account_id, tag)
                    if found is not None:
                        self.reconciled += 1
                        return PlaceResult(found.id, tag, reconciled=True, attempts=attempt + 1)
                raise
            except RetryableVenueError as exc:
                last = exc
                found = await self._lookup(req.account_id, tag)
                if found is not None:
                    self.reconciled += 1
                    return PlaceResult(found.id, tag, reconciled=True, attempts=attempt + 1)
                self.verified_absent += 1
                await asyncio.sleep(self.rest.backoff_s(attempt, getattr(exc, "retry_after", None)))
                continue
            oid = payload.get("orderId")
            if oid is None:
                found = await self._lookup(req.account_id, tag)
                if found is None:
                    raise NonRetryableVenueError("Order/place: success without an orderId",
                                                 hint="check the order list in TopstepX")
                return PlaceResult(found.id, tag, reconciled=True, attempts=attempt + 1)
            return PlaceResult(int(oid), tag, reconciled=attempt > 0, attempts=attempt + 1)
        raise RetryableVenueError(
            f"Order/place: not accepted after {MUTATION_ATTEMPTS} attempts (tag {tag} verified "
            f"absent each time): {last}", hint="the venue is overloaded; try again later")

    async def _lookup(self, account_id: int, tag: str) -> Order | None:
        """Tag lookup that never guesses: if the lookup itself fails, the outcome is unknown."""
        try:
            return await self.find_by_tag(account_id, tag)
        except RetryableVenueError as exc:
            err = RetryableVenueError(
                f"Order/place outcome unknown for tag {tag}: lookup failed ({exc})",
                hint=f"do not resend; look for tag {tag} in the order list first")
            err.ambiguous = True  # type: ignore[attr-defined]
            err.tag = tag  # type: ignore[attr-defined]
            raise err from None

    # ------------------------------------------------------------------ modify / cancel
    async def modify(self, account_id: int, order_id: int, *, size: int | None = None,
                     limit_price: float | None = None, stop_price: float | None = None,
                     trail_price: float | None = None, contract_id: str | None = None) -> None:
        """Change only the given fields of a working order; reconciles before any retry."""
        body: dict[str, Any] = {"accountId": account_id, "orderId": order_id}
        cached = self.state.orders.get(order_id)
        cid = contract_id or (cached.contract_id if cached else None)
        if cid is None and any(v is not None for v in (limit_price, stop_price, trail_price)):
            # The hub may not have told us about this order yet: ask, so the price can be
            # put on the contract's tick grid (the gateway rejects off-grid prices).
            cur = await self.order_by_id(account_id, order_id)
            cid = cur.contract_id if cur is not None else None
        tick = await self._tick(cid) if cid else 0.0
        if size is not None:
            body["size"] = int(size)
        for key, value in (("limitPrice", limit_price), ("stopPrice", stop_price),
                           ("trailPrice", trail_price)):
            if value is not None:
                body[key] = round_price(value, tick) if tick else value
        for attempt in range(MUTATION_ATTEMPTS):
            try:
                await self.rest.mutate(s.ORDER_MODIFY, body)
                return
            except RetryableVenueError as exc:
                cur = await self.order_by_id(account_id, order_id)
                if cur is not None and _matches(cur, body):
                    return
                if cur is not None and not cur.is_working:
                    raise NonRetryableVenueError(
                        f"Order/modify: order {order_id} is no longer working "
                        f"({cur.status.name})") from None
                await asyncio.sleep(self.rest.backoff_s(attempt, getattr(exc, "retry_after", None)))
        raise RetryableVenueError(f"Order/modify {order_id}: not applied after retries")

    async def cancel(self, account_id: int, order_id: int) -> None:
        """Cancel a working order; an order already cancelled counts as success."""
        for attempt in range(MUTATION_ATTEMPTS):
            try:
                await self.rest.mutate(s.ORDER_CANCEL, {"accountId": account_id, "orderId": order_id})
                return
            except NonRetryableVenueError:
                cur = await self.order_by_id(account_id, order_id)
                if cur is not None and cur.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                    return
                raise
            except RetryableVenueError as exc:
                cur = await self.order_by_id(account_id, order_id)
                if cur is not None and not cur.is_working:
                    if cur.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                        return
                    raise NonRetryableVenueError(
                        f"Order/cancel: order {order_id} already {cur.status.name}") from None
                await asyncio.sleep(self.rest.backoff_s(attempt, getattr(exc, "retry_after", None)))
        raise RetryableVenueError(f"Order/cancel {order_id}: not confirmed after retries")

    async def close_position(self, account_id: int, contract_id: str,
                             positions: Callable[[], Awaitable[int]]) -> None:
        """``Position/closeContract``; "no position" is success; re-checks before any retry."""
        for attempt in range(MUTATION_ATTEMPTS):
            if await positions() == 0:
                return
            try:
                await self.rest.mutate(s.POSITION_CLOSE, {"accountId": account_id,
                                                          "contractId": contract_id})
                return
            except NonRetryableVenueError as exc:
                if getattr(exc, "error_code", None) == 2:  # PositionNotFound: already flat
                    return
                raise
            except RetryableVenueError as exc:
                await asyncio.sleep(self.rest.backoff_s(attempt, getattr(exc, "retry_after", None)))
        if await positions() != 0:
            raise RetryableVenueError(f"Position/closeContract {contract_id}: still open after retries",
                                      hint="flatten manually in TopstepX now")


def _matches(order: Order, body: dict[str, Any]) -> bool:
    checks = (("size", order.size), ("limitPrice", order.limit_price),
              ("stopPrice", order.stop_price), ("trailPrice", order.trail_price))
    return all(key not in body or (cur is not None and abs(float(cur) - float(body[key])) < 1e-9)
               for key, cur in checks)
