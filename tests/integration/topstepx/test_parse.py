"""Pure parsers against recorded/derived payloads (resources/) and invariants (hypothesis)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import OrderStatus, OrderType, PositionType, Side
from core.errors import DataError
from core.venues.topstepx import parse as p
from core.venues.topstepx.auth import jwt_exp_ns
from core.venues.topstepx.book import DepthBook
from core.venues.topstepx.state import VenueState

RES = Path(__file__).parent / "resources"


def load(name: str) -> Any:
    return json.loads((RES / name).read_text())


def test_every_fixture_is_valid_json() -> None:
    files = sorted(RES.glob("*.json"))
    assert len(files) >= 20
    for f in files:
        json.loads(f.read_text())


@pytest.mark.parametrize("text,expected_ns", [
    ("2025-07-01T14:03:26.1199235+00:00", 1751378606_119923500),
    ("2025-07-01T14:03:26Z", 1751378606_000000000),
    ("2025-07-01T14:03:26", 1751378606_000000000),
    ("2025-07-01T09:03:26.5-05:00", 1751378606_500000000),
    ("2025-07-01T14:03:26.123456789+0000", 1751378606_123456789),
])
def test_parse_ts_handles_seven_digits_offsets_and_naive(text: str, expected_ns: int) -> None:
    assert p.parse_ts(text) == expected_ns


def test_parse_ts_rejects_garbage_with_a_hint() -> None:
    with pytest.raises(DataError, match="unparseable"):
        p.parse_ts("yesterday")
    assert p.parse_ts(None) == 0


@given(st.integers(min_value=0, max_value=4_000_000_000 * 10**9))
def test_format_then_parse_roundtrips_to_the_microsecond(ns: int) -> None:
    assert p.parse_ts(p.format_ts(ns)) == ns - ns % 1000


@given(st.floats(min_value=1, max_value=20000, allow_nan=False), st.sampled_from([0.25, 0.1, 1.0, 0.01]))
def test_round_price_lands_on_the_grid(price: float, tick: float) -> None:
    r = p.round_price(price, tick)
    assert abs(r / tick - round(r / tick)) < 1e-9
    assert abs(r - price) <= tick / 2 + 1e-9


def test_round_price_removes_float_noise() -> None:
    assert p.round_price(5000.250000001, 0.25) == 5000.25
    assert p.round_price(5000.2499999, 0.25) == 5000.25
    assert p.round_price(5000.125, 0.25) == 5000.25  # half away from zero


def test_accounts() -> None:
    accs = [p.parse_account(d) for d in p.items(load("accounts.json"), "accounts")]
    assert [a.id for a in accs] == [536, 537]
    assert accs[0].balance == pytest.approx(50125.5) and accs[0].can_trade
    assert accs[1].balance == 150000.0 and not accs[1].can_trade


def test_contracts_filter_by_symbol_id_not_by_string_building() -> None:
    cs = [p.parse_contract(d) for d in p.items(load("contract_search.json"), "contracts")]
    active = [c for c in cs if c.symbol_id == "F.US.MES" and c.active]
    assert [c.id for c in active] == ["CON.F.US.MES.Z25"]
    assert active[0].tick_size == 0.25 and active[0].tick_value == 1.25
    assert [c.tick_value for c in cs if c.symbol_id == "F.US.EP"] == [12.5]


def test_contract_by_id_accepts_single_and_legacy_array() -> None:
    one = p.items(load("contract_by_id_single.json"), "contract")
    legacy = p.items(load("contract_by_id_legacy_array.json"), "contracts")
    assert p.parse_contract(one[0]).id == p.parse_contract(legacy[0]).id == "CON.F.US.MES.Z25"


def test_bars_are_sorted_ascending_and_null_list_is_empty() -> None:
    bars = p.parse_bars(p.items(load("bars_newest_first.json"), "bars"), symbol="MES")
    assert [b.ts for b in bars] == sorted(b.ts for b in bars)
    assert bars[0].open == 6229.0 and bars[-1].volume == 812
    assert p.parse_bars(p.items(load("bars_empty_null.json"), "bars")) == []


def test_orders_with_int64_ids_and_bracket_legs() -> None:
    orders = [p.parse_order(d) for d in p.items(load("orders_search.json"), "orders")]
    entry, sl, tp = orders
    assert entry.id == 3345169271 > 2**31 and entry.status == OrderStatus.FILLED
    assert entry.fill_price == 6230.25 and entry.type == OrderType.MARKET and entry.side == Side.BUY
    assert entry.updated_ts > entry.created_ts
    assert sl.status == OrderStatus.SUSPENDED and sl.parent_id == entry.id and sl.is_working
    assert sl.updated_ts == sl.created_ts  # null updateTimestamp falls back to creation
    assert sl.trail_distance == -8
    assert tp.linked_id == sl.id and tp.custom_tag == "sdab12-1-TP" and tp.limit_price == 6233.25


def test_positions_trades() -> None:
    pos = p.parse_position(p.items(load("positions.json"), "positions")[0])
    assert pos.type == PositionType.SHORT and pos.signed_size == -3
    t_open, t_close = [p.parse_trade(d) for d in p.items(load("trades.json"), "trades")]
    assert t_open.profit_and_loss is None and t_open.commissions == 0.24
    assert t_close.profit_and_loss == 10.0 and t_close.commissions == 0.0


def test_user_events_wrapped_and_bare() -> None:
    wrapped = p.unwrap_user(load("hub_user_order_wrapped.json"))
    assert [a for a, _ in wrapped] == [0, 1]  # the null item is skipped
    bare = p.unwrap_user(load("hub_user_order_bare.json"))
    assert len(bare) == 1 and bare[0][0] == -1 and bare[0][1]["id"] == 3345169273
    closed = p.unwrap_user(load("hub_user_position_closed_wrapped.json"))
    pos = p.parse_position(closed[0][1])
    assert closed[0][0] == 2 and pos.size == 0 and pos.type == PositionType.FLAT


def test_state_dedups_duplicates_and_reordered_order_events() -> None:
    st_ = VenueState()
    pending, filled = (p.parse_order(d) for _, d in p.unwrap_user(load("hub_user_order_wrapped.json")))
    assert st_.apply_order(pending) and st_.apply_order(filled)
    assert not st_.apply_order(filled)  # duplicate
    assert not st_.apply_order(pending)  # late (reordered) older version
    assert st_.orders[filled.id].status == OrderStatus.FILLED
    fill = p.parse_trade(p.unwrap_user(load("hub_user_trade_wrapped.json"))[0][1])
    assert st_.apply_fill(fill) and not st_.apply_fill(fill)


def test_sparse_quote_merges_into_the_last_full_one() -> None:
    cid, full = load("hub_quote_full.json")
    q1 = p.merge_quote(cid, full, None)
    assert (q1.bid, q1.ask, q1.last, q1.volume) == (6230.0, 6230.25, 6230.25, 120345)
    _, sparse = load("hub_quote_sparse.json")
    q2 = p.merge_quote(cid, sparse, q1)
    assert q2.bid == 6230.0 and q2.last == 6230.25 and q2.volume == 120345
    assert q2.ask == pytest.approx(6230.5) and q2.ts > q1.ts
    assert p.merge_quote(cid, sparse, q1, tick=0.25).ask == 6230.5  # float noise snapped


def test_depth_reset_snapshot_then_increments() -> None:
    cid, boot = load("hub_depth_bootstrap.json")
    book = DepthBook(cid)
    ev = book.apply(p.depth_rows(boot))
    assert ev.reset and [lv.price for lv in ev.bids] == [6230.0, 6229.75]
    assert [lv.price for lv in ev.asks] == [6230.25, 6230.5]
    _, inc = load("hub_depth_increment.json")
    ev2 = book.apply(p.depth_rows(inc))
    assert not ev2.reset and [(lv.price, lv.size) for lv in ev2.bids] == [(6229.75, 31)]
    ev3 = book.apply(p.depth_rows(boot))  # a second Reset rebuilds from scratch
    assert ev3.reset and len(ev3.bids) == 2


def test_market_trades_list_and_single() -> None:
    cid, data = load("hub_market_trades_list.json")
    ticks = p.parse_market_trades(cid, data)
    assert [t.side for t in ticks] == [Side.BUY, Side.SELL] and ticks[0].size == 2
    assert len(p.parse_market_trades(cid, data[0])) == 1


def test_jwt_expiry_is_read_from_the_token() -> None:
    token = load("login_ok.json")["token"]
    assert jwt_exp_ns(token) == 1764000000 * 10**9
    assert jwt_exp_ns("not-a-jwt") is None
    assert datetime.fromtimestamp(jwt_exp_ns(token) / 1e9, tz=timezone.utc).year == 2025


def _versions(n: int) -> list[Any]:
    from core.domain import Order

    out = []
    for i in range(n):
        status = OrderStatus.FILLED if i == n - 1 else OrderStatus.OPEN
        out.append(Order(id=7, account_id=1, contract_id="C", side=Side.BUY, type=OrderType.LIMIT,
                         size=3, status=status, filled_size=min(i, 3), created_ts=1,
                         updated_ts=10 + i))
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=6).flatmap(
    lambda n: st.lists(st.integers(min_value=0, max_value=n - 1), min_size=n, max_size=3 * n)
    .filter(lambda xs: n - 1 in xs).map(lambda xs: (n, xs))))
def test_state_keeps_the_newest_version_whatever_the_arrival_order(case: tuple[int, list[int]]) -> None:
    n, arrivals = case
    versions = _versions(n)
    st_ = VenueState()
    changes = [st_.apply_order(versions[i]) for i in arrivals]
    assert st_.orders[7] == versions[-1]
    assert sum(changes) <= n  # duplicates and stale versions never count as changes
