"""The engine's status as the operator sees it (`scalpdesk ctl status`, the console).

One function reads the engine's state into a plain dict (JSON over the control socket);
nothing here decides or changes anything. The console renders it as panes: header (profile,
account, which book, venue), quotes, model (and shadow), positions and orders (bracket legs),
risk gauges (core.risk.gauges), schedule, feeds and drop counters, alerts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.engine.live import LiveEngine

#: Order roles the console names (ours), and how a broker-only order (a bracket leg) is named.
_LEG_ROLE = {"stop": "stop", "limit": "target"}


def book_of(venue_kind: str, simulated: bool) -> str:
    """Which book an engine trades: the local simulator, a paper (practice) account, or live."""
    if venue_kind == "sim":
        return "simulator"
    return "paper" if simulated else "live"


def status_of(e: LiveEngine) -> dict[str, Any]:
    """Everything `ctl status` and the console show, at the engine clock's now."""
    now = e.clock.now_ns()
    rs = e.risk.status(now)
    open_pnl = e.open_pnl()
    return {
        "ts_ns": now, "profile": e.profile.name, "book": e.info.get("book"),
        "venue": e.profile.venue.kind, "account": e.info.get("account"),
        "mode": rs.mode, "reason": rs.reason, "armed": e.state.armed,
        "killed": e.guard.killed, "position": e.state.position,
        "avg_price": e.state.avg_price, "last_price": e.state.last_price,
        "open_pnl": open_pnl, "balance": rs.balance, "day_pnl": rs.day_pnl,
        "mll_level": rs.mll_level, "halts": list(rs.halts), "failed": rs.failed,
        "entries_blocked": e.state.entries_blocked, "bars": e.state.bars,
        "trades": e.state.trades_booked, "alerts": list(e.alerts.values()),
        "working_orders": [o.tag for o in e.book.live()],
        "orders": orders_of(e),
        "feeds": {k: v.value for k, v in e.feeds.items()},
        "feed_block": e.feed_block(),
        "quotes_coalesced": e.quotes_coalesced,
        "drops": drops_of(e),
        "broker_balance": e.broker_balance, "balance_seen_ns": e.balance_seen_ns,
        "mll_headroom": e.mll_headroom(), "reconciled_ns": e.reconciled_ns or None,
        "contract_id": e.contract.id, "account_id": e.account_id,
        "quote": dict(e.quote) if e.quote else None,
        "model": model_view(e.last_prediction, e.last_action),
        "shadow": model_view(e.last_shadow, None),
        "limits": e.risk.gauges(open_pnl),
        "loss_streak": rs.consecutive_losses, "pause_until_ns": rs.paused_until_ns,
        "flatten_at_ns": e.risk.exit_at_ns(now),
    }


def orders_of(e: LiveEngine) -> list[dict[str, Any]]:
    """Working orders: ours by tag and role, and the broker's bracket legs (no tag of ours)."""
    out: list[dict[str, Any]] = []
    ours = set()
    for o in e.book.live():
        ours.add(o.order_id)
        out.append({"tag": o.tag, "id": o.order_id, "role": o.role,
                    "side": "BUY" if o.side > 0 else "SELL", "type": o.type, "size": o.size,
                    "price": o.stop_price if o.stop_price is not None else o.limit_price,
                    "status": o.state})
    for o in e.broker_orders.values():
        status = str(getattr(o.status, "name", o.status)).lower()
        if o.id in ours or status not in ("open", "pending", "suspended"):
            continue
        if o.contract_id != e.contract.id:
            continue
        kind = str(getattr(o.type, "name", o.type)).lower()
        role = next((r for k, r in _LEG_ROLE.items() if k in kind), kind)
        side = "BUY" if int(o.side) > 0 else "SELL"
        out.append({"tag": o.custom_tag, "id": o.id, "role": role, "side": side,
                    "type": kind, "size": o.size - (o.filled_size or 0),
                    "price": o.stop_price if o.stop_price is not None else o.limit_price,
                    "status": status})
    return out


def model_view(pe: dict[str, Any] | None, signal: int | None) -> dict[str, Any] | None:
    """A PredictionMade event as the model pane shows it (``signal``: the direction after
    the confidence floor, None for a shadow model that never trades)."""
    if pe is None:
        return None
    return {"name": pe.get("model", ""), "probs": list(pe.get("probabilities") or []),
            "confidence": pe.get("confidence"), "direction": pe.get("direction"),
            "signal": signal, "ts_ns": pe.get("ts_ns"),
            "latency_ms": float(pe.get("latency_us") or 0.0) / 1e3,
            "predicted_move": pe.get("predicted_move")}


def drop_counters(quotes_coalesced: int, venue: Any) -> dict[str, int]:
    """What was not passed on, and why: quotes coalesced in bursts (latest wins), payloads the
    client could not parse (skipped, logged), user events that were duplicates or older copies
    of state already applied. Prints and user events are never dropped by the engine itself
    (its queue is unbounded), so no counter for them is needed."""
    out = {"quotes_coalesced": int(quotes_coalesced), "market_bad_payloads": 0,
           "user_bad_payloads": 0, "user_duplicates_ignored": 0}
    for k, v in (getattr(venue, "drop_counts", None) or {}).items():
        out[str(k)] = int(v)
    return out


def drops_of(e: LiveEngine) -> dict[str, int]:
    """The engine's drop counters (see :func:`drop_counters`)."""
    return drop_counters(e.quotes_coalesced, e.venue)
