"""The strategy conventions of issue 8 (Build 5) as settings, each on hand-made bars.

on_opposite (ignore / exit / reverse), stop_fill (stop-market / at the stop), bracket_anchor
(reference / fill), cooldown_bars = 0 (re-entry on the exit bar's own signal) and
sessions = "continuous" (positions carry across the daily cut; daily limits reset there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import calendar as cal
from core.backtest import run_backtest
from core.datasets.schema import make_frame
from core.strategy.signals import Signals
from tests.unit.backtest_fixtures import LOOSE, profile

T = 0.25


def _bars(prices: list[tuple[float, float, float, float]], start: str = "2025-07-15 10:00",
          tz: str = "America/New_York", step_s: int = 60) -> pd.DataFrame:
    t0 = pd.Timestamp(start, tz=tz).tz_convert("UTC").value
    ts = t0 + np.arange(len(prices), dtype=np.int64) * step_s * 10**9
    a = np.array(prices, dtype=float)
    return make_frame(ts, a[:, 0], a[:, 1], a[:, 2], a[:, 3], np.full(len(a), 10), "MES")


def _sig(n: int, at: dict[int, int]) -> Signals:
    d = np.zeros(n, np.int8)
    c = np.zeros(n)
    for i, v in at.items():
        d[i], c[i] = v, 0.75
    return Signals(d, c)


def _prof(**strategy):  # noqa: ANN003, ANN202
    base = dict(stop_ticks=8, target_ticks=8, time_stop_minutes=None, slippage_model="fixed",
                fill_mode="realistic", same_bar="pessimistic")
    return profile("account_1k", risk=LOOSE, strategy={**base, **strategy},
                   costs=dict(slippage_ticks=1.0))


FLAT = (5000.0, 5000.25, 4999.75, 5000.0)


def test_on_opposite_ignore_exit_reverse() -> None:
    bars = _bars([FLAT] * 12)
    sig = _sig(12, {1: 1, 4: -1})
    got = {}
    for mode in ("ignore", "exit", "reverse"):
        tr = run_backtest(bars, sig, profile=_prof(on_opposite=mode)).trades
        got[mode] = [(int(t.direction), str(t.exit_reason), int(t.exit_bar)) for t in tr.itertuples()]
    assert got["ignore"] == [(1, "eod_flatten", 11)]                  # the short signal did nothing
    assert got["exit"] == [(1, "signal", 5)]                          # exit at the next open, no short
    assert got["reverse"] == [(1, "signal", 5), (-1, "eod_flatten", 11)]


def test_stop_fill_at_stop_has_no_exit_slippage() -> None:
    prices = [FLAT, FLAT, FLAT, (5000.0, 5000.0, 4996.0, 4996.5), FLAT, FLAT]
    bars = _bars(prices)
    sig = _sig(6, {1: 1})
    for mode, exit_slip_ticks in (("stop_market", 1.0), ("at_stop", 0.0)):
        t = run_backtest(bars, sig, profile=_prof(stop_fill=mode)).trades.iloc[0]
        assert t.exit_reason == "stop" and t.exit_price == 5000.0 - 8 * T
        assert t.slippage == (1.0 + exit_slip_ticks) * 1.25 * t.contracts   # entry 1 tick + exit


def test_bracket_anchor_reference_or_fill() -> None:
    prices = [FLAT, FLAT, FLAT, (5000.0, 5000.0, 4990.0, 4995.0), FLAT]
    bars = _bars(prices)
    sig = _sig(5, {1: 1})
    ref = run_backtest(bars, sig, profile=_prof(bracket_anchor="reference")).trades.iloc[0]
    fill = run_backtest(bars, sig, profile=_prof(bracket_anchor="fill")).trades.iloc[0]
    assert ref.exit_price == 5000.0 - 8 * T                          # from the open (reference)
    assert fill.exit_price == 5000.0 + 1 * T - 8 * T                 # from the fill (open + 1 tick)


def test_cooldown_zero_reenters_on_the_exit_bars_own_signal() -> None:
    prices = [FLAT, FLAT, FLAT, (5000.0, 5000.0, 4996.0, 4996.5)] + [FLAT] * 4
    bars = _bars(prices)
    sig = _sig(8, {1: 1, 3: 1})                                      # bar 3 stops out AND signals
    for cooldown, trades in ((0, 2), (1, 1)):
        tr = run_backtest(bars, sig, profile=_prof(cooldown_bars=cooldown)).trades
        assert len(tr) == trades
        if trades == 2:
            assert tr.iloc[1].entry_bar == 4                         # the next open after the exit


def test_continuous_sessions_hold_across_the_cut_and_reset_daily_limits() -> None:
    # 24/7 bars through a Saturday (no CME session): the position opened before the UTC
    # midnight cut is still open after it and exits by its bracket, not by an end of day.
    prices = [FLAT] * 6 + [(5000.0, 5003.0, 5000.0, 5002.0)] + [FLAT] * 3
    bars = _bars(prices, start="2025-07-12 23:55", tz="UTC")
    sig = _sig(10, {1: 1})
    prof = profile("account_1k", risk=LOOSE,
                   strategy=dict(stop_ticks=8, target_ticks=8, time_stop_minutes=None,
                                 slippage_model="fixed"),
                   schedule=dict(sessions="continuous", daily_cut="00:00", timezone="UTC",
                                 rth_only=False))
    tr = run_backtest(bars, sig, profile=prof).trades
    assert len(tr) == 1 and tr.iloc[0].exit_reason == "target"
    assert tr.iloc[0].entry_ns < cal.local_time_ns("2025-07-13", "00:00", "UTC") < tr.iloc[0].exit_ns
    cme = profile("account_1k", risk=LOOSE, strategy=dict(time_stop_minutes=None))
    assert len(run_backtest(bars, sig, profile=cme).trades) == 0     # CME: Saturday is closed


def test_continuous_daily_loss_resets_at_the_cut() -> None:
    down = (5000.0, 5000.0, 4990.0, 4992.0)
    prices = ([FLAT, FLAT, down, FLAT] * 3) + [FLAT] * 4 + ([FLAT, FLAT, down, FLAT] * 2)
    n = len(prices)
    bars = _bars(prices, start="2025-07-12 23:40", tz="UTC", step_s=120)
    entries = {k: 1 for k in range(n) if k % 4 == 1}
    prof = profile("account_1k", risk=dict(max_daily_loss=25.0, loss_pauses=()),
                   strategy=dict(stop_ticks=8, target_ticks=8, time_stop_minutes=None,
                                 slippage_model="fixed"),
                   schedule=dict(sessions="continuous", daily_cut="00:00", timezone="UTC",
                                 rth_only=False))
    res = run_backtest(bars, _sig(n, entries), profile=prof)
    days = pd.to_datetime(res.trades["entry_ns"], utc=True).dt.date.astype(str)
    assert set(days) == {"2025-07-12", "2025-07-13"}                 # trades again after the cut
    assert (res.risk_events["event"] == "daily loss limit").sum() >= 1
