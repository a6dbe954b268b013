"""Market-hub payloads: full/sparse GatewayQuote, GatewayTrade and a synthetic GatewayDepth book.

The depth book is synthetic (the replay has no order book): ``levels`` price levels each side
of the quote, resting sizes a deterministic function of the price. The best levels are typed
BestBid (4) / BestAsk (3), the others Bid (2) / Ask (1) (DomType, §5.1). A subscriber first gets
one message ``[Reset(type 6, price 0), snapshot…]`` (§7.5); later messages are the increments
between consecutive books (a removed level is sent with ``volume`` 0).
"""

from __future__ import annotations

from core.venues.sim.gateway.wire import iso
from core.venues.sim.matching import MarketState
from core.venues.sim.models import SimContract

DOM_ASK, DOM_BID, DOM_BEST_ASK, DOM_BEST_BID, DOM_RESET = 1, 2, 3, 4, 6


def full_quote(c: SimContract, m: MarketState, digits: int) -> dict:
    """The complete GatewayQuote payload of a contract (§7.4)."""
    px = c.price
    last = m.last if m.last is not None else (m.bid if m.bid is not None else m.ask)
    opn = m.open if m.open is not None else last
    change = (last - opn) if (last is not None and opn is not None) else 0
    root = c.symbol_id.rsplit(".", 1)[-1]
    ts = iso(m.ts_ns, digits)
    return {
        "symbol": c.symbol_id, "symbolName": f"/{root}",
        "lastPrice": None if last is None else px(last),
        "bestBid": None if m.bid is None else px(m.bid),
        "bestAsk": None if m.ask is None else px(m.ask),
        "change": px(change),
        "changePercent": round(change / opn * 100.0, 4) if opn else 0.0,
        "open": None if opn is None else px(opn),
        "high": None if m.high is None else px(m.high),
        "low": None if m.low is None else px(m.low),
        "volume": m.volume, "lastUpdated": ts, "timestamp": ts,
    }


def sparse(full: dict, last: dict | None) -> dict:
    """Only the fields that changed since ``last`` (always with ``symbol``); all if no ``last``."""
    if last is None:
        return dict(full)
    out = {"symbol": full["symbol"]}
    for k, v in full.items():
        if last.get(k) != v:
            out[k] = v
    return out


def _level_size(ticks: int) -> int:
    return 5 + (ticks * 7919) % 60


def book(m: MarketState, levels: int) -> dict[int, tuple[int, int]]:
    """price ticks → (DomType, resting size) of the synthetic book around the quote."""
    out: dict[int, tuple[int, int]] = {}
    if m.bid is not None:
        for k in range(levels):
            p = m.bid - k
            out[p] = (DOM_BEST_BID if k == 0 else DOM_BID, _level_size(p))
    if m.ask is not None:
        for k in range(levels):
            p = m.ask + k
            out[p] = (DOM_BEST_ASK if k == 0 else DOM_ASK, _level_size(p))
    return out


def depth_entry(c: SimContract, ts: str, dom: int, ticks: int, vol: int) -> dict:
    """One GatewayDepth entry (§7.4)."""
    return {"timestamp": ts, "type": dom, "price": c.price(ticks), "volume": vol,
            "currentVolume": 0}


def depth_snapshot(c: SimContract, bk: dict[int, tuple[int, int]], ts: str) -> list[dict]:
    """Reset entry followed by the whole book (the first message after subscribing)."""
    out = [{"timestamp": ts, "type": DOM_RESET, "price": 0, "volume": 0, "currentVolume": 0}]
    for p in sorted(bk, reverse=True):
        dom, vol = bk[p]
        out.append(depth_entry(c, ts, dom, p, vol))
    return out


def depth_diff(c: SimContract, old: dict[int, tuple[int, int]], new: dict[int, tuple[int, int]],
               ts: str) -> list[dict]:
    """Increments turning ``old`` into ``new`` (removed levels go out with volume 0)."""
    out = []
    for p, (dom, vol) in new.items():
        if old.get(p) != (dom, vol):
            out.append(depth_entry(c, ts, dom, p, vol))
    for p, (dom, _) in old.items():
        if p not in new:
            out.append(depth_entry(c, ts, dom, p, 0))
    return out
