"""The risk kernel: sizing, limits, pauses, halts, Topstep rules, the EOD schedule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import calendar as cal
from core.config import load_profile
from core.risk import Approved, Denied, EntryIntent, RiskKernel, build_schedule, risk_arrays
from core.risk import kernel as K
from tests.unit.backtest_fixtures import profile

ET, CT = "America/New_York", "America/Chicago"
PROFILES = ["demo", "account_1k", "topstep_50k_combine", "topstep_100k_combine",
            "topstep_150k_combine", "topstep_50k_xfa", "topstep_100k_xfa", "topstep_150k_xfa"]


def t(day: str, hhmm: str, tz: str = ET) -> int:
    return cal.local_time_ns(day, hhmm, tz)


@pytest.mark.parametrize("name", PROFILES)
def test_every_shipped_profile_loads_and_has_dated_numbers(name: str) -> None:
    p = load_profile(name)
    assert p.costs.as_of
    if name.startswith("topstep"):
        assert p.topstep is not None and p.topstep.as_of
        assert p.schedule.timezone == CT
        a = risk_arrays(p)
        assert a.p[K.P_MAX_CONTRACTS] == p.topstep.max_minis * 10   # micros count 1/10


@pytest.mark.parametrize("balance,conf,expected", [
    (1000.0, 0.55, 0),      # below 60 %: no trade
    (1000.0, 0.65, 1),      # 2 contracts × 0.5
    (1000.0, 0.75, 2),      # $20 budget / $10 per contract = 2, tier cap 2
    (1000.0, 0.85, 2),      # 1.5 × 2 = 3 → tier cap 2
    (1000.0, 0.95, 2),      # 2.0 × capped at the tier
    (800.0, 0.75, 1),       # tier $700-1000: cap 1
    (800.0, 0.65, 0),       # ½ × 1 contract rounds down to no trade
    (1600.0, 0.75, 2),      # tier cap 3, but max risk/trade $25 → 2 at $10 each
    (3500.0, 0.95, 2),      # max risk per trade $25 caps everything at 2 (8-tick stop)
])
def test_sizing_table_of_the_1k_profile(balance: float, conf: float, expected: int) -> None:
    rk = RiskKernel(load_profile("account_1k"))
    rk.fs[K.F_BALANCE] = balance
    rk.fs[K.F_PEAK_BAL] = balance
    rk.fs[K.F_DAY_START_BAL] = balance
    r = rk.check(EntryIntent(t("2025-03-12", "10:00"), 1, conf, 8))
    assert (r.contracts if isinstance(r, Approved) else 0) == expected


@settings(max_examples=200, deadline=None)
@given(balance=st.floats(500, 200_000), conf=st.floats(0, 1), stop=st.integers(1, 80),
       factor=st.sampled_from([1.0, 0.5, 0.25]),
       name=st.sampled_from(["account_1k", "topstep_50k_combine", "topstep_150k_xfa"]))
def test_size_never_exceeds_risk_or_caps(balance: float, conf: float, stop: int, factor: float,
                                         name: str) -> None:
    p = load_profile(name)
    a = risk_arrays(p)
    fs, _ = K.new_state(a.p)
    fs[K.F_BALANCE] = fs[K.F_DAY_START_BAL] = balance
    n = K.position_size(a.p, a.tiers, a.confs, fs, conf, float(stop), factor)
    assert n >= 0
    assert n * stop * 1.25 <= p.risk.max_risk_per_trade + 1e-9
    assert n <= a.p[K.P_MAX_CONTRACTS] and n <= p.risk.max_contracts
    if conf < p.risk.min_confidence:
        assert n == 0


def test_loss_pauses_then_auto_resume() -> None:
    rk = RiskKernel(profile("account_1k", risk=dict(max_daily_loss=1e6, max_daily_drawdown=1e6,
                                                    account_drawdown_stop=1e6, kill_switch_loss=1e6,
                                                    min_balance=0.0)))
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    for _ in range(2):
        rk.on_trade_closed(-5.0, now)
    assert rk.check(EntryIntent(now, 1, 0.75, 8))
    rk.on_trade_closed(-5.0, now)                    # third loss → 15 minutes
    d = rk.check(EntryIntent(now + 60 * 10**9, 1, 0.75, 8))
    assert isinstance(d, Denied) and d.code == K.R_LOSS_PAUSE and d.mode == "PAUSED"
    assert rk.status(now + 60 * 10**9).paused_until_ns == now + 15 * 60 * 10**9
    assert rk.check(EntryIntent(now + 15 * 60 * 10**9, 1, 0.75, 8))   # auto-resume
    rk.on_trade_closed(-5.0, now)
    rk.on_trade_closed(-5.0, now)                    # fifth → 30 minutes
    assert not rk.check(EntryIntent(now + 29 * 60 * 10**9, 1, 0.75, 8))
    assert rk.check(EntryIntent(now + 30 * 60 * 10**9, 1, 0.75, 8))
    rk.on_trade_closed(+5.0, now)                    # a win resets the streak
    assert rk.status(now).consecutive_losses == 0


def test_daily_loss_stops_the_day_and_resumes_next_session() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    assert rk.mark(-49.0) is None
    d = rk.mark(-50.0)                               # touching the limit counts
    assert isinstance(d, Denied) and d.code == K.R_DAILY_LOSS
    assert not rk.check(EntryIntent(now, 1, 0.75, 8))
    assert rk.check(EntryIntent(t("2025-03-13", "09:31"), 1, 0.75, 8))


def test_daily_drawdown_from_the_days_peak_includes_open_pnl() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    assert rk.mark(+40.0) is None                    # peak equity 1040 (open P&L)
    d = rk.mark(-35.0)                               # 75 below the peak
    assert isinstance(d, Denied) and d.code == K.R_DAILY_DRAWDOWN


def test_account_drawdown_halts_and_kill_switch_is_permanent() -> None:
    rk = RiskKernel(profile("account_1k", risk=dict(max_daily_loss=1e6, max_daily_drawdown=1e6)))
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    d = rk.on_trade_closed(-200.0, now)
    assert isinstance(d, Denied) and d.code == K.R_ACCOUNT_DRAWDOWN
    assert rk.status(now).mode == "HALTED"
    assert not rk.check(EntryIntent(t("2025-03-20", "10:00"), 1, 0.75, 8))
    rk.reset_halt()                                  # manual review clears it
    assert rk.check(EntryIntent(t("2025-03-20", "10:00"), 1, 0.75, 8))
    rk.on_trade_closed(-100.0, now)                  # cumulative −300 → kill switch
    assert rk.ist[K.I_HALT] == K.R_KILL_SWITCH
    rk.reset_halt()
    assert rk.status(now).mode == "HALTED"           # never cleared by a reset


def test_min_balance_blocks_entries() -> None:
    rk = RiskKernel(profile("account_1k", risk=dict(kill_switch_loss=1e6,
                                                    account_drawdown_stop=1e6)))
    rk.fs[K.F_BALANCE] = 690.0
    d = rk.check(EntryIntent(t("2025-03-12", "10:00"), 1, 0.95, 8))
    assert isinstance(d, Denied) and d.code == K.R_MIN_BALANCE


def test_topstep_mll_trails_end_of_day_highs_and_locks_at_the_start() -> None:
    p = profile("topstep_50k_combine", risk=dict(max_daily_loss=1e5, max_daily_drawdown=1e5,
                                                 account_drawdown_stop=1e5, kill_switch_loss=1e5),
                topstep=dict(daily_loss_limit=None, mll_trailing="end_of_day"))
    a = risk_arrays(p)
    fs, ist = K.new_state(a.p)
    K.on_day_start(a.p, fs, ist, 100)
    assert fs[K.F_MLL_LEVEL] == 48_000.0
    fs[K.F_BALANCE] = 50_800.0                       # intraday high does not move it …
    assert K.mark(a.p, fs, ist, 0.0) == 0 and fs[K.F_MLL_LEVEL] == 48_000.0
    K.on_day_start(a.p, fs, ist, 101)                # … the end-of-day balance does
    assert fs[K.F_MLL_LEVEL] == 48_800.0
    fs[K.F_BALANCE] = 52_500.0
    K.on_day_start(a.p, fs, ist, 102)
    assert fs[K.F_MLL_LEVEL] == 50_000.0             # locked at the starting balance
    fs[K.F_BALANCE] = 51_000.0
    K.on_day_start(a.p, fs, ist, 103)
    assert fs[K.F_MLL_LEVEL] == 50_000.0             # never trails down
    why = K.mark(a.p, fs, ist, -1_000.0)             # open P&L counts, a touch is a breach
    assert why == K.R_MLL and ist[K.I_HALT] == K.R_MLL


def test_topstep_optional_dll_is_a_forced_break() -> None:
    p = profile("topstep_50k_combine", risk=dict(max_daily_loss=5000.0, max_daily_drawdown=5000.0,
                                                 account_drawdown_stop=5000.0))
    rk = RiskKernel(p)
    now = t("2025-03-12", "10:00", CT)
    rk.on_time(now)
    d = rk.mark(-1000.0)
    assert isinstance(d, Denied) and d.code == K.R_TOPSTEP_DLL
    assert rk.status(now).mode == "PAUSED"


def test_xfa_scaling_uses_the_previous_sessions_close() -> None:
    p = load_profile("topstep_50k_xfa")
    a = risk_arrays(p)
    fs, ist = K.new_state(a.p)
    K.on_day_start(a.p, fs, ist, 100)
    assert K.contract_cap(a.p, a.tiers, fs) == 20    # 2 lots at base
    fs[K.F_BALANCE] = 52_100.0                       # intraday profit: still 2 lots
    assert K.contract_cap(a.p, a.tiers, fs) == 20
    K.on_day_start(a.p, fs, ist, 101)
    assert K.contract_cap(a.p, a.tiers, fs) == 50    # 5 lots above $2,000 at the close


def test_consistency_tracker() -> None:
    a = risk_arrays(load_profile("topstep_50k_combine"))
    fs, ist = K.new_state(a.p)
    K.on_day_start(a.p, fs, ist, 1)
    fs[K.F_BALANCE] += 600.0
    K.on_day_start(a.p, fs, ist, 2)
    fs[K.F_BALANCE] += 400.0
    assert K.consistency_ratio(a.p, fs) == pytest.approx(0.6)


def test_volatility_and_volume_breakers() -> None:
    a = risk_arrays(load_profile("account_1k"))
    assert K.breaker_bits(a.p, 3.1, 1.0, 10.0, 10.0) == K.B_VOL_HALVE
    assert K.breaker_bits(a.p, 1.0, 1.0, 0.5, 10.0) == K.B_VOLU_HALVE
    rk = RiskKernel(load_profile("account_1k"))
    r = rk.check(EntryIntent(t("2025-03-12", "10:00"), 1, 0.75, 8, atr=4.0, atr_normal=1.0,
                             volume=10, volume_avg=10))
    assert isinstance(r, Approved) and r.contracts == 1 and r.mode == "REDUCING"
    p = profile("account_1k", risk=dict(volatility_breaker_action="pause"))
    d = RiskKernel(p).check(EntryIntent(t("2025-03-12", "10:00"), 1, 0.75, 8, atr=4.0,
                                        atr_normal=1.0))
    assert isinstance(d, Denied) and d.code == K.R_VOLATILITY_PAUSE


def test_spread_breaker_has_hysteresis() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    now = t("2025-03-12", "10:00")
    assert not rk.check(EntryIntent(now, 1, 0.75, 8, spread_ticks=3))
    assert not rk.check(EntryIntent(now, 1, 0.75, 8, spread_ticks=2))   # still above resume
    assert rk.check(EntryIntent(now, 1, 0.75, 8, spread_ticks=1))


@pytest.mark.parametrize("day", ["2025-03-07", "2025-03-10", "2025-10-31", "2025-11-03"])
def test_schedule_is_dst_proof(day: str) -> None:
    s = build_schedule(load_profile("account_1k"), day, day)
    assert s.table[0, K.S_FLAT] == t(day, "16:30")
    assert s.table[0, K.S_ENTRY] == t(day, "09:30")
    ts_ = build_schedule(load_profile("topstep_50k_combine"), day, day)
    assert ts_.table[0, K.S_FLAT] == t(day, "15:05", CT) <= t(day, "15:10", CT)
    assert ts_.table[0, K.S_NO_NEW] == t(day, "15:00", CT)


def test_schedule_early_close_and_holiday_morning() -> None:
    s = build_schedule(load_profile("account_1k"), "2025-11-26", "2025-11-28")
    close_fri = cal.flatten_deadline_ns("2025-11-28", "23:59", CT)
    assert close_fri == t("2025-11-28", "13:15")
    # The schedule keeps its offsets before an effective deadline 5 min before the close.
    assert s.table[2, K.S_FLAT] == t("2025-11-28", "13:10")
    assert s.table[2, K.S_EXIT] == t("2025-11-28", "13:05")
    assert s.table[2, K.S_NO_NEW] == t("2025-11-28", "12:55")
    assert s.table[2, K.S_REDUCE] == t("2025-11-28", "12:40")
    assert (s.table[2] < close_fri).all()
    thanksgiving = s.table[1]                        # Globex-only morning: no RTH, no entries
    assert thanksgiving[K.S_ENTRY] >= thanksgiving[K.S_NO_NEW]    # no entry window at all


def test_reduce_and_no_new_entries_phases() -> None:
    rk = RiskKernel(load_profile("account_1k"))
    day = "2025-07-15"
    assert rk.phase(t(day, "09:00")) == K.PH_CLOSED
    assert rk.phase(t(day, "12:00")) == K.PH_OPEN
    assert rk.phase(t(day, "16:05")) == K.PH_REDUCE
    assert rk.phase(t(day, "16:20")) == K.PH_NO_NEW
    assert rk.must_flatten(t(day, "16:26"))
    d = rk.check(EntryIntent(t(day, "16:20"), 1, 0.75, 8))
    assert isinstance(d, Denied) and d.code == K.R_NO_NEW_ENTRIES


def test_snapshot_restore_survives_restart() -> None:
    p = load_profile("account_1k")
    rk = RiskKernel(p)
    now = t("2025-03-12", "10:00")
    rk.on_time(now)
    rk.on_trade_closed(-60.0, now)
    snap = rk.snapshot()
    rk2 = RiskKernel(p)
    rk2.restore(snap)
    assert not rk2.check(EntryIntent(now, 1, 0.75, 8))
    assert rk2.status(now).balance == 940.0


def test_contract_cap_counts_position_and_working_orders() -> None:
    rk = RiskKernel(profile("topstep_50k_combine", risk=dict(max_risk_per_trade=10_000.0)))
    now = t("2025-03-12", "10:00", CT)
    r = rk.check(EntryIntent(now, 1, 0.95, 8))
    assert isinstance(r, Approved) and r.contracts == 40            # $200 / $10 × 2.0 (cap 50)
    r = rk.check(EntryIntent(now, 1, 0.95, 8, open_contracts=45))
    assert isinstance(r, Approved) and r.contracts == 5
    d = rk.check(EntryIntent(now, 1, 0.95, 8, open_contracts=50))
    assert isinstance(d, Denied) and d.code == K.R_CONTRACT_CAP


def test_topstep_mll_intraday_trailing_follows_the_equity_high() -> None:
    """The default (stricter) reading: the MLL trails the intraday equity high, open profit
    included, and still locks at the starting balance."""
    p = profile("topstep_50k_combine", risk=dict(max_daily_loss=1e5, max_daily_drawdown=1e5,
                                                 account_drawdown_stop=1e5, kill_switch_loss=1e5),
                topstep=dict(daily_loss_limit=None))
    assert p.topstep.mll_trailing == "intraday"
    a = risk_arrays(p)
    fs, ist = K.new_state(a.p)
    K.on_day_start(a.p, fs, ist, 100)
    assert K.mark(a.p, fs, ist, 800.0) == 0                  # open profit: equity 50,800
    assert fs[K.F_MLL_LEVEL] == 48_800.0
    assert K.mark(a.p, fs, ist, -100.0) == 0 and fs[K.F_MLL_LEVEL] == 48_800.0   # never down
    K.mark(a.p, fs, ist, 5_000.0)                            # far above: locks at the start
    assert fs[K.F_MLL_LEVEL] == 50_000.0
