"""When a working order fills, and at what price — the simulator's fill assumptions.

Every assumption lives here, next to the code that makes it (all prices in integer ticks):

* **Market** (and a triggered stop): buy at the best **ask**, sell at the best **bid** of the
  current quote. No quote yet → the order waits (``Order/place`` rejects it up front).
* **Limit / JoinBid / JoinAsk**: a buy limit ``L`` fills when the quote **crosses** it
  (``ask <= L``) or, on a trade print, when the print goes **through** it (``last < L``) or —
  in ``"touch"`` mode, the default — **touches** it (``last == L``). A resting order fills at
  its own limit price ``L`` (no price improvement); an order that is marketable on arrival
  fills at the quote (``min(L, ask)`` for a buy). Sells mirror this.
* **Stop**: a buy stop ``S`` triggers when ``ask >= S`` or a print ``last >= S`` (sells:
  ``bid <= S`` or ``last <= S``) and then fills as a market order at the quote — so gaps and
  the spread appear as slippage, as on a real exchange.
* **Trailing stop** (§5.3): the level trails the **last trade price** at ``trail_distance``
  ticks (sell stop: ``max(level, last - d)``; buy stop: ``min(level, last + d)``), never
  loosening, then triggers like a stop.
* **Partial fills**: at most ``max_fill_per_event`` contracts per order per quote/print
  (``None`` = fill everything at once).
"""

from __future__ import annotations

from core.domain.types import OrderType, Side
from core.venues.sim.models import SimOrder

LIMIT_LIKE: frozenset[OrderType] = frozenset({OrderType.LIMIT, OrderType.JOIN_BID,
                                             OrderType.JOIN_ASK})
STOP_LIKE: frozenset[OrderType] = frozenset({OrderType.STOP, OrderType.TRAILING_STOP})


def trail(order: SimOrder, last: int | None) -> bool:
    """Move a trailing stop's level with the last trade; return whether it moved."""
    if order.type != OrderType.TRAILING_STOP or last is None or order.trail_distance is None:
        return False
    d = abs(order.trail_distance)
    if order.side == Side.SELL:  # sell stop below the market protects a long
        new = last - d
        if order.stop_ticks is None or new > order.stop_ticks:
            order.stop_ticks = new
            return True
    else:
        new = last + d
        if order.stop_ticks is None or new < order.stop_ticks:
            order.stop_ticks = new
            return True
    return False


def fill_price(order: SimOrder, bid: int | None, ask: int | None, last: int | None, *,
               on_trade: bool, arrival: bool, touch: bool) -> int | None:
    """Price (ticks) at which ``order`` fills now, or None if it does not.

    Args:
        order: A working (Open/Pending) order.
        bid: Best bid in ticks (None if unknown).
        ask: Best ask in ticks (None if unknown).
        last: Last trade price in ticks (used only when ``on_trade``).
        on_trade: The market event is a trade print (else a quote update / order arrival).
        arrival: The order was just placed or modified (marketable orders take the quote).
        touch: Limit orders fill when a print touches the limit (else only through it).
    """
    buy = order.side == Side.BUY
    t = order.type
    if t == OrderType.MARKET or (t in STOP_LIKE and order.triggered):
        return ask if buy else bid
    if t in LIMIT_LIKE:
        lim = order.limit_ticks
        if lim is None:
            return None
        if buy:
            if ask is not None and ask <= lim:
                return min(lim, ask) if arrival else lim
            if on_trade and last is not None and (last < lim or (touch and last == lim)):
                return lim
        else:
            if bid is not None and bid >= lim:
                return max(lim, bid) if arrival else lim
            if on_trade and last is not None and (last > lim or (touch and last == lim)):
                return lim
        return None
    if t in STOP_LIKE:
        stop = order.stop_ticks
        if stop is None:
            return None
        if buy:
            hit = (ask is not None and ask >= stop) or (on_trade and last is not None and last >= stop)
        else:
            hit = (bid is not None and bid <= stop) or (on_trade and last is not None and last <= stop)
        if hit:
            order.triggered = True
            return ask if buy else bid
        return None
    return None
