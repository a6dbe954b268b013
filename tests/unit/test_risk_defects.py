"""Regression tests for the account-losing risk defects of issue 8 (one test per defect), the
visible state machine, and the operator intents as kernel inputs."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import calendar as cal
from core.backtest import run_backtest
from core.backtest.synthetic import random_walk_bars
from core.config import load_profile
from core.errors import ConfigError
from core.risk import Approved, Denied, EntryIntent, RiskKernel, build_schedule, risk_arrays
from core.risk import kernel as K
from core.strategy.signals import Signals
from tests.unit.backtest_fixtures import profile

ET, CT = "America/New_York", "America/Chicago"


def t(day: str, hhmm: str, tz: str = ET) -> int:
    return cal.local_time_ns(day, hhmm, tz)


# --------------------------------------------------------------------------- defect 1
def test_combine_loss_crossing_daily_limit_and_mll_fails_the_combine() -> None:
    """50K Combine: one loss to 49,800 under a 50,000 MLL was recorded as a day stop only and
    the next session approved 20 contracts."""
    rk = RiskKernel(load_profile("topstep_50k_combine"))
    d1, d2, d3 = t("2025-03-11", "10:00", CT), t("2025-03-12", "10:00", CT), t("2025-03-13", "10:00", CT)
    rk.on_time(d1)
    rk.on_trade_closed(2000.0, d1)                 # EOD high 52,000 → MLL locks at 50,000
    rk.on_time(d2)
    assert rk.fs[K.F_MLL_LEVEL] == 50_000.0
    why = rk.on_trade_closed(-2200.0, d2)          # balance 49,800: day stop AND MLL AND acct DD
    assert why is not None
    assert rk.fs[K.F_BALANCE] == 49_800.0
    rk.on_time(d3)                                 # next session
    r = rk.check(EntryIntent(d3, 1, 0.95, 8))
    assert isinstance(r, Denied) and r.code == K.R_MLL
    st_ = rk.status(d3)
    assert st_.mode == "HALTED" and st_.failed
    assert K.REASONS[K.R_MLL] in st_.halts and K.REASONS[K.R_ACCOUNT_DRAWDOWN] in st_.halts
    assert "failed" in st_.reason


@pytest.mark.parametrize("loss,halts", [
    (-207.0, {K.R_ACCOUNT_DRAWDOWN}),                       # 793 < 800 and the day's 50
    (-310.0, {K.R_ACCOUNT_DRAWDOWN, K.R_KILL_SWITCH}),      # + the kill switch at 700
])
def test_1k_loss_crossing_day_and_account_floors_halts(loss: float, halts: set[int]) -> None:
    rk = RiskKernel(load_profile("account_1k"))
    d1, d2 = t("2025-03-12", "10:00"), t("2025-03-13", "10:00")
    rk.on_time(d1)
    rk.on_trade_closed(loss, d1)
    assert rk.ist[K.I_DAY_STOP] == K.R_DAILY_LOSS                 # the day stop …
    for r in halts:                                              # … and every halting floor
        assert rk.ist[K.I_BREACHES] >> r & 1
    ev = rk.events(0)
    assert {c for _, c, _ in ev} >= halts | {K.R_DAILY_LOSS}      # one event per limit
    rk.on_time(d2)
    assert not rk.check(EntryIntent(d2 + 3600 * 10**9, 1, 0.75, 8))   # never trades again


def test_mark_records_every_floor_crossed_intrabar() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    d = rk.mark(-320.0)                              # open loss through all floors at once
    assert isinstance(d, Denied)
    bits = int(rk.ist[K.I_BREACHES])
    assert bits >> K.R_KILL_SWITCH & 1 and bits >> K.R_ACCOUNT_DRAWDOWN & 1
    assert rk.ist[K.I_DAY_STOP] == K.R_DAILY_LOSS
    assert rk.ist[K.I_DAY_BREACHES] >> K.R_DAILY_DRAWDOWN & 1


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["account_1k", "topstep_50k_combine", "topstep_100k_combine",
                             "topstep_150k_xfa"]),
       wins=st.lists(st.floats(-3000, 3000), min_size=0, max_size=6),
       loss=st.floats(1, 6000))
def test_every_floor_a_loss_crosses_is_recorded_and_holds(name: str, wins: list[float],
                                                          loss: float) -> None:
    """Property: after any history, one loss records EVERY floor the new balance crossed
    (computed here independently), and no halting floor is ever traded through afterwards."""
    prof = load_profile(name)
    rk = RiskKernel(prof)
    p = rk.arrays.p
    day = np.datetime64("2025-03-10")
    for k, w in enumerate(wins):
        ts = t(str(day + k), "10:00", CT)
        rk.on_time(ts)
        rk.on_trade_closed(w, ts)
    ts = t(str(day + len(wins)), "11:00", CT)
    rk.on_time(ts)
    fs = rk.fs.copy()
    bal = fs[K.F_BALANCE] - loss
    expect = set()
    if bal <= p[K.P_START_BAL] - p[K.P_KILL] + 1e-9:
        expect.add(K.R_KILL_SWITCH)
    if p[K.P_HAS_MLL] and bal <= fs[K.F_MLL_LEVEL] + p[K.P_MLL_BUFFER] + 1e-9:
        expect.add(K.R_MLL)
    if bal <= fs[K.F_PEAK_BAL] - p[K.P_ACCT_DD] + 1e-9:
        expect.add(K.R_ACCOUNT_DRAWDOWN)
    rk.on_trade_closed(-loss, ts)
    got = {r for r in K.HALT_ORDER if int(rk.ist[K.I_BREACHES]) >> r & 1}
    assert expect <= got
    later = t(str(day + len(wins) + 5), "10:00", CT)
    r = rk.check(EntryIntent(later, 1, 0.95, 8))
    if expect:
        assert isinstance(r, Denied) and rk.status(later).mode == "HALTED"


# --------------------------------------------------------------------------- defect 2
def test_nan_limit_in_a_profile_built_in_code_is_refused() -> None:
    p = load_profile("account_1k")
    bad = replace(p, risk=replace(p.risk, max_daily_loss=float("nan")))
    with pytest.raises(ConfigError, match="NaN or infinity"):
        risk_arrays(bad)


# --------------------------------------------------------------------------- defect 3
def test_early_close_keeps_schedule_offsets_and_denies_late_entry() -> None:
    """2023-11-24 closes 13:15 ET: an entry at 13:06 was approved and flattened at the last bar."""
    rk = RiskKernel(load_profile("account_1k"))
    day = "2023-11-24"
    d = rk.check(EntryIntent(t(day, "13:06"), 1, 0.75, 8))
    assert isinstance(d, Denied) and d.code == K.R_NO_NEW_ENTRIES
    assert rk.phase(t(day, "12:50")) == K.PH_REDUCE
    assert rk.phase(t(day, "12:56")) == K.PH_NO_NEW
    assert rk.must_flatten(t(day, "13:05"))
    s = build_schedule(load_profile("topstep_50k_combine"), day, day)
    assert s.table[0, K.S_FLAT] == t(day, "12:10", CT)          # close 12:15 CT − 5 min margin
    assert s.table[0, K.S_NO_NEW] == t(day, "12:05", CT)         # 15:00 shifted by 2 h 55


def test_early_close_backtest_is_flat_before_the_close() -> None:
    bars = random_walk_bars(3000, bar_seconds=60, rth_only=True, start="2023-11-22", seed=3)
    on = np.arange(len(bars)) % 7 == 0
    sig = Signals(np.where(on, 1, 0).astype(np.int8), np.where(on, 0.75, 0.0))
    res = run_backtest(bars, sig, profile=load_profile("account_1k"))
    fri = res.trades[res.trades["exit_time"].dt.tz_convert(ET).dt.date.astype(str) == "2023-11-24"]
    assert len(fri)
    assert (fri["exit_ns"] < t("2023-11-24", "13:10")).all()
    assert (fri["entry_ns"] < t("2023-11-24", "12:56")).all()


# --------------------------------------------------------------------------- defect 4
def test_reduce_phase_halves_even_at_the_2x_confidence_step() -> None:
    rk = RiskKernel(profile("account_1k", risk=dict(max_risk_per_trade=40.0)))
    day = "2025-07-15"
    full = rk.check(EntryIntent(t(day, "12:00"), 1, 0.95, 8))
    half = rk.check(EntryIntent(t(day, "16:05"), 1, 0.95, 8))
    assert isinstance(full, Approved) and isinstance(half, Approved)
    assert full.contracts == 2 and half.contracts == 1


# --------------------------------------------------------------------------- defect 5
@pytest.mark.parametrize("mutate", [
    lambda s: {"fs": [1000.0] * 3, "ist": [0]},                       # the old, unversioned shape
    lambda s: {**s, "version": 1},
    lambda s: {**s, "floats": {k: v for k, v in s["floats"].items() if k != "balance"}},
    lambda s: {**s, "ints": {**s["ints"], "halt": 999}},
    lambda s: {**s, "ints": {**s["ints"], "breaches": -1}},
    lambda s: {**s, "floats": {**s["floats"], "balance": float("nan")}},
    lambda s: {**s, "floats": {**s["floats"], "extra": 1.0}},
    lambda s: {**s, "ints": {**s["ints"], "trades": 1.5}},
    lambda s: [1, 2, 3],
])
def test_restore_refuses_a_malformed_snapshot(mutate) -> None:  # noqa: ANN001
    rk = RiskKernel(load_profile("account_1k"))
    snap = json.loads(json.dumps(rk.snapshot()))
    rk2 = RiskKernel(load_profile("account_1k"))
    before = (rk2.fs.copy(), rk2.ist.copy())
    with pytest.raises(ConfigError):
        rk2.restore(mutate(snap))
    assert (rk2.fs == before[0]).all() and (rk2.ist == before[1]).all()   # nothing half-loaded
    assert rk2.check(EntryIntent(t("2025-03-12", "10:00"), 1, 0.75, 8))    # still works


def test_snapshot_roundtrips_through_json_with_halts() -> None:
    p = load_profile("topstep_50k_combine")
    rk = RiskKernel(p)
    now = t("2025-03-12", "10:00", CT)
    rk.on_time(now)
    rk.on_trade_closed(-2100.0, now)
    rk.kill()
    snap = json.loads(json.dumps(rk.snapshot()))
    assert snap["version"] == K.SNAPSHOT_VERSION and "balance" in snap["floats"]
    rk2 = RiskKernel(p)
    rk2.restore(snap)
    assert (rk2.fs == rk.fs).all() and (rk2.ist == rk.ist).all()
    assert rk2.status(now).failed


def test_non_topstep_snapshot_keeps_no_mll() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    snap = json.loads(json.dumps(rk.snapshot()))
    assert snap["floats"]["mll_level"] is None
    rk.restore(snap)
    assert math.isinf(rk.fs[K.F_MLL_LEVEL])


# --------------------------------------------------------------------------- defect 6
def test_hourly_bars_never_hold_past_the_topstep_deadline() -> None:
    bars = random_walk_bars(600, bar_seconds=3600, rth_only=False, start="2025-03-03", seed=5,
                            sigma_ticks=4)
    n = len(bars)
    on = np.arange(n) % 3 == 0
    sig = Signals(np.where(on, 1, 0).astype(np.int8), np.where(on, 0.75, 0.0))
    prof = profile("topstep_50k_combine", risk=dict(max_daily_loss=1e4 - 1,
                                                    max_daily_drawdown=1e4 - 1,
                                                    account_drawdown_stop=4e4,
                                                    kill_switch_loss=4e4, min_balance=0.0),
                   topstep=dict(max_loss_limit=4.9e4))
    res = run_backtest(bars, sig, profile=prof)
    eod = res.trades[res.trades["exit_reason"] == "eod_flatten"]
    assert len(eod)
    o = bars["open"].to_numpy()
    for tr in eod.itertuples():
        day = cal.trading_day_of(np.array([tr.exit_ns]))[0]
        dl = t(str(np.datetime64(int(day), "D")), "15:05", CT)
        assert tr.exit_ns < dl                                 # the bar opened before it …
        assert tr.exit_price == o[tr.exit_bar]                 # … and the exit used its open
    assert any("coarser than the end-of-day schedule" in note for note in res.params["notes"])


# --------------------------------------------------------------------------- defect 7
@pytest.mark.parametrize("intent", [
    dict(confidence=1.5), dict(confidence=float("nan")), dict(confidence=-0.1),
    dict(open_contracts=-3), dict(stop_ticks=float("inf")), dict(stop_ticks=float("nan")),
    dict(direction=0), dict(spread_ticks=float("nan")), dict(atr=-1.0),
])
def test_check_refuses_invalid_inputs(intent: dict) -> None:
    rk = RiskKernel(load_profile("account_1k"))
    base = dict(ts_ns=t("2025-03-12", "10:00"), direction=1, confidence=0.75, stop_ticks=8)
    r = rk.check(EntryIntent(**{**base, **intent}))
    assert isinstance(r, Denied) and r.code == K.R_INVALID_INPUT


def test_compiled_check_refuses_confidence_above_one_and_negative_open() -> None:
    a = risk_arrays(load_profile("topstep_50k_combine"))
    fs, ist = K.new_state(a.p)
    for conf, open_ in ((1.7, 0), (0.9, -10)):
        n, why = K.check_entry(a.p, a.tiers, a.confs, fs, ist, np.int64(0), conf, 8.0,
                               K.PH_OPEN, 0, open_)
        assert n == 0 and why == K.R_INVALID_INPUT


# --------------------------------------------------------------------------- defect 8
def test_size_rounding_to_zero_is_a_counted_denial() -> None:
    bars = random_walk_bars(4000, bar_seconds=60, rth_only=True, seed=2)
    n = len(bars)
    on = np.arange(n) % 40 == 0
    sig = Signals(np.where(on, 1, 0).astype(np.int8), np.where(on, 0.65, 0.0))
    prof = profile("account_1k", risk=dict(starting_balance=900.0))   # tier cap 1 × 0.5 = 0
    res = run_backtest(bars, sig, profile=prof)
    assert len(res.trades) == 0
    assert res.params["denials"][K.REASONS[K.R_SIZE_ZERO]] > 0
    from core.backtest.engine import denial_lines
    assert any("skipped: size rounds to zero" in line for line in
               denial_lines(res.params["denials"]))


# --------------------------------------------------------------------------- Build 4
def test_state_machine_operator_intents_and_transitions() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    day = "2025-07-15"
    now = t(day, "11:00")
    assert rk.poll(now).new == "ACTIVE"
    assert rk.poll(now) is None                                     # no change, no output
    rk.pause()
    codes = [c for _, c, _ in rk.events(0)]
    assert rk.check(EntryIntent(now, 1, 0.75, 8)).code == K.R_MANUAL_PAUSE
    ch = rk.poll(now)
    assert (ch.old, ch.new) == ("ACTIVE", "PAUSED") and "operator" in ch.reason
    rk.resume()
    assert rk.check(EntryIntent(now, 1, 0.75, 8))
    assert rk.status(t(day, "16:05")).mode == "REDUCING"
    rk.kill()
    codes += [c for _, c, _ in rk.events(1)]
    assert rk.check(EntryIntent(now, 1, 0.75, 8)).code == K.R_MANUAL_KILL
    assert rk.status(now).mode == "HALTED"
    rk.resume()                                                     # resume never lifts a kill
    assert not rk.check(EntryIntent(now, 1, 0.75, 8))
    assert rk.rearm()                                               # explicit re-arm does
    assert rk.check(EntryIntent(now, 1, 0.75, 8))
    assert K.R_MANUAL_KILL in codes and K.R_MANUAL_PAUSE in codes


def test_rearm_never_lifts_the_kill_switch_or_mll() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    rk.on_trade_closed(-305.0, now)                                 # kill switch
    rk.kill()
    assert rk.rearm()                                               # lifts the operator kill …
    later = t("2025-03-14", "10:00")
    d = rk.check(EntryIntent(later, 1, 0.75, 8))
    assert isinstance(d, Denied) and d.code == K.R_KILL_SWITCH      # … but not the kill switch
    assert not rk.review_done() or rk.ist[K.I_HALT] == K.R_KILL_SWITCH


def test_journal_replay_of_intents_reproduces_the_state() -> None:
    """Intents are kernel inputs: replaying the same inputs gives the same state."""
    def replay() -> RiskKernel:
        rk = RiskKernel(load_profile("account_1k"))
        now = t("2025-03-12", "10:00")
        rk.on_time(now)
        rk.on_trade_closed(-20.0, now)
        rk.pause()
        rk.on_trade_closed(-10.0, now + 10**9)
        rk.resume()
        rk.kill()
        return rk
    a, b = replay(), replay()
    assert (a.fs == b.fs).all() and (a.ist == b.ist).all()
