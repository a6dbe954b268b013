"""JSON shapes of the ProjectX Gateway (§4 REST models, §7.4 hub payloads) from sim state.

Timestamps go out as ISO-8601 UTC with ``+00:00`` and, by default, **7 fractional digits**
(``2025-01-02T14:03:26.1199235+00:00``) as the live gateway sends them (§2), so a client's
parser meets the awkward case in every test.

The simulator's engine works in the domain enums; this module holds the simulator's own table
of the gateway's integer codes (§5.1) — written apart from the client's
(``core/venues/topstepx/codes.py``) so that a wrong code on one side cannot hide behind the same
mistake on the other; a test pins both to the spec.
"""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timezone

from core.domain.types import OrderStatus, OrderType, PositionType, Side
from core.venues.sim.models import SimAccount, SimContract, SimOrder, SimPosition, SimTrade

# ----------------------------------------------------------------------------- §5.1 codes
#: OrderSide: 0 Bid (buy), 1 Ask (sell).
SIDE_CODE: dict[Side, int] = {Side.BUY: 0, Side.SELL: 1}
#: TradeLogType of market prints (the aggressor): 0 Buy, 1 Sell.
TRADE_SIDE_CODE: dict[Side, int] = {Side.BUY: 0, Side.SELL: 1}
#: OrderType.
TYPE_CODE: dict[OrderType, int] = {
    OrderType.UNKNOWN: 0, OrderType.LIMIT: 1, OrderType.MARKET: 2, OrderType.STOP_LIMIT: 3,
    OrderType.STOP: 4, OrderType.TRAILING_STOP: 5, OrderType.JOIN_BID: 6, OrderType.JOIN_ASK: 7}
#: OrderStatus (7 PendingCancellation and 8 Suspended as seen live).
STATUS_CODE: dict[OrderStatus, int] = {
    OrderStatus.UNKNOWN: 0, OrderStatus.OPEN: 1, OrderStatus.FILLED: 2, OrderStatus.CANCELLED: 3,
    OrderStatus.EXPIRED: 4, OrderStatus.REJECTED: 5, OrderStatus.PENDING: 6,
    OrderStatus.PENDING_CANCEL: 7, OrderStatus.SUSPENDED: 8}
#: PositionType: 0 Undefined, 1 Long, 2 Short.
POSITION_CODE: dict[PositionType, int] = {PositionType.FLAT: 0, PositionType.LONG: 1,
                                          PositionType.SHORT: 2}
SIDE_OF: dict[int, Side] = {v: k for k, v in SIDE_CODE.items()}
TYPE_OF: dict[int, OrderType] = {v: k for k, v in TYPE_CODE.items()}
STATUS_OF: dict[int, OrderStatus] = {v: k for k, v in STATUS_CODE.items()}

_NS = 1_000_000_000
_ISO_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


@lru_cache(maxsize=4096)
def _iso_seconds(secs: int) -> str:
    return datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def iso(ns: int, digits: int = 7) -> str:
    """Format UTC nanoseconds as ISO-8601 with ``digits`` fractional digits and ``+00:00``."""
    secs, frac = divmod(int(ns), _NS)
    base = _iso_seconds(secs)
    if digits > 0:
        base += "." + f"{frac:09d}"[:digits]
    return base + "+00:00"


def parse_iso(text: str) -> int:
    """Parse an ISO-8601 timestamp (any number of fractional digits; naive = UTC) to UTC ns.

    Raises:
        ValueError: Not an ISO-8601 timestamp.
    """
    m = _ISO_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    day, hms, frac, tz = m.groups()
    if hms.count(":") == 1:
        hms += ":00"
    tz = "+00:00" if tz in (None, "Z") else tz
    if len(tz) == 5:
        tz = tz[:3] + ":" + tz[3:]
    dt = datetime.fromisoformat(f"{day}T{hms}{tz}")
    ns = int(dt.timestamp()) * _NS
    if frac:
        ns += int((frac + "000000000")[:9])
    return ns


def _px(c: SimContract, ticks: float | None) -> float | None:
    return None if ticks is None else round(ticks * c.tick_size, 10)


def account_json(a: SimAccount) -> dict:
    """AccountModel (§4.2)."""
    return {"id": a.id, "name": a.name, "balance": round(a.balance, 2), "canTrade": a.can_trade,
            "isVisible": a.is_visible, "simulated": a.simulated}


def contract_json(c: SimContract) -> dict:
    """ContractModel (§4.3)."""
    return {"id": c.id, "name": c.name, "description": c.description, "tickSize": c.tick_size,
            "tickValue": c.tick_value, "activeContract": c.active, "symbolId": c.symbol_id}


def order_json(o: SimOrder, c: SimContract, digits: int = 7) -> dict:
    """OrderModel (§4.8) including the swagger/live extras (trail, parent, linked)."""
    return {
        "id": o.id, "accountId": o.account_id, "contractId": o.contract_id,
        "symbolId": o.symbol_id, "creationTimestamp": iso(o.created_ns, digits),
        "updateTimestamp": iso(o.updated_ns, digits), "status": STATUS_CODE[o.status],
        "type": TYPE_CODE[o.type], "side": SIDE_CODE[o.side], "size": o.size, "limitPrice": _px(c, o.limit_ticks),
        "stopPrice": _px(c, o.stop_ticks), "fillVolume": o.fill_volume,
        "filledPrice": _px(c, o.filled_ticks), "customTag": o.custom_tag,
        "trailDistance": o.trail_distance,
        "trailPrice": None if o.trail_distance is None else _px(c, o.trail_distance),
        "parentOrderId": o.parent_order_id, "linkedOrderId": o.linked_order_id,
    }


def position_json(p: SimPosition, c: SimContract, digits: int = 7) -> dict:
    """PositionModel (§4.9); ``size`` is the magnitude, the direction is ``type``."""
    return {"id": p.id, "accountId": p.account_id, "contractId": p.contract_id,
            "contractDisplayName": c.name, "creationTimestamp": iso(p.created_ns, digits),
            "type": POSITION_CODE[p.type], "size": abs(p.net), "averagePrice": _px(c, p.avg_ticks) if p.net else 0.0}


def trade_json(t: SimTrade, c: SimContract, digits: int = 7) -> dict:
    """TradeModel (§4.10): one half-turn; ``profitAndLoss`` null on an opening fill."""
    return {"id": t.id, "accountId": t.account_id, "contractId": t.contract_id,
            "creationTimestamp": iso(t.created_ns, digits), "price": _px(c, t.price_ticks),
            "profitAndLoss": None if t.pnl is None else round(t.pnl, 2), "fees": round(t.fees, 2),
            "commissions": round(t.commissions, 2), "side": SIDE_CODE[t.side], "size": t.size,
            "voided": t.voided, "orderId": t.order_id}


def envelope(payload: dict | None = None, code: int = 0, message: str | None = None) -> dict:
    """The response envelope every REST call carries (§2)."""
    out = {"success": code == 0, "errorCode": code, "errorMessage": message}
    if payload:
        out.update(payload)
    return out


def problem(errors: dict[str, list[str]], title: str = "One or more validation errors occurred.") -> dict:
    """ASP.NET ProblemDetails body for HTTP 400 (§2)."""
    return {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": title,
            "status": 400, "errors": errors}
