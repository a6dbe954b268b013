"""Order/modify, Order/cancel and the position closes of the matching engine (§4.6–§4.9).

A mixin of :class:`core.venues.sim.matching.MatchingEngine`, split out to keep modules short;
it uses the engine's state (``orders``, ``market``, ``ledger``) and helpers (``_cancel``,
``_try_fill``, ``_emit_order``, ``place``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.types import OrderStatus, OrderType, Side
from core.venues.sim import errors as E
from core.venues.sim.models import WORKING, PlaceResult
from core.venues.sim.triggers import trail

if TYPE_CHECKING:
    from core.venues.sim.matching import MatchingEngine


class MutationsMixin:
    """modify / cancel / close_position / flatten_account / set_active_contract."""

    def modify(self: MatchingEngine, account_id: int, order_id: int, *, size: int | None = None,
               limit_price: float | None = None, stop_price: float | None = None,
               trail_price: float | None = None) -> PlaceResult:
        """Order/modify (§4.6): omitted (None) fields stay unchanged; only working orders.

        ``trailPrice`` is read as on place: an absolute level turned into a distance from the
        last trade (UNCONFIRMED; no maximum is applied on modify, as observed).
        """
        if account_id not in self.accounts:
            return PlaceResult(E.MOD_ACCOUNT_NOT_FOUND, f"Account {account_id} not found.")
        o = self.orders.get(order_id)
        if o is None or o.account_id != account_id:
            return PlaceResult(E.MOD_ORDER_NOT_FOUND, f"Order {order_id} not found.")
        if o.status not in (OrderStatus.OPEN, OrderStatus.PENDING):
            return PlaceResult(E.MOD_REJECTED, f"Order {order_id} is not working "
                               f"(status {o.status}).")
        c = self.contracts[o.contract_id]
        for px in (limit_price, stop_price, trail_price):
            if px is not None and not c.on_grid(px):
                return PlaceResult(E.MOD_REJECTED, E.MSG_PRICE_ALIGN)
        if size is not None and (size <= 0 or size <= o.fill_volume):
            return PlaceResult(E.MOD_REJECTED, f"Invalid size {size}.")
        if limit_price is not None and o.limit_ticks is None:
            return PlaceResult(E.MOD_REJECTED, "This order has no limit price.")
        if stop_price is not None and o.type != OrderType.STOP:
            return PlaceResult(E.MOD_REJECTED, "This order has no stop price.")
        m = self.market[o.contract_id]
        if trail_price is not None:
            if o.type != OrderType.TRAILING_STOP:
                return PlaceResult(E.MOD_REJECTED, "This order is not a trailing stop.")
            if m.last is None:
                return PlaceResult(E.MOD_REJECTED, E.MSG_TRAIL_NO_LAST)
            d = abs(c.to_ticks(trail_price) - m.last)
            if d == 0:
                return PlaceResult(E.MOD_REJECTED, E.MSG_TRAIL_UNSET)
            o.trail_distance = d
            o.stop_ticks = None
            trail(o, m.last)
        if size is not None:
            o.size = size
        if limit_price is not None:
            o.limit_ticks = c.to_ticks(limit_price)
        if stop_price is not None:
            o.stop_ticks = c.to_ticks(stop_price)
        self._emit_order(o)
        self._try_fill(o, m, on_trade=False, arrival=True)
        return PlaceResult(0)

    def cancel(self: MatchingEngine, account_id: int, order_id: int) -> PlaceResult:
        """Order/cancel (§4.7): working orders only (Suspended bracket legs included)."""
        if account_id not in self.accounts:
            return PlaceResult(E.MOD_ACCOUNT_NOT_FOUND, f"Account {account_id} not found.")
        o = self.orders.get(order_id)
        if o is None or o.account_id != account_id:
            return PlaceResult(E.MOD_ORDER_NOT_FOUND, f"Order {order_id} not found.")
        if o.status not in WORKING:
            return PlaceResult(E.MOD_REJECTED, f"Order {order_id} is not working "
                               f"(status {o.status}).")
        self._cancel(o)
        return PlaceResult(0)

    def close_position(self: MatchingEngine, account_id: int, contract_id: str, size: int | None = None, *,
                       internal: bool = False) -> PlaceResult:
        """Position/closeContract (``size`` None) or partialCloseContract (§4.9).

        Sends a market order on the other side. Codes follow ClosePositionErrorCode, or the
        partial-close table when ``size`` is given (5 InvalidCloseSize, 6 OrderRejected).
        """
        if account_id not in self.accounts:
            return PlaceResult(E.CLOSE_ACCOUNT_NOT_FOUND, f"Account {account_id} not found.")
        c = self.contracts.get(contract_id)
        if c is None:
            return PlaceResult(E.CLOSE_CONTRACT_NOT_FOUND, f"Contract {contract_id} not found.")
        pos = self.ledger.position(account_id, contract_id)
        if pos is None:
            return PlaceResult(E.CLOSE_POSITION_NOT_FOUND, f"No open position in {contract_id}.")
        qty = abs(pos.net)
        if size is not None:
            if size <= 0 or size > qty:
                return PlaceResult(E.PCLOSE_INVALID_SIZE, f"Invalid close size {size} "
                                   f"(position is {qty}).")
            qty = size
        if self.config.close_cancels_brackets and size is None:
            for o in self.working_orders(account_id, contract_id):
                if o.status in WORKING:
                    self._cancel(o)
        side = Side.SELL if pos.net > 0 else Side.BUY
        r = self.place(account_id, contract_id, OrderType.MARKET, side, qty, internal=True)
        if not r.ok:
            code = E.PCLOSE_ORDER_REJECTED if size is not None else E.CLOSE_ORDER_REJECTED
            # The live gateway was seen returning a null message here (market closed, §4.9).
            return PlaceResult(code, None if "No market price" in (r.message or "") else r.message)
        return PlaceResult(0)

    def flatten_account(self: MatchingEngine, account_id: int) -> None:
        """Cancel every working order and close every position at market (risk liquidation)."""
        for o in self.working_orders(account_id):
            if o.status in WORKING:
                self._cancel(o)
        for p in self.ledger.open_positions(account_id):
            self.close_position(account_id, p.contract_id, internal=True)

    def set_active_contract(self: MatchingEngine, contract_id: str) -> None:
        """Roll: make ``contract_id`` the only active contract of its symbol (§8)."""
        sym = self.contracts[contract_id].symbol_id
        for c in self.contracts.values():
            if c.symbol_id == sym:
                c.active = c.id == contract_id

