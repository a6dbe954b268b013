"""Limit gauges read the kernel's own floors: a gauge is full exactly when the kernel says
that limit is breached (one rule, one place — the gauge never decides)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.risk import RiskKernel
from core.risk import kernel as K
from tests.unit.backtest_fixtures import profile

_CODES = {"daily loss": K.R_DAILY_LOSS, "daily drawdown": K.R_DAILY_DRAWDOWN,
          "account drawdown": K.R_ACCOUNT_DRAWDOWN, "kill switch": K.R_KILL_SWITCH,
          "Topstep DLL": K.R_TOPSTEP_DLL, "MLL": K.R_MLL}


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["demo", "topstep_50k_combine"]),
       open_pnl=st.floats(-4_000, 500))
@example(name="demo", open_pnl=-199.9921875)      # a cent under the floor: rounds to 199.99
def test_a_gauge_is_full_exactly_when_the_kernel_breaches_it(name: str, open_pnl: float) -> None:
    k = RiskKernel(profile(name))
    k.on_time(1_704_292_200_000_000_000)           # 2024-01-03 14:30 UTC, in session
    eq = float(k.fs[K.F_BALANCE]) + open_pnl
    bits = int(K.breached(k.arrays.p, k.fs, np.float64(eq)))
    for g in k.gauges(open_pnl):
        code = _CODES.get(g["name"])
        if code is None:
            continue
        if abs(g["used"] - g["limit"]) <= 0.011:
            continue                  # within a cent of the floor: the rounded gauge can't say
        assert (g["used"] > g["limit"]) == bool(bits >> code & 1), (g, eq)


def test_a_gauge_at_its_floor_is_full() -> None:
    k = RiskKernel(profile("demo"))
    k.on_time(1_704_292_200_000_000_000)
    g = {x["name"]: x for x in k.gauges(-50.0)}["daily loss"]
    assert g["used"] == g["limit"] == 50.0
    eq = float(k.fs[K.F_BALANCE]) - 50.0
    assert int(K.breached(k.arrays.p, k.fs, np.float64(eq))) >> K.R_DAILY_LOSS & 1


def test_disabled_limits_have_no_gauge() -> None:
    names = [g["name"] for g in RiskKernel(profile("demo")).gauges()]
    assert "MLL" not in names and "Topstep DLL" not in names
