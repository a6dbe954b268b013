"""Checks ``Order/place`` makes before an order exists (§4.5, §5.2–§5.4).

Nearly every failure is errorCode 2 (OrderRejected) with the reason in ``errorMessage``, as
observed live; the messages copy the observed ones where the spec quotes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.types import OrderType, Side
from core.venues.sim import errors as E
from core.venues.sim.models import Bracket, BracketMode, PlaceResult, SimAccount, SimContract

if TYPE_CHECKING:
    from core.venues.sim.matching import MatchingEngine

SUPPORTED_TYPES = frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP,
                             OrderType.TRAILING_STOP, OrderType.JOIN_BID, OrderType.JOIN_ASK})


def _reject(msg: str, code: int = E.PLACE_REJECTED) -> PlaceResult:
    return PlaceResult(code, msg, None)


def _check_brackets(eng: MatchingEngine, acct: SimAccount, side: Side, sl: Bracket | None,
                    tp: Bracket | None) -> PlaceResult | None:
    if sl is None and tp is None:
        return None
    if acct.bracket_mode != BracketMode.AUTO_OCO:
        return _reject(E.MSG_BRACKET_MODE)
    long_entry = side == Side.BUY
    for br, leg in ((sl, "stop loss"), (tp, "take profit")):
        if br is None:
            continue
        if br.ticks == 0:
            return _reject(f"Invalid {leg} bracket: ticks must not be 0.")
        if leg == "stop loss" and br.type not in (OrderType.STOP, OrderType.TRAILING_STOP):
            return _reject(f"Invalid stop loss bracket type {br.type} (use Stop or TrailingStop).")
        if leg == "take profit" and br.type != OrderType.LIMIT:
            return _reject(f"Invalid take profit bracket type {br.type} (use Limit).")
        mode = eng.config.bracket_ticks
        if mode == "positive" and br.ticks < 0:
            return _reject(f"Invalid {leg} bracket: ticks must be positive.")
        if mode == "signed":
            want_negative = (leg == "stop loss") == long_entry
            if (br.ticks < 0) != want_negative:
                sign = "negative" if want_negative else "positive"
                return _reject(f"Invalid {leg} bracket: ticks must be {sign} for a "
                               f"{'buy' if long_entry else 'sell'} entry.")
        if abs(br.ticks) > eng.config.max_trail_ticks:
            return _reject(f"Invalid {leg} bracket: ticks exceed maximum "
                           f"({eng.config.max_trail_ticks}).")
    return None


def validate_place(eng: MatchingEngine, acct: SimAccount, c: SimContract, type: OrderType, side: Side,
                   size: int, limit_price: float | None, stop_price: float | None,
                   trail_price: float | None, custom_tag: str | None, sl: Bracket | None,
                   tp: Bracket | None, internal: bool) -> PlaceResult | None:
    """Return the rejection for an Order/place request, or None when it may be accepted."""
    if type not in SUPPORTED_TYPES:
        return _reject(f"Order type {type} is not supported.")
    if side not in (Side.BUY, Side.SELL):
        return _reject(f"Invalid side {side!r}.")
    if not isinstance(size, int) or size <= 0:
        return _reject(f"Invalid size {size}: must be a positive integer.")
    if not internal and not acct.can_trade:
        return _reject(f"Account {acct.name} is not allowed to trade"
                       + (f" ({acct.disabled_reason})." if acct.disabled_reason else "."))
    if custom_tag is not None and custom_tag in eng._tags[acct.id]:
        return _reject(f"An order with custom tag '{custom_tag}' already exists. "
                       "Custom tags must be unique per account.")
    m = eng.market[c.id]
    if type == OrderType.LIMIT:
        if limit_price is None:
            return _reject("Limit price is required for a limit order.")
        if not c.on_grid(limit_price):
            return _reject(E.MSG_PRICE_ALIGN)
    if type == OrderType.STOP:
        if stop_price is None:
            return _reject("Stop price is required for a stop order.")
        if not c.on_grid(stop_price):
            return _reject(E.MSG_PRICE_ALIGN)
        s = c.to_ticks(stop_price)
        # CME rejects a stop that would trigger at once; the sim does the same.
        if side == Side.BUY and m.ask is not None and s <= m.ask:
            return _reject("Invalid stop price: a buy stop must be above the best ask.")
        if side == Side.SELL and m.bid is not None and s >= m.bid:
            return _reject("Invalid stop price: a sell stop must be below the best bid.")
    if type == OrderType.TRAILING_STOP:
        if trail_price is None:
            return _reject(E.MSG_TRAIL_UNSET)
        if not c.on_grid(trail_price):
            return _reject(E.MSG_TRAIL_ALIGN)
        if m.last is None:
            return _reject(E.MSG_TRAIL_NO_LAST)
        d = abs(c.to_ticks(trail_price) - m.last)
        if d == 0:
            return _reject(E.MSG_TRAIL_UNSET)
        if d > eng.config.max_trail_ticks:
            return _reject(E.MSG_TRAIL_MAX)
    if type in (OrderType.MARKET, OrderType.JOIN_BID, OrderType.JOIN_ASK):
        need = m.bid if type == OrderType.JOIN_BID else m.ask if type == OrderType.JOIN_ASK else (
            m.ask if side == Side.BUY else m.bid)
        if need is None:
            return _reject("No market price available for this contract.", E.PLACE_REJECTED)
    bad = _check_brackets(eng, acct, side, sl, tp)
    if bad is not None:
        return bad
    if not internal:
        for h in eng.hooks:
            r = h.check_place(eng, acct, c, side, size)
            if r is not None:
                return r
    return None
