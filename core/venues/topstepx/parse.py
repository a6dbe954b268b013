"""Pure parsers: gateway JSON payloads → domain value types.

No I/O, no clock. Tested against recorded payload fixtures in
``tests/integration/topstepx/resources/``. Every parser accepts the documented shape and the
shapes observed live (topstepx-gateway.md §7.5): wrapped ``[{action, data}]`` user events,
list-valued market events with ``null`` items, sparse quotes, 7-digit fractional seconds,
prices with float noise, missing or ``null`` lists. Gateway codes (side, type, status) become
venue-neutral domain enums through :mod:`.codes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.domain import Account, Bar, Contract, Fill, Order, Position, Quote, TradeTick
from core.errors import DataError
from core.venues.topstepx.codes import (
    order_status_from_code,
    order_type_from_code,
    position_type_from_code,
    side_from_code,
    trade_side_from_code,
)

_TS = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?\s*(Z|z|[+-]\d{2}:?\d{2})?$")


_last: list[Any] = [None, 0]  # one-entry cache (value, ns); pure: same input, same output


def parse_ts(value: Any) -> int:
    """Parse a gateway timestamp into UTC nanoseconds.

    Accepts ``Z`` or ``±hh:mm`` offsets, no offset (taken as UTC) and any number of
    fractional digits (the gateway sends up to 7, which some ``fromisoformat`` reject).

    Args:
        value: An ISO-8601 string, or ``None``/``""`` (→ 0).

    Raises:
        DataError: If the string is not a timestamp.
    """
    if value is None or value == "":
        return 0
    if value == _last[0]:  # bursts of quotes share their timestamp string
        return _last[1]
    m = _TS.match(str(value).strip())
    if not m:
        raise DataError(f"unparseable gateway timestamp {value!r}",
                        hint="expected ISO-8601 like 2025-07-01T14:03:26.1199235+00:00")
    date, clock, frac, off = m.groups()
    if clock.count(":") == 1:
        clock += ":00"
    if off is None or off in ("Z", "z"):
        off = "+00:00"
    elif ":" not in off:
        off = off[:3] + ":" + off[3:]
    base = datetime.fromisoformat(f"{date}T{clock}{off}")
    whole = int(base.timestamp()) * 1_000_000_000
    frac_ns = int((frac or "0")[:9].ljust(9, "0"))
    _last[0], _last[1] = value, whole + frac_ns
    return whole + frac_ns


def format_ts(ns: int) -> str:
    """Format UTC nanoseconds as the ISO string requests use (``...Z``, microseconds)."""
    dt = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    micros = (ns % 1_000_000_000) // 1000
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"


def round_price(price: float, tick: float) -> float:
    """Round ``price`` to the nearest multiple of ``tick`` (half away from zero), noise-free.

    Done in Decimal so ``5000.250000001`` and ``5000.2499999`` both give ``5000.25``.
    """
    if tick <= 0:
        return float(price)
    t = Decimal(str(tick))
    n = (Decimal(str(price)) / t).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(n * t)


def snap(price: float | None, tick: float) -> float | None:
    """Fast float rounding to the tick grid for the hot event path (``None`` stays ``None``)."""
    if price is None or tick <= 0:
        return price
    return round(round(price / tick) * tick, 10)


def _f(value: Any) -> float | None:
    """A decimal field (string or number) as float; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    return float(value)


def _i(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    return int(value)


def _opt_i(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def items(payload: Mapping[str, Any] | None, key: str) -> list[dict[str, Any]]:
    """The list ``payload[key]``, or ``[]`` when missing or ``null``; ``null`` items dropped."""
    if not payload:
        return []
    value = payload.get(key)
    if value is None:
        return []
    if isinstance(value, dict):  # an older shape sent one object where a list was expected
        return [value]
    return [x for x in value if isinstance(x, dict)]


def parse_account(d: Mapping[str, Any]) -> Account:
    """AccountModel / GatewayUserAccount → :class:`Account`."""
    return Account(id=_i(d.get("id")), name=str(d.get("name") or ""),
                   balance=_f(d.get("balance")) or 0.0, can_trade=bool(d.get("canTrade", False)),
                   is_visible=bool(d.get("isVisible", True)),
                   simulated=bool(d.get("simulated", False)))


def parse_contract(d: Mapping[str, Any]) -> Contract:
    """ContractModel → :class:`Contract` (the id stays an opaque string)."""
    return Contract(id=str(d.get("id")), name=str(d.get("name") or ""),
                    tick_size=_f(d.get("tickSize")) or 0.0, tick_value=_f(d.get("tickValue")) or 0.0,
                    symbol_id=str(d.get("symbolId") or ""),
                    description=str(d.get("description") or ""),
                    active=bool(d.get("activeContract", False)))


def parse_order(d: Mapping[str, Any]) -> Order:
    """OrderModel / GatewayUserOrder → :class:`Order` (ids are int64).

    Raises:
        DataError: The side is not a known code (it is never guessed).
    """
    created = parse_ts(d.get("creationTimestamp"))
    updated = parse_ts(d.get("updateTimestamp")) or created
    return Order(
        id=_i(d.get("id")), account_id=_i(d.get("accountId")),
        contract_id=str(d.get("contractId") or ""),
        side=side_from_code(d.get("side")),
        type=order_type_from_code(d.get("type")),
        size=_i(d.get("size")),
        status=order_status_from_code(d.get("status")),
        limit_price=_f(d.get("limitPrice")), stop_price=_f(d.get("stopPrice")),
        trail_price=_f(d.get("trailPrice")),
        filled_size=_i(d.get("fillVolume")), fill_price=_f(d.get("filledPrice")),
        custom_tag=d.get("customTag") or None, created_ts=created, updated_ts=updated,
        parent_id=_opt_i(d.get("parentOrderId")), linked_id=_opt_i(d.get("linkedOrderId")),
        trail_distance=_opt_i(d.get("trailDistance")),
    )


def parse_position(d: Mapping[str, Any]) -> Position:
    """PositionModel / GatewayUserPosition → :class:`Position` (size 0 means flat).

    Raises:
        DataError: A non-zero size without a known direction.
    """
    size = abs(_i(d.get("size")))
    ptype = position_type_from_code(d.get("type"), size)
    return Position(account_id=_i(d.get("accountId")), contract_id=str(d.get("contractId") or ""),
                    type=ptype, size=size, average_price=_f(d.get("averagePrice")) or 0.0,
                    ts=parse_ts(d.get("creationTimestamp")))


def parse_trade(d: Mapping[str, Any]) -> Fill:
    """TradeModel / GatewayUserTrade (one half-turn) → :class:`Fill`.

    Raises:
        DataError: The side is not a known code.
    """
    return Fill(id=_i(d.get("id")), account_id=_i(d.get("accountId")),
                contract_id=str(d.get("contractId") or ""), order_id=_i(d.get("orderId")),
                side=side_from_code(d.get("side")), price=_f(d.get("price")) or 0.0,
                size=_i(d.get("size")), fees=_f(d.get("fees")) or 0.0,
                ts=parse_ts(d.get("creationTimestamp")),
                profit_and_loss=_f(d.get("profitAndLoss")),
                commissions=_f(d.get("commissions")) or 0.0, voided=bool(d.get("voided", False)))


def parse_bars(rows: Iterable[Mapping[str, Any]], symbol: str = "") -> list[Bar]:
    """retrieveBars rows (newest first) → bars sorted ascending by start, duplicates dropped."""
    by_ts: dict[int, Bar] = {}
    for r in rows:
        if not isinstance(r, Mapping):
            continue
        ts = parse_ts(r.get("t"))
        by_ts[ts] = Bar(ts=ts, open=float(r["o"]), high=float(r["h"]), low=float(r["l"]),
                        close=float(r["c"]), volume=_i(r.get("v")), symbol=symbol)
    return [by_ts[k] for k in sorted(by_ts)]


def unwrap_user(argument: Any) -> list[tuple[int, dict[str, Any]]]:
    """A user-hub event argument → ``[(action, model), ...]``.

    Observed live: a list of ``{action, data}``; documented: a bare model. Both (and a bare
    ``{action, data}``) are accepted; ``null`` items are skipped. Bare models get action -1.
    """
    seq = argument if isinstance(argument, list) else [argument]
    out: list[tuple[int, dict[str, Any]]] = []
    for item in seq:
        if not isinstance(item, dict):
            continue
        if "data" in item and isinstance(item.get("data"), dict) and "id" not in item:
            out.append((_i(item.get("action"), -1), item["data"]))
        else:
            out.append((-1, item))
    return out


def merge_quote(contract_id: str, d: Mapping[str, Any], prev: Quote | None,
                tick: float = 0.0) -> Quote:
    """Merge a (possibly sparse) GatewayQuote into the previous full quote.

    Fields missing from ``d`` keep their previous value (sparse updates, §7.5); the time is
    ``timestamp`` or ``lastUpdated``, else the previous one. Prices are snapped to ``tick``
    when given (payloads carry float noise, §10 #12).
    """
    def pick(key: str, old: float | None) -> float | None:
        return snap(_f(d[key]), tick) if key in d and d[key] is not None else old

    ts = parse_ts(d.get("timestamp") or d.get("lastUpdated")) or (prev.ts if prev else 0)
    return Quote(
        ts=ts, contract_id=contract_id,
        bid=pick("bestBid", prev.bid if prev else None),
        ask=pick("bestAsk", prev.ask if prev else None),
        last=pick("lastPrice", prev.last if prev else None),
        bid_size=prev.bid_size if prev else None, ask_size=prev.ask_size if prev else None,
        volume=_f(d["volume"]) if d.get("volume") is not None else (prev.volume if prev else None),
    )


def parse_market_trades(contract_id: str, data: Any, tick: float = 0.0) -> list[TradeTick]:
    """GatewayTrade data (a list of prints, or one) → trade ticks (``type`` is the aggressor)."""
    seq = data if isinstance(data, list) else [data]
    out = []
    for d in seq:
        if not isinstance(d, dict) or d.get("price") is None:
            continue
        side = trade_side_from_code(d.get("type"))
        out.append(TradeTick(ts=parse_ts(d.get("timestamp")), contract_id=contract_id,
                             price=snap(float(d["price"]), tick) or 0.0,
                             size=_f(d.get("volume")) or 0.0, side=side))
    return out


def depth_rows(data: Any) -> list[tuple[int, float, float, int]]:
    """GatewayDepth data → ``[(type, price, volume, ts_ns), ...]``, ``null`` items dropped."""
    seq = data if isinstance(data, list) else [data]
    out = []
    for d in seq:
        if not isinstance(d, dict):
            continue
        out.append((_i(d.get("type")), _f(d.get("price")) or 0.0, _f(d.get("volume")) or 0.0,
                    parse_ts(d.get("timestamp"))))
    return out
