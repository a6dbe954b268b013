"""ProjectX codes live only at the venue edge, and they round-trip both ways.

The client's table (core/venues/topstepx/codes.py) and the simulator's (core/venues/sim/gateway/
wire.py) are written apart on purpose; both are pinned here to the spec's numbers (§5.1), and a
simulator order serialised to the wire parses back to the same domain values.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import OrderStatus, OrderType, PositionType, Side
from core.errors import DataError, NonRetryableVenueError
from core.venues.sim.gateway import wire
from core.venues.sim.models import SimContract, SimOrder, SimPosition, SimTrade
from core.venues.topstepx import codes as c
from core.venues.topstepx import parse as p
from tests.integration.topstepx.conftest import T0, venue_for

# topstepx-gateway.md §5.1, copied by hand (the independent reference for both tables).
SPEC_SIDE = {0: Side.BUY, 1: Side.SELL}
SPEC_TYPE = {0: OrderType.UNKNOWN, 1: OrderType.LIMIT, 2: OrderType.MARKET, 3: OrderType.STOP_LIMIT,
             4: OrderType.STOP, 5: OrderType.TRAILING_STOP, 6: OrderType.JOIN_BID,
             7: OrderType.JOIN_ASK}
SPEC_STATUS = {0: OrderStatus.UNKNOWN, 1: OrderStatus.OPEN, 2: OrderStatus.FILLED,
               3: OrderStatus.CANCELLED, 4: OrderStatus.EXPIRED, 5: OrderStatus.REJECTED,
               6: OrderStatus.PENDING, 7: OrderStatus.PENDING_CANCEL, 8: OrderStatus.SUSPENDED}
SPEC_POSITION = {0: PositionType.FLAT, 1: PositionType.LONG, 2: PositionType.SHORT}
MES = SimContract("CON.F.US.MES.Z25", "MESZ5", "Micro E-mini S&P 500", "F.US.MES", 0.25, 1.25)


def _inverse(table: Any) -> dict[int, Any]:
    return {v: k for k, v in table.items()}


def test_both_tables_match_the_spec_and_cover_every_domain_member() -> None:
    assert _inverse(c.SIDE_CODES) == _inverse(wire.SIDE_CODE) == SPEC_SIDE
    assert _inverse(c.TRADE_SIDE_CODES) == _inverse(wire.TRADE_SIDE_CODE) == SPEC_SIDE
    assert _inverse(c.ORDER_TYPE_CODES) == _inverse(wire.TYPE_CODE) == SPEC_TYPE
    assert _inverse(c.ORDER_STATUS_CODES) == _inverse(wire.STATUS_CODE) == SPEC_STATUS
    assert _inverse(c.POSITION_TYPE_CODES) == _inverse(wire.POSITION_CODE) == SPEC_POSITION
    for enum, table in ((Side, SPEC_SIDE), (OrderType, SPEC_TYPE), (OrderStatus, SPEC_STATUS),
                        (PositionType, SPEC_POSITION)):
        assert set(table.values()) == set(enum), f"{enum.__name__} has members without a code"


@pytest.mark.parametrize("code,side", sorted(SPEC_SIDE.items()))
def test_side_code_round_trip(code: int, side: Side) -> None:
    assert c.side_from_code(code) is side and c.side_code(side) == code
    assert c.trade_side_from_code(code) is side


@pytest.mark.parametrize("code,kind", sorted(SPEC_TYPE.items()))
def test_order_type_code_round_trip(code: int, kind: OrderType) -> None:
    assert c.order_type_from_code(code) is kind
    if kind is OrderType.UNKNOWN:
        with pytest.raises(NonRetryableVenueError):
            c.order_type_code(kind)  # nothing meaningful to send
    else:
        assert c.order_type_code(kind) == code


@pytest.mark.parametrize("code,status", sorted(SPEC_STATUS.items()))
def test_order_status_code_round_trip(code: int, status: OrderStatus) -> None:
    assert c.order_status_from_code(code) is status and c.order_status_code(status) == code


@pytest.mark.parametrize("code,kind", sorted(SPEC_POSITION.items()))
def test_position_type_code_round_trip(code: int, kind: PositionType) -> None:
    size = 0 if kind is PositionType.FLAT else 2
    assert c.position_type_from_code(code, size) is kind and c.position_type_code(kind) == code


def test_unknown_codes_are_never_guessed_into_a_side_or_direction() -> None:
    for bad in (2, -1, None, "x", True):
        with pytest.raises(DataError, match="side"):
            c.side_from_code(bad)
        assert c.trade_side_from_code(bad) is None
    with pytest.raises(DataError, match="position"):
        c.position_type_from_code(0, 3)  # "undefined" but not flat
    with pytest.raises(DataError):
        p.parse_order({"id": 1, "side": 5, "type": 1, "status": 1})
    assert c.position_type_from_code(None, 0) is PositionType.FLAT
    assert c.order_type_from_code(42) is OrderType.UNKNOWN
    assert c.order_status_from_code(None) is OrderStatus.UNKNOWN
    with pytest.raises(ValueError):
        c.side_code(0)  # type: ignore[arg-type]  # an old bid code is not a Side


@pytest.mark.parametrize("side,kind,status", list(product(Side, OrderType, OrderStatus)))
def test_a_simulator_order_parses_back_to_the_same_domain_values(
        side: Side, kind: OrderType, status: OrderStatus) -> None:
    o = SimOrder(id=3_345_170_001, account_id=7, contract_id=MES.id, symbol_id=MES.symbol_id,
                 type=kind, side=side, size=2, created_ns=T0, updated_ns=T0 + 1, status=status,
                 limit_ticks=20_000)
    got = p.parse_order(wire.order_json(o, MES))
    assert (got.side, got.type, got.status, got.limit_price) == (side, kind, status, 5000.0)


@pytest.mark.parametrize("net,kind", [(3, PositionType.LONG), (-2, PositionType.SHORT),
                                      (0, PositionType.FLAT)])
def test_simulator_positions_and_trades_parse_back(net: int, kind: PositionType) -> None:
    pos = p.parse_position(wire.position_json(SimPosition(1, 7, MES.id, T0, net=net,
                                                          avg_ticks=20_000.0), MES))
    assert pos.type is kind and pos.signed_size == net
    for side in Side:
        t = SimTrade(5_100_000_001, 7, MES.id, T0, 20_000, side, 1, 1, 0.37, 0.24)
        assert p.parse_trade(wire.trade_json(t, MES)).side is side


@pytest.mark.parametrize("seconds,unit", [(1, (1, 1)), (15, (1, 15)), (90, (1, 90)),
                                          (60, (2, 1)), (300, (2, 5)), (3600, (3, 1)),
                                          (7200, (3, 2)), (86_400, (4, 1)), (604_800, (5, 1))])
def test_bar_seconds_become_unit_and_unit_number(seconds: int, unit: tuple[int, int]) -> None:
    assert c.bar_unit(seconds) == unit and c.bar_seconds_of(*unit) == seconds


@given(st.integers(min_value=1, max_value=10 * 604_800))
def test_bar_unit_round_trips_every_whole_second(seconds: int) -> None:
    assert c.bar_seconds_of(*c.bar_unit(seconds)) == seconds


@pytest.mark.parametrize("bad", [0, -60, 1.5, True])
def test_bar_unit_refuses_non_positive_or_fractional_sizes(bad: Any) -> None:
    with pytest.raises(NonRetryableVenueError):
        c.bar_unit(bad)


async def test_bars_of_five_minutes_come_back_five_minutes_apart(sim: Any) -> None:
    sim.replay.step(4 * 240)  # play the whole replay: every bar is history now
    v = venue_for(sim)
    await v.connect(hubs=False)
    try:
        con = await v.active_contract("F.US.MES")
        five = await v.bars(con.id, T0, T0 + 239 * 60_000_000_000, bar_seconds=300)
        one = await v.bars(con.id, T0, T0 + 239 * 60_000_000_000, bar_seconds=60)
    finally:
        await v.close()
    assert len(five) >= 40 and {b.ts % 300_000_000_000 for b in five} == {0}
    assert {b2.ts - b1.ts for b1, b2 in zip(five, five[1:])} == {300_000_000_000}
    assert sum(b.volume for b in five) == sum(b.volume for b in one if b.ts >= five[0].ts
                                              and b.ts < five[-1].ts + 300_000_000_000)
