"""REST endpoints of the simulated gateway (§4) and the sim-only admin endpoints.

Each handler receives the parsed JSON body and returns the envelope dict (HTTP 200). The
middleware applies, in order: the 429 storm, the 5xx rate and the delay faults, the bearer
token check (401), the rate-limit windows (429), body parsing (400 ProblemDetails), then the
"timeout after accept" fault to mutations after they ran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.venues.sim import errors as E
from core.venues.sim.gateway import history
from core.venues.sim.gateway.wire import (
    SIDE_OF, STATUS_OF, TYPE_OF, account_json, contract_json, envelope, iso, order_json, parse_iso,
    position_json, problem, trade_json,
)
from core.venues.sim.models import Bracket, OrderStatus, OrderType

if TYPE_CHECKING:
    from core.venues.sim.gateway.server import SimGateway

Handler = Callable[["SimGateway", dict], dict]
_MUTATIONS = {"Order/place", "Order/modify", "Order/cancel", "Position/closeContract",
              "Position/partialCloseContract"}
_NO_AUTH = {"Auth/loginKey", "Auth/loginApp"}


class BadRequest(Exception):
    """Model-binding failure → HTTP 400 ProblemDetails."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


def _req(body: dict, name: str, kind: type) -> Any:
    if name not in body or body[name] is None:
        raise BadRequest({name: [f"The {name} field is required."]})
    return _conv(body, name, kind)


def _opt(body: dict, name: str, kind: type) -> Any:
    return None if body.get(name) is None else _conv(body, name, kind)


def _conv(body: dict, name: str, kind: type) -> Any:
    v = body[name]
    try:
        if kind is int:
            if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                raise ValueError
            return int(v)
        if kind is float:
            return float(v)
        if kind is bool:
            if not isinstance(v, bool):
                raise ValueError
            return v
        if kind is str:
            if not isinstance(v, str):
                raise ValueError
            return v
        if kind == "ts":
            return parse_iso(str(v))
    except (TypeError, ValueError):
        raise BadRequest({name: [f"The value {v!r} is not valid for {name}."]}) from None
    return v


# ---------------------------------------------------------------------------- auth
def login_key(gw: SimGateway, b: dict) -> dict:
    user, key = _req(b, "userName", str), _req(b, "apiKey", str)
    if user != gw.config.username:
        return envelope({"token": None}, E.LOGIN_USER_NOT_FOUND, "User not found.")
    if key != gw.config.api_key:
        return envelope({"token": None}, E.LOGIN_INVALID_CREDENTIALS, "Invalid credentials.")
    return envelope({"token": gw.tokens.issue(user)})


def login_app(gw: SimGateway, b: dict) -> dict:
    for f in ("userName", "password", "deviceId", "appId", "verifyKey"):
        _req(b, f, str)
    if b["userName"] != gw.config.username or b["password"] != gw.config.api_key:
        return envelope({"token": None}, E.LOGIN_INVALID_CREDENTIALS, "Invalid credentials.")
    return envelope({"token": gw.tokens.issue(b["userName"])})


def validate(gw: SimGateway, b: dict) -> dict:
    return envelope({"newToken": gw.tokens.issue(gw.config.username)})


def logout(gw: SimGateway, b: dict) -> dict:
    gw.tokens.revoke(b["_token"])
    return envelope()


# ---------------------------------------------------------------------------- reference data
def account_search(gw: SimGateway, b: dict) -> dict:
    only = _opt(b, "onlyActiveAccounts", bool)
    accts = [a for a in gw.engine.accounts.values() if a.active or not only]
    return envelope({"accounts": [account_json(a) for a in accts]})


def _fuzzy(text: str, c: Any) -> bool:
    t = text.lower().strip()
    hay = f"{c.id} {c.name} {c.description} {c.symbol_id}".lower()
    return not t or all(part in hay for part in t.split())


def contract_search(gw: SimGateway, b: dict) -> dict:
    text = _opt(b, "searchText", str) or ""
    _opt(b, "live", bool)
    found = [contract_json(c) for c in gw.engine.contracts.values() if _fuzzy(text, c)][:20]
    return envelope({"contracts": found})


def contract_by_id(gw: SimGateway, b: dict) -> dict:
    cid = _req(b, "contractId", str)
    c = gw.engine.contracts.get(cid)
    if c is None:
        return envelope({"contract": None}, E.NOT_FOUND, f"Contract {cid} not found.")
    return envelope({"contract": contract_json(c)})


def contract_available(gw: SimGateway, b: dict) -> dict:
    _opt(b, "live", bool)
    return envelope({"contracts": [contract_json(c) for c in gw.engine.contracts.values()]})


def retrieve_bars(gw: SimGateway, b: dict) -> dict:
    cid = _req(b, "contractId", str)
    start, end = _req(b, "startTime", "ts"), _req(b, "endTime", "ts")
    unit, n = _req(b, "unit", int), _req(b, "unitNumber", int)
    limit = _req(b, "limit", int)
    partial = bool(_opt(b, "includePartialBar", bool))
    if cid not in gw.engine.contracts:
        return envelope({"bars": None}, E.BARS_CONTRACT_NOT_FOUND, f"Contract {cid} not found.")
    if unit not in range(1, 8):
        return envelope({"bars": None}, E.BARS_UNIT_INVALID, f"Invalid unit {unit}.")
    if n <= 0:
        return envelope({"bars": None}, E.BARS_UNIT_NUMBER_INVALID, f"Invalid unitNumber {n}.")
    if not 0 < limit <= 20_000:
        return envelope({"bars": None}, E.BARS_LIMIT_INVALID, f"Invalid limit {limit} (1..20000).")
    if gw.bars is None or cid != gw.contract.id:
        return envelope({"bars": []})
    now = gw.clock.now_ns()
    if unit == 7:
        p = gw.path
        ts, px, vol = p.ts, p.price, p.size  # type: ignore[union-attr]
        rows = history.aggregate(ts, px, px, px, px, vol, unit=7, unit_number=n, start_ns=start,
                                 end_ns=end, now_ns=now, bar_ns=0, include_partial=partial,
                                 limit=limit)
    else:
        ts, o, h, l, c, v = gw.bars_arrays
        rows = history.aggregate(ts, o, h, l, c, v, unit=unit, unit_number=n, start_ns=start,
                                 end_ns=end, now_ns=now, bar_ns=gw.bar_ns,
                                 include_partial=partial, limit=limit)
    d = gw.config.timestamp_digits
    return envelope({"bars": [{"t": iso(t, d), "o": o, "h": h, "l": l, "c": c, "v": v}
                              for t, o, h, l, c, v in rows]})


# ---------------------------------------------------------------------------- orders
def _bracket(b: dict, name: str) -> Bracket | None:
    v = b.get(name)
    if v is None:
        return None
    if not isinstance(v, dict) or "ticks" not in v or "type" not in v:
        raise BadRequest({name: ["A bracket needs 'ticks' and 'type'."]})
    return Bracket(ticks=_conv(v, "ticks", int), type=_type_of(_conv(v, "type", int)))


def _type_of(code: int) -> OrderType:
    # Codes outside §5.1 become UNKNOWN, which the engine rejects as unsupported (code 2).
    return TYPE_OF.get(code, OrderType.UNKNOWN)


def order_place(gw: SimGateway, b: dict) -> dict:
    account, contract = _req(b, "accountId", int), _req(b, "contractId", str)
    type_code, side_code, size = _req(b, "type", int), _req(b, "side", int), _req(b, "size", int)
    side = SIDE_OF.get(side_code)
    if side is None:  # checked here: the engine only knows the domain's two sides
        return envelope({"orderId": None}, E.PLACE_REJECTED,
                        f"Invalid side {side_code} (0 buy, 1 sell).")
    r = gw.engine.place(
        account, contract, _type_of(type_code), side, size,
        limit_price=_opt(b, "limitPrice", float),
        stop_price=_opt(b, "stopPrice", float), trail_price=_opt(b, "trailPrice", float),
        custom_tag=_opt(b, "customTag", str), stop_loss_bracket=_bracket(b, "stopLossBracket"),
        take_profit_bracket=_bracket(b, "takeProfitBracket"))
    return envelope({"orderId": r.order_id}, r.error_code, r.message)


def order_modify(gw: SimGateway, b: dict) -> dict:
    r = gw.engine.modify(_req(b, "accountId", int), _req(b, "orderId", int),
                         size=_opt(b, "size", int), limit_price=_opt(b, "limitPrice", float),
                         stop_price=_opt(b, "stopPrice", float),
                         trail_price=_opt(b, "trailPrice", float))
    return envelope(None, r.error_code, r.message)


def order_cancel(gw: SimGateway, b: dict) -> dict:
    r = gw.engine.cancel(_req(b, "accountId", int), _req(b, "orderId", int))
    return envelope(None, r.error_code, r.message)


def _orders_json(gw: SimGateway, orders: list) -> list[dict]:
    d = gw.config.timestamp_digits
    return [order_json(o, gw.engine.contracts[o.contract_id], d) for o in orders]


def _account_orders(gw: SimGateway, aid: int) -> list:
    return sorted((o for o in gw.engine.orders.values() if o.account_id == aid), key=lambda o: o.id)


def order_search(gw: SimGateway, b: dict) -> dict:
    aid = _req(b, "accountId", int)
    start = _req(b, "startTimestamp", "ts")
    end = _opt(b, "endTimestamp", "ts")
    rows = [o for o in _account_orders(gw, aid) if o.status != OrderStatus.SUSPENDED
            and o.created_ns >= start and (end is None or o.created_ns < end)]
    return envelope({"orders": _orders_json(gw, rows)})


def order_search_open(gw: SimGateway, b: dict) -> dict:
    aid = _req(b, "accountId", int)
    rows = gw.engine.working_orders(aid, include_suspended=False)
    return envelope({"orders": _orders_json(gw, rows)})


def order_by_id(gw: SimGateway, b: dict) -> dict:
    aid, oid = _req(b, "accountId", int), _req(b, "orderId", int)
    o = gw.engine.orders.get(oid)
    if o is None or o.account_id != aid:
        return envelope({"order": None}, E.NOT_FOUND, f"Order {oid} not found.")
    return envelope({"order": _orders_json(gw, [o])[0]})


def order_query_v2(gw: SimGateway, b: dict) -> dict:
    flt = b.get("filter")
    if not isinstance(flt, dict):
        raise BadRequest({"filter": ["The filter field is required."]})
    aid = _req(flt, "accountId", int)
    statuses = flt.get("statuses")
    if statuses is not None and (not isinstance(statuses, list)
                                 or not all(isinstance(s, int) for s in statuses)):
        raise BadRequest({"filter.statuses": ["Must be a list of OrderStatus integers."]})
    cid = _opt(flt, "contractId", str)
    after, before = _opt(flt, "createdAfter", "ts"), _opt(flt, "createdBefore", "ts")
    size = _opt(b, "pageSize", int) or 100
    offset = _opt(b, "pageOffset", int) or 0
    sort_by = _opt(b, "sortBy", int) or 0
    desc = (_opt(b, "sortDirection", int) or 0) == 1
    if not 0 < size <= 1000 or offset < 0 or sort_by not in (0, 1):
        raise BadRequest({"paging": ["pageSize must be 1..1000, pageOffset >= 0, sortBy 0 or 1."]})
    wanted = None if statuses is None else {STATUS_OF[s] for s in statuses if s in STATUS_OF}
    rows = [o for o in _account_orders(gw, aid)
            if (wanted is None or o.status in wanted)
            and (cid is None or o.contract_id == cid)
            and (after is None or o.created_ns >= after) and (before is None or o.created_ns < before)]
    rows.sort(key=(lambda o: (o.created_ns, o.id)) if sort_by == 0 else (lambda o: o.id), reverse=desc)
    out: dict[str, Any] = {"orders": _orders_json(gw, rows[offset:offset + size])}
    if b.get("includeTotalCount"):
        out["totalCount"] = len(rows)
    return envelope(out)


# ---------------------------------------------------------------------------- positions, trades
def position_search_open(gw: SimGateway, b: dict) -> dict:
    aid = _req(b, "accountId", int)
    d = gw.config.timestamp_digits
    rows = [position_json(p, gw.engine.contracts[p.contract_id], d)
            for p in gw.engine.ledger.open_positions(aid)]
    return envelope({"positions": rows})


def _market_closed(gw: SimGateway, partial: bool) -> dict | None:
    """The ``reject_closes`` fault: the live gateway's answer to a close while the market is
    closed (success false, the close-rejected code, a null message; §4.9)."""
    f = gw.faults
    if f.reject_closes <= 0:
        return None
    f.reject_closes -= 1
    return envelope(None, E.PCLOSE_ORDER_REJECTED if partial else E.CLOSE_ORDER_REJECTED, None)


def position_close(gw: SimGateway, b: dict) -> dict:
    if (rej := _market_closed(gw, partial=False)) is not None:
        return rej
    r = gw.engine.close_position(_req(b, "accountId", int), _req(b, "contractId", str))
    return envelope(None, r.error_code, r.message)


def position_partial_close(gw: SimGateway, b: dict) -> dict:
    if (rej := _market_closed(gw, partial=True)) is not None:
        return rej
    r = gw.engine.close_position(_req(b, "accountId", int), _req(b, "contractId", str),
                                 _req(b, "size", int))
    return envelope(None, r.error_code, r.message)


def trade_search(gw: SimGateway, b: dict) -> dict:
    aid = _req(b, "accountId", int)
    start = _req(b, "startTimestamp", "ts")
    end = _opt(b, "endTimestamp", "ts")
    d = gw.config.timestamp_digits
    rows = [trade_json(t, gw.engine.contracts[t.contract_id], d) for t in gw.engine.ledger.trades
            if t.account_id == aid and t.created_ns >= start and (end is None or t.created_ns < end)]
    return envelope({"trades": rows})


ROUTES: dict[str, Handler] = {
    "Auth/loginKey": login_key, "Auth/loginApp": login_app, "Auth/validate": validate,
    "Auth/logout": logout, "Account/search": account_search, "Contract/search": contract_search,
    "Contract/searchById": contract_by_id, "Contract/available": contract_available,
    "History/retrieveBars": retrieve_bars, "Order/place": order_place,
    "Order/modify": order_modify, "Order/cancel": order_cancel, "Order/search": order_search,
    "Order/searchOpen": order_search_open, "Order/searchById": order_by_id,
    "Order/v2/query": order_query_v2, "Position/searchOpen": position_search_open,
    "Position/closeContract": position_close,
    "Position/partialCloseContract": position_partial_close, "Trade/search": trade_search,
}
