"""Matching-engine semantics of the simulated venue (core/venues/sim)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import local_time_ns
from core.clock import SimClock
from core.domain.types import OrderStatus, OrderType, Side
from core.errors import DataError
from core.venues.sim.matching import MatchingConfig, MatchingEngine
from core.venues.sim.models import Bracket, BracketMode, SimAccount, SimContract
from core.venues.sim.replay import Replay, bars_to_path
from core.venues.sim.topstep import TopstepLayer, TopstepRules

CID = "CON.F.US.MES.H24"
T0 = local_time_ns("2024-01-03", "09:00", "America/Chicago")


def mes() -> SimContract:
    return SimContract(CID, "MESH4", "Micro E-mini S&P 500: March 2024", "F.US.MES", 0.25, 1.25,
                       micro_ratio=10)


def make(cfg: MatchingConfig | None = None, *, balance: float = 50_000.0, mode=BracketMode.AUTO_OCO,
         t0: int = T0, topstep: TopstepRules | None = None) -> tuple[MatchingEngine, list]:
    acct = SimAccount(1, "50KTC-V2-1", balance, starting_balance=balance, bracket_mode=mode)
    eng = MatchingEngine(SimClock(t0), [mes()], [acct], cfg)
    if topstep is not None:
        eng.hooks.append(TopstepLayer({1: topstep}))
    events: list = []
    eng.add_listener(events.append)
    return eng, events


def q(eng: MatchingEngine, bid: float, ask: float, dt_s: float = 1.0) -> None:
    eng.on_quote(CID, bid, ask, ts_ns=eng.clock.now_ns() + int(dt_s * 1e9))


def tr(eng: MatchingEngine, px: float, dt_s: float = 1.0) -> None:
    eng.on_trade(CID, px, 1, ts_ns=eng.clock.now_ns() + int(dt_s * 1e9))


# ------------------------------------------------------------------ market orders
def test_market_buy_fills_at_ask_sell_at_bid_and_event_order() -> None:
    eng, ev = make()
    q(eng, 5000.0, 5000.25)
    r = eng.place(1, CID, OrderType.MARKET, Side.BUY, 2)
    assert r.ok and r.order_id > 2**31
    o = eng.orders[r.order_id]
    assert o.status == OrderStatus.FILLED and o.filled_ticks * 0.25 == 5000.25
    kinds = [(e.kind, getattr(e.obj, "status", None)) for e in ev]
    assert kinds == [("order", OrderStatus.PENDING), ("order", OrderStatus.FILLED),
                     ("trade", None), ("position", None), ("account", None)]
    assert ev[0].obj.fill_volume == 0  # snapshots, not live references
    r2 = eng.place(1, CID, OrderType.MARKET, Side.SELL, 2)
    assert eng.orders[r2.order_id].filled_ticks * 0.25 == 5000.0
    assert eng.ledger.position(1, CID) is None


def test_market_without_quote_is_rejected_code_2() -> None:
    eng, _ = make()
    r = eng.place(1, CID, OrderType.MARKET, Side.BUY, 1)
    assert r.error_code == 2 and "market price" in r.message and r.order_id is None


# ------------------------------------------------------------------ limits and joins
def test_limit_resting_fills_at_limit_marketable_fills_at_quote() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    rest = eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4999.0).order_id
    mkt = eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=5001.0).order_id
    assert eng.orders[mkt].status == OrderStatus.FILLED and eng.orders[mkt].filled_ticks == 20001
    assert eng.orders[rest].status == OrderStatus.OPEN
    q(eng, 4998.5, 4998.75)  # the ask crosses through 4999.0
    assert eng.orders[rest].status == OrderStatus.FILLED
    assert eng.orders[rest].filled_ticks * 0.25 == 4999.0


@pytest.mark.parametrize("touch,fills", [(True, True), (False, False)])
def test_limit_touch_versus_through_on_prints(touch: bool, fills: bool) -> None:
    eng, _ = make(MatchingConfig(limit_touch=touch))
    q(eng, 5000.0, 5000.25)
    oid = eng.place(1, CID, OrderType.LIMIT, Side.SELL, 1, limit_price=5001.0).order_id
    tr(eng, 5001.0)
    assert (eng.orders[oid].status == OrderStatus.FILLED) is fills
    tr(eng, 5001.25)  # through: always fills
    assert eng.orders[oid].status == OrderStatus.FILLED


def test_join_bid_and_join_ask_price_at_the_quote() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    jb = eng.orders[eng.place(1, CID, OrderType.JOIN_BID, Side.BUY, 1).order_id]
    ja = eng.orders[eng.place(1, CID, OrderType.JOIN_ASK, Side.SELL, 1).order_id]
    assert jb.limit_ticks * 0.25 == 5000.0 and jb.status == OrderStatus.OPEN
    assert ja.limit_ticks * 0.25 == 5000.25 and ja.status == OrderStatus.OPEN


def test_off_grid_price_and_bad_size_and_unknown_ids() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    assert "aligned to tick" in eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4999.1).message
    assert eng.place(1, CID, OrderType.LIMIT, Side.BUY, 0, limit_price=4999.0).error_code == 2
    assert eng.place(9, CID, OrderType.MARKET, Side.BUY, 1).error_code == 1
    assert eng.place(1, "CON.F.US.XX.H24", OrderType.MARKET, Side.BUY, 1).error_code == 8
    assert eng.place(1, CID, OrderType.STOP_LIMIT, Side.BUY, 1).error_code == 2


def test_duplicate_custom_tag_is_rejected() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    assert eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4990.0, custom_tag="run1-1").ok
    r = eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4990.0, custom_tag="run1-1")
    assert r.error_code == 2 and "already" in r.message and r.order_id is None


# ------------------------------------------------------------------ stops and trailing
def test_stop_triggers_and_fills_as_market_with_gap_slippage() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    bad = eng.place(1, CID, OrderType.STOP, Side.BUY, 1, stop_price=5000.0)
    assert bad.error_code == 2
    oid = eng.place(1, CID, OrderType.STOP, Side.BUY, 1, stop_price=5001.0).order_id
    q(eng, 5000.5, 5000.75)
    assert eng.orders[oid].status == OrderStatus.OPEN
    q(eng, 5001.75, 5002.0)  # gap through the stop: fills at the ask, 4 ticks worse
    o = eng.orders[oid]
    assert o.status == OrderStatus.FILLED and o.filled_ticks * 0.25 == 5002.0


def test_trailing_stop_errors_per_spec() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    assert eng.place(1, CID, OrderType.TRAILING_STOP, Side.SELL, 1, trail_price=4990.0).message == \
        "Cannot trail without a last price"
    tr(eng, 5000.0)
    assert eng.place(1, CID, OrderType.TRAILING_STOP, Side.SELL, 1, trail_price=4990.1).message == \
        "Invalid trail price. Price is not aligned to tick size."
    assert eng.place(1, CID, OrderType.TRAILING_STOP, Side.SELL, 1, trail_price=4749.75).message == \
        "Trail Distance exceeds maximum (1000)"
    assert eng.place(1, CID, OrderType.TRAILING_STOP, Side.SELL, 1, trail_price=5000.0).message == \
        "Trail Distance not set."


def test_trailing_stop_trails_the_last_trade_and_triggers() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    tr(eng, 5000.0)
    oid = eng.place(1, CID, OrderType.TRAILING_STOP, Side.SELL, 1, trail_price=4998.0).order_id
    o = eng.orders[oid]
    assert o.trail_distance == 8 and o.stop_ticks * 0.25 == 4998.0
    q(eng, 5003.0, 5003.25)
    tr(eng, 5003.0)
    assert o.stop_ticks * 0.25 == 5001.0  # trailed up
    q(eng, 5001.5, 5001.75)
    tr(eng, 5001.5)
    assert o.stop_ticks * 0.25 == 5001.0  # never loosens
    q(eng, 5000.75, 5001.0)  # bid below the stop → fills at the bid
    assert o.status == OrderStatus.FILLED and o.filled_ticks * 0.25 == 5000.75


# ------------------------------------------------------------------ brackets
def test_bracket_suspended_then_open_then_oco() -> None:
    eng, ev = make()
    q(eng, 5000.0, 5000.25)
    r = eng.place(1, CID, OrderType.LIMIT, Side.BUY, 2, limit_price=4999.0, custom_tag="e1",
                  stop_loss_bracket=Bracket(-8, OrderType.STOP),
                  take_profit_bracket=Bracket(12, OrderType.LIMIT))
    entry = eng.orders[r.order_id]
    sl, tp = (eng.orders[i] for i in entry.children)
    assert sl.status == tp.status == OrderStatus.SUSPENDED
    assert sl.stop_ticks is None and tp.limit_ticks is None
    assert (sl.custom_tag, tp.custom_tag) == ("e1-SL", "e1-TP")
    assert sl.parent_order_id == tp.parent_order_id == entry.id
    assert tp.linked_order_id == sl.id and sl.linked_order_id is None
    assert sl.side == tp.side == Side.SELL
    q(eng, 4998.75, 4999.0)  # entry fills at 4999.0
    assert entry.status == OrderStatus.FILLED
    assert sl.status == tp.status == OrderStatus.OPEN
    assert sl.stop_ticks * 0.25 == 4997.0 and tp.limit_ticks * 0.25 == 5002.0
    q(eng, 5002.0, 5002.25)
    assert tp.status == OrderStatus.FILLED and sl.status == OrderStatus.CANCELLED
    assert eng.ledger.position(1, CID) is None
    assert eng.ledger.trades[-1].pnl == pytest.approx(12 * 1.25 * 2)


def test_bracket_short_entry_and_cancel_entry_cancels_legs() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    e = eng.orders[eng.place(1, CID, OrderType.MARKET, Side.SELL, 1,
                             stop_loss_bracket=Bracket(10, OrderType.STOP),
                             take_profit_bracket=Bracket(20, OrderType.LIMIT)).order_id]
    sl, tp = (eng.orders[i] for i in e.children)
    assert sl.stop_ticks * 0.25 == 5002.5 and tp.limit_ticks * 0.25 == 4995.0
    e2 = eng.orders[eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4990.0,
                              stop_loss_bracket=Bracket(8, OrderType.STOP)).order_id]
    (leg,) = (eng.orders[i] for i in e2.children)
    assert eng.cancel(1, e2.id).ok
    assert leg.status == OrderStatus.CANCELLED


def test_bracket_rules_position_mode_and_signed_ticks() -> None:
    eng, _ = make(mode=BracketMode.POSITION)
    q(eng, 5000.0, 5000.25)
    r = eng.place(1, CID, OrderType.MARKET, Side.BUY, 1, stop_loss_bracket=Bracket(8, OrderType.STOP))
    assert r.error_code == 2 and "Auto OCO" in r.message
    eng2, _ = make(MatchingConfig(bracket_ticks="signed"))
    q(eng2, 5000.0, 5000.25)
    assert eng2.place(1, CID, OrderType.MARKET, Side.BUY, 1, stop_loss_bracket=Bracket(8, OrderType.STOP)).error_code == 2
    assert eng2.place(1, CID, OrderType.MARKET, Side.BUY, 1, stop_loss_bracket=Bracket(-8, OrderType.STOP)).ok
    eng3, _ = make(MatchingConfig(bracket_ticks="positive"))
    q(eng3, 5000.0, 5000.25)
    assert eng3.place(1, CID, OrderType.MARKET, Side.BUY, 1, take_profit_bracket=Bracket(-8, OrderType.LIMIT)).error_code == 2


def test_partial_fills_and_bracket_legs_follow_the_filled_volume() -> None:
    eng, _ = make(MatchingConfig(max_fill_per_event=1))
    q(eng, 5000.0, 5000.25)
    e = eng.orders[eng.place(1, CID, OrderType.LIMIT, Side.BUY, 3, limit_price=4999.0,
                             stop_loss_bracket=Bracket(8, OrderType.STOP),
                             take_profit_bracket=Bracket(8, OrderType.LIMIT)).order_id]
    q(eng, 4998.75, 4999.0)
    sl, tp = (eng.orders[i] for i in e.children)
    assert e.status == OrderStatus.OPEN and e.fill_volume == 1
    assert sl.status == OrderStatus.OPEN and sl.size == 1 and tp.size == 1
    q(eng, 4998.75, 4999.0)
    q(eng, 4998.75, 4999.0)
    assert e.status == OrderStatus.FILLED and sl.size == tp.size == 3
    q(eng, 5001.0, 5001.25)  # TP partially fills 1 → SL shrinks to the 2 still open
    assert tp.fill_volume == 1 and tp.status == OrderStatus.OPEN and sl.size == 2
    assert eng.ledger.position(1, CID).net == 2


# ------------------------------------------------------------------ accounting
def test_average_price_pnl_flip_fees_and_balance() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.0)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 1)
    q(eng, 5002.0, 5002.0)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 1)
    pos = eng.ledger.position(1, CID)
    assert pos.net == 2 and pos.avg_ticks * 0.25 == 5001.0
    q(eng, 5004.0, 5004.0)
    eng.place(1, CID, OrderType.MARKET, Side.SELL, 3)  # close 2 (+3 pts each), open 1 short
    t = eng.ledger.trades
    assert [x.pnl for x in t] == [None, None, pytest.approx(2 * 3 * 5.0)]
    assert t[2].fees == pytest.approx(3 * 0.37) and t[2].commissions == pytest.approx(3 * 0.24)
    pos = eng.ledger.position(1, CID)
    assert pos.net == -1 and pos.avg_ticks * 0.25 == 5004.0
    assert eng.accounts[1].balance == pytest.approx(50_000 + 30.0 - 5 * 0.61)


def test_modify_cancel_and_close_codes() -> None:
    eng, _ = make()
    q(eng, 5000.0, 5000.25)
    oid = eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4990.0).order_id
    assert eng.modify(1, 999, limit_price=4991.0).error_code == 2
    assert eng.modify(1, oid, limit_price=4991.1).error_code == 3
    assert eng.modify(1, oid, limit_price=5001.0).ok  # now marketable → fills at the ask
    assert eng.orders[oid].status == OrderStatus.FILLED and eng.orders[oid].filled_ticks == 20001
    assert eng.cancel(1, oid).error_code == 3  # not working any more
    assert eng.close_position(1, CID, 2).error_code == 5  # InvalidCloseSize
    assert eng.close_position(1, CID).ok
    assert eng.close_position(1, CID).error_code == 2  # PositionNotFound


# ------------------------------------------------------------------ Topstep rules
def test_mll_breach_liquidates_and_disables_trading() -> None:
    eng, ev = make(topstep=TopstepRules())
    q(eng, 5000.0, 5000.25)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 10)  # 10 MES
    eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4900.0)
    q(eng, 4970.0, 4970.25)  # -30 pts × $5 × 10 = -$1,502.5 → still above 48,000
    assert eng.accounts[1].can_trade
    q(eng, 4960.25, 4960.5)  # equity ≈ 48,000 → touch counts as a breach
    a = eng.accounts[1]
    assert not a.can_trade and "Maximum Loss Limit" in a.disabled_reason
    assert eng.ledger.position(1, CID) is None and not eng.working_orders(1)
    assert eng.place(1, CID, OrderType.MARKET, Side.BUY, 1).error_code == 2
    assert ev[-1].kind == "account" and ev[-1].obj.can_trade is False


def test_mll_trails_end_of_day_highs_and_locks_at_start() -> None:
    eng, _ = make(topstep=TopstepRules())
    layer = eng.hooks[0]
    q(eng, 5000.0, 5000.0)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 20)
    q(eng, 5010.0, 5010.0)
    eng.place(1, CID, OrderType.MARKET, Side.SELL, 20)  # +$1,000 gross, -$24.40 costs
    st_ = layer.state[1]
    assert st_.mll_level == 48_000.0  # intraday gains do not move the floor
    eng.on_time(local_time_ns("2024-01-03", "16:01", "America/Chicago"))
    assert st_.mll_level == pytest.approx(50_975.6 - 2_000)
    eng.on_quote(CID, 5010.0, 5010.0, ts_ns=local_time_ns("2024-01-04", "09:00", "America/Chicago"))
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 50)
    q(eng, 5022.0, 5022.0)
    eng.place(1, CID, OrderType.MARKET, Side.SELL, 50)  # +$3,000 gross
    eng.on_time(local_time_ns("2024-01-04", "16:01", "America/Chicago"))
    assert st_.mll_level == 50_000.0  # EOD high 53,914.6 - 2,000 capped: the lock
    assert st_.target_reached


@pytest.mark.parametrize("day,utc_hour", [("2024-03-08", 21), ("2024-03-11", 20)])
def test_flatten_at_1510_ct_across_dst(day: str, utc_hour: int) -> None:
    t0 = local_time_ns(day, "15:00", "America/Chicago")
    eng, _ = make(topstep=TopstepRules(), t0=t0)
    q(eng, 5000.0, 5000.25)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 1)
    eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4990.0)
    cutoff = local_time_ns(day, "15:10", "America/Chicago")
    assert pd.Timestamp(cutoff, tz="UTC").hour == utc_hour and pd.Timestamp(cutoff, tz="UTC").minute == 10
    eng.on_quote(CID, 5000.0, 5000.25, ts_ns=cutoff - 1)
    assert eng.ledger.position(1, CID) is not None
    eng.on_quote(CID, 5000.0, 5000.25, ts_ns=cutoff)
    assert eng.ledger.position(1, CID) is None and not eng.working_orders(1)
    r = eng.place(1, CID, OrderType.MARKET, Side.BUY, 1)
    assert r.error_code == 5
    eng.on_time(local_time_ns(day, "17:00", "America/Chicago"))
    assert eng.place(1, CID, OrderType.MARKET, Side.BUY, 1).ok


def test_flatten_when_data_skips_the_cutoff() -> None:
    eng, _ = make(topstep=TopstepRules(), t0=local_time_ns("2024-01-03", "14:59", "America/Chicago"))
    q(eng, 5000.0, 5000.25)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 1)
    # RTH-only data: the next quote is the next morning
    eng.on_quote(CID, 5010.0, 5010.25, ts_ns=local_time_ns("2024-01-04", "08:30", "America/Chicago"))
    assert eng.ledger.position(1, CID) is None


def test_contract_cap_in_mini_equivalents() -> None:
    eng, _ = make(topstep=TopstepRules(max_minis=5.0))
    q(eng, 5000.0, 5000.25)
    assert eng.place(1, CID, OrderType.MARKET, Side.BUY, 40).ok
    assert eng.place(1, CID, OrderType.LIMIT, Side.BUY, 10, limit_price=4990.0).ok  # 50 = 5 minis
    r = eng.place(1, CID, OrderType.LIMIT, Side.BUY, 1, limit_price=4990.0)
    assert r.error_code == 2 and "Maximum position" in r.message
    assert eng.place(1, CID, OrderType.MARKET, Side.SELL, 10).ok  # reducing is fine


# ------------------------------------------------------------------ invariants
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 5),
                          st.integers(-20, 20)), min_size=1, max_size=25))
def test_ledger_invariants(fills: list[tuple[int, int, int]]) -> None:
    eng, _ = make()
    net = 0
    for side, size, off in fills:
        px = 5000.0 + off * 0.25
        q(eng, px, px)
        assert eng.place(1, CID, OrderType.MARKET, side, size).ok
        net += size if side == Side.BUY else -size
    pos = eng.ledger.position(1, CID)
    assert (pos.net if pos else 0) == net
    trades = eng.ledger.trades
    pnl = sum(t.pnl or 0.0 for t in trades)
    cost = sum(t.fees + t.commissions for t in trades)
    assert eng.accounts[1].balance == pytest.approx(50_000 + pnl - cost)
    if pos:
        prices = [t.price_ticks for t in trades]
        assert min(prices) <= pos.avg_ticks <= max(prices)
    # flattening at the average price realizes exactly the open P&L of zero
    if pos:
        q(eng, pos.avg_ticks * 0.25, pos.avg_ticks * 0.25)


# ------------------------------------------------------------------ replay
def _bars() -> pd.DataFrame:
    return pd.DataFrame({"timestamp": [0, 1_000_000_000], "open": [100.0, 101.0],
                         "high": [101.5, 101.0], "low": [99.75, 99.0], "close": [101.0, 99.5],
                         "volume": [10, 3], "symbol": ["MESH4", "MESH4"]})


def test_replay_path_order_quotes_and_volume() -> None:
    p = bars_to_path(_bars(), 0.25)
    assert list(p.price) == [100.0, 99.75, 101.5, 101.0, 101.0, 101.0, 99.0, 99.5]
    assert list(p.size) == [2, 2, 2, 4, 0, 0, 0, 3]
    assert list(p.ts[:4]) == [0, 250_000_000, 500_000_000, 750_000_000]
    up = p.aggressor == Side.BUY
    assert ((p.ask - p.bid) == 0.25).all()
    assert (p.ask[up] == p.price[up]).all() and (p.bid[~up] == p.price[~up]).all()
    with pytest.raises(DataError):
        bars_to_path(_bars().iloc[:0], 0.25)


def test_replay_drives_engine_and_clock() -> None:
    eng, _ = make(t0=0)
    rp = Replay(eng, CID, bars_to_path(_bars(), 0.25), speed=0)
    oid = eng.place(1, CID, OrderType.LIMIT, Side.SELL, 1, limit_price=101.5).order_id
    assert rp.step(3) == 3
    assert eng.clock.now_ns() == 500_000_000
    assert eng.orders[oid].status == OrderStatus.FILLED
    rp.step(100)
    assert rp.done and eng.market[CID].volume == 13
    with pytest.raises(DataError):
        Replay(eng, CID, rp.path, speed=-1)


async def test_replay_run_speed_zero_and_pause() -> None:
    eng, _ = make(t0=0)
    rp = Replay(eng, CID, bars_to_path(_bars(), 0.25), speed=0)
    await rp.run()
    assert rp.done


def test_skip_to_makes_history_and_sets_market() -> None:
    eng, ev = make(t0=0)
    rp = Replay(eng, CID, bars_to_path(_bars(), 0.25), speed=0)
    assert rp.skip_to(900_000_000) == 4
    m = eng.market[CID]
    assert eng.clock.now_ns() == 900_000_000 and m.last * 0.25 == 101.0 and m.volume == 10
    assert not ev and rp.skip_to(0) == 0


def test_align_to_week_keeps_exchange_wall_time_across_dst() -> None:
    from core.venues.sim.loader import align_to_week_of
    from core.venues.sim.synthetic import random_walk_bars

    f = random_walk_bars(10, day="2024-03-08", start="09:00")  # CST (UTC-6)
    now = local_time_ns("2024-03-13", "12:00", "America/Chicago")  # CDT (UTC-5)
    out, weeks = align_to_week_of(f, now)
    assert weeks == 1
    first = pd.Timestamp(int(out["timestamp"].iloc[0]), tz="UTC").tz_convert("America/Chicago")
    assert (first.month, first.day, first.hour, first.minute) == (3, 15, 9, 0)
    assert int(out["timestamp"].iloc[0]) - int(f["timestamp"].iloc[0]) == 7 * 86_400 * 10**9 - 3_600 * 10**9


async def test_replay_real_time_speed_pause_and_resume() -> None:
    import asyncio

    eng, _ = make(t0=0)
    rp = Replay(eng, CID, bars_to_path(_bars(), 0.25), speed=100.0)
    task = asyncio.create_task(rp.run())
    await asyncio.sleep(0)
    rp.pause()
    await asyncio.sleep(0.05)
    held = rp.index
    assert rp.paused and not rp.done
    await asyncio.sleep(0.05)
    assert rp.index == held  # nothing moves while paused
    rp.resume(speed=1000.0)
    await asyncio.wait_for(task, 5)
    assert rp.done and eng.clock.now_ns() == int(rp.path.ts[-1])


def test_leg_completing_before_entry_finishes_cancels_the_rest_of_the_entry() -> None:
    eng, _ = make(MatchingConfig(max_fill_per_event=1))
    q(eng, 5000.0, 5000.25)
    e = eng.orders[eng.place(1, CID, OrderType.LIMIT, Side.BUY, 3, limit_price=4999.0,
                             stop_loss_bracket=Bracket(8, OrderType.STOP),
                             take_profit_bracket=Bracket(4, OrderType.LIMIT)).order_id]
    q(eng, 4998.75, 4999.0)  # 1 of 3 filled; legs Open for 1
    q(eng, 5000.0, 5000.25)  # TP (5000.0) fills its 1 → bracket done
    sl, tp = (eng.orders[i] for i in e.children)
    assert tp.status == OrderStatus.FILLED and sl.status == OrderStatus.CANCELLED
    assert e.status == OrderStatus.CANCELLED and e.fill_volume == 1
    q(eng, 4998.75, 4999.0)
    assert eng.ledger.position(1, CID) is None  # no unprotected later entry fill


def test_optional_dll_is_a_forced_break_until_the_next_session() -> None:
    eng, _ = make(topstep=TopstepRules(daily_loss_limit=1_000.0),
                  t0=local_time_ns("2024-01-03", "09:00", "America/Chicago"))
    q(eng, 5000.0, 5000.25)
    eng.place(1, CID, OrderType.MARKET, Side.BUY, 20)
    q(eng, 4990.5, 4990.75)  # -$975 open → not yet
    assert eng.accounts[1].can_trade
    q(eng, 4990.0, 4990.25)  # ≈ -$1,025 → break
    a = eng.accounts[1]
    assert not a.can_trade and "Daily Loss Limit" in a.disabled_reason
    assert eng.ledger.position(1, CID) is None
    eng.on_time(local_time_ns("2024-01-03", "17:00", "America/Chicago"))
    assert a.can_trade and not eng.hooks[0].state[1].breached
