"""Crypto instruments and 24/7 sessions: specs, trading days from a daily cut, and every place
that used to assume CME sessions (validation gaps, resampling, catalog gaps, statistics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.stats import compute_stats, daily_pnl, per_day_table
from core.config import load_profile
from core.datasets.catalog import Catalog
from core.datasets.resample import resample
from core.datasets.schema import make_frame
from core.datasets.validate import validate
from core.daycut import DayRule, continuous_days, is_continuous
from core.domain import INSTRUMENTS, get_instrument
from core.risk.params import build_schedule
from tests.unit.backtest_fixtures import profile

NS_MIN = 60 * 10**9


def minute_bars(start: str, n: int, *, symbol: str = "BTCUSDT", skip: slice | None = None,
                price: float = 40_000.0) -> pd.DataFrame:
    """``n`` one-minute bars from ``start`` (UTC), optionally with a hole, fractional volume."""
    ts = pd.Timestamp(start, tz="UTC").value + np.arange(n, dtype=np.int64) * NS_MIN
    if skip is not None:
        ts = np.delete(ts, np.arange(n)[skip])
    c = np.round(price + np.cumsum(np.sin(np.arange(len(ts)))), 2)
    o = np.r_[c[0], c[:-1]]
    vol = np.full(len(ts), 1.25)
    return make_frame(ts, o, np.maximum(o, c) + 0.5, np.minimum(o, c) - 0.5, c, vol, symbol)


def test_crypto_specs_carry_lot_size_min_notional_and_dated_fees() -> None:
    for sym, lot in (("BTCUSDT", 1e-5), ("ETHUSDT", 1e-4), ("BNBUSDT", 1e-3), ("SOLUSDT", 1e-3)):
        inst = get_instrument(sym)
        assert inst.percent and inst.continuous and inst.fractional_volume
        assert inst.lot_size == lot and inst.min_notional == 5.0
        assert 0 < inst.maker_fee <= inst.taker_fee < 0.01 and inst.fees_as_of
        assert inst.lot_tick_value == pytest.approx(inst.tick_value * lot)
    assert not INSTRUMENTS["MES"].continuous and INSTRUMENTS["MES"].lot_size == 1.0
    assert is_continuous("ETHUSDT") and not is_continuous("MESZ4") and not is_continuous(None)


@pytest.mark.parametrize("cut", ["00:00", "17:00"])
def test_trading_days_agree_with_the_kernel_schedule(cut: str) -> None:
    """Reports and daily limits cut the day at the same instant."""
    prof = profile("account_1k", schedule=dict(sessions="continuous", daily_cut=cut,
                                               timezone="UTC", rth_only=False))
    ts = pd.Timestamp("2024-03-08", tz="UTC").value + np.arange(0, 3 * 1440, 7) * NS_MIN
    sch = build_schedule(prof, "2024-03-07", "2024-03-12")
    rows = sch.row_of(ts)
    assert (rows >= 0).all()
    np.testing.assert_array_equal(sch.day[rows], continuous_days(ts, cut, "UTC"))
    np.testing.assert_array_equal(DayRule.of(prof).days(ts), sch.day[rows])


def test_validation_counts_every_missing_bar_of_a_24_7_market() -> None:
    # Saturday: CME is closed, Binance is not — a 3-hour hole is lost data, not a weekend.
    f = minute_bars("2024-03-09 00:00", 600, skip=slice(100, 280))
    rep = validate(f, source="btc", bar_seconds=60)
    assert rep.ok and rep.gaps == 1 and rep.missing_bars == 180
    assert not [i for i in rep.issues if i.code == "outside-session"]
    gap = next(i for i in rep.issues if i.code == "gaps")
    assert "UTC" in gap.message and "ET" not in gap.message


def test_resampling_a_24_7_market_ignores_cme_early_closes() -> None:
    # 2024-11-29: CME equity futures close at 13:15 ET (18:15 UTC); crypto trades on.
    f = minute_bars("2024-11-29 17:00", 180)
    hourly = resample(f, 3600, source_seconds=60)
    assert len(hourly) == 3
    assert hourly["volume"].dtype.kind == "f" and hourly["volume"].iloc[0] == pytest.approx(75.0)
    cme = resample(f, 3600, source_seconds=60, continuous=False)
    assert len(cme) > 3      # the CME calendar would split (or drop into) its session break


def test_catalog_reports_weekend_holes_of_a_24_7_market(tmp_path) -> None:
    cat = Catalog(tmp_path / "cat")
    cat.append(minute_bars("2024-03-09 00:00", 120), root="BTCUSDT", bar_seconds=60)
    rep = cat.append(minute_bars("2024-03-09 06:00", 60), root="BTCUSDT", bar_seconds=60)
    assert len(rep.gaps) == 1                   # Saturday 02:00 → 06:00 UTC is trading time
    a, b = rep.gaps[0]
    assert (b - a) == 4 * 60 * NS_MIN


def _trades(exit_times: list[str], pnl: list[float]) -> pd.DataFrame:
    t = pd.to_datetime(exit_times, utc=True)
    n = len(t)
    return pd.DataFrame({"entry_time": t, "exit_time": t, "direction": np.ones(n, np.int8),
                         "net_pnl": pnl, "gross_pnl": pnl, "commission": np.zeros(n),
                         "slippage": np.zeros(n), "exit_reason": ["target"] * n,
                         "model_confidence": np.ones(n), "predicted_class": np.ones(n),
                         "mfe": np.zeros(n), "mae": np.zeros(n), "contracts": np.ones(n)})


def test_statistics_group_days_by_the_daily_cut_weekends_included() -> None:
    rule = DayRule(sessions="continuous", daily_cut="00:00", timezone="UTC")
    tr = _trades(["2024-03-09 23:59", "2024-03-10 00:01", "2024-03-10 12:00"], [1.0, 2.0, 3.0])
    d = daily_pnl(tr, rule)
    assert list(d.index.strftime("%Y-%m-%d")) == ["2024-03-09", "2024-03-10"]
    assert list(d.to_numpy()) == [1.0, 5.0]
    assert list(per_day_table(tr, rule)["trades"]) == [1, 2]
    ts = pd.Timestamp("2024-03-08", tz="UTC").value + np.arange(0, 5 * 1440, 60) * NS_MIN
    eq = pd.DataFrame({"timestamp": ts, "equity": 1000.0 + np.zeros(len(ts))})
    st = compute_stats(tr, eq, starting_balance=1000.0, day_rule=rule)
    assert st.trading_days == 5           # Fri … Tue, Saturday and Sunday count
    assert set(st.pnl_by_hour) == {23, 0, 12}   # hours in the rule's zone (UTC)


def test_cme_profiles_keep_cme_days() -> None:
    assert not DayRule.of(load_profile("account_1k")).continuous


def test_catalog_keeps_fractional_volume(tmp_path) -> None:
    cat = Catalog(tmp_path / "cat")
    f = minute_bars("2024-03-09 00:00", 90)
    cat.append(f, root="BTCUSDT", bar_seconds=60)
    back = cat.load("BTCUSDT", 60)
    assert back["volume"].dtype == np.float64
    np.testing.assert_array_equal(back["volume"].to_numpy(), f["volume"].to_numpy())
    again = cat.append(f, root="BTCUSDT", bar_seconds=60)
    assert again.rows_added == 0 and again.duplicates_skipped == 90
