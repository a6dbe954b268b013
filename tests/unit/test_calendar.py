"""CME equity-futures calendar: DST weekends, holidays, early closes, deadlines, invariants.

Facts asserted here were checked against pandas_market_calendars 5.5 ("CME Globex Equity")
and CME's published equity schedule; see the docstring of core/calendar.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import calendar as cal
from core.errors import DataError

ET_Z = ZoneInfo(cal.ET)
UTC = timezone.utc
S = 1_000_000_000


def et_ns(y: int, m: int, d: int, hh: int, mm: int, ss: int = 0) -> int:
    """UTC ns of an ET wall-clock time (reference via zoneinfo, independent of core)."""
    return int(datetime(y, m, d, hh, mm, ss, tzinfo=ET_Z).timestamp()) * S


def utc_ns(y: int, m: int, d: int, hh: int, mm: int) -> int:
    return int(datetime(y, m, d, hh, mm, tzinfo=UTC).timestamp()) * S


def epoch_days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def nth_sunday(year: int, month: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


DST_SUNDAYS = [nth_sunday(y, 3, 2) for y in (2023, 2024, 2025, 2026)] + \
              [nth_sunday(y, 11, 1) for y in (2023, 2024, 2025, 2026)]


@pytest.mark.parametrize("sunday", DST_SUNDAYS, ids=str)
def test_dst_weekend_sessions_shift_one_hour_in_utc(sunday: date) -> None:
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    tab = cal.sessions(friday, monday).set_index("trading_day")
    fri, mon = tab.loc[pd.Timestamp(friday)], tab.loc[pd.Timestamp(monday)]
    # Opens 18:00 ET the evening before, closes 17:00 ET, whatever the UTC offset.
    thursday = friday - timedelta(days=1)
    assert fri.open_ns == et_ns(thursday.year, thursday.month, thursday.day, 18, 0)
    assert fri.close_ns == et_ns(friday.year, friday.month, friday.day, 17, 0)
    assert mon.open_ns == et_ns(sunday.year, sunday.month, sunday.day, 18, 0)
    assert mon.close_ns == et_ns(monday.year, monday.month, monday.day, 17, 0)
    shift = (mon.open_ns - fri.open_ns) - 3 * 86_400 * S  # Thu->Sun evening: 3 wall-clock days
    assert shift == (-3600 * S if sunday.month == 3 else 3600 * S)
    assert mon.rth_open_ns == et_ns(monday.year, monday.month, monday.day, 9, 30)
    assert mon.rth_close_ns == et_ns(monday.year, monday.month, monday.day, 16, 0)
    assert not fri.early_close and not mon.early_close
    probes = np.array([
        fri.close_ns - S,                                       # Friday 16:59:59 ET
        fri.close_ns,                                           # Friday 17:00 ET: closed
        et_ns(sunday.year, sunday.month, sunday.day, 12, 0),    # Sunday noon (DST day)
        mon.open_ns - S,                                        # Sunday 17:59:59 ET
        mon.open_ns,                                            # Sunday 18:00 ET -> Monday
        et_ns(monday.year, monday.month, monday.day, 17, 30),   # Monday halt
        et_ns(monday.year, monday.month, monday.day, 18, 0),    # Monday 18:00 -> Tuesday
    ], dtype=np.int64)
    expected = [epoch_days(friday), -1, -1, -1, epoch_days(monday), -1,
                epoch_days(monday + timedelta(days=1))]
    assert cal.trading_day_of(probes).tolist() == expected
    assert cal.session_id(probes).tolist() == expected
    assert cal.in_session_mask(probes).tolist() == [e >= 0 for e in expected]
    assert not cal.rth_mask(probes).any()


def test_holidays_have_no_session() -> None:
    for d in ("2024-12-25", "2025-01-01", "2023-12-25", "2026-01-01", "2024-03-30"):
        assert not cal.is_trading_day(d)
    days = set(cal.sessions("2024-12-20", "2025-01-06")["trading_day"].dt.date)
    assert date(2024, 12, 25) not in days and date(2025, 1, 1) not in days
    # The session after Christmas opens on Christmas evening 18:00 ET.
    tab = cal.sessions("2024-12-26", "2024-12-26")
    assert tab.open_ns.iloc[0] == et_ns(2024, 12, 25, 18, 0)
    ts = np.array([et_ns(2024, 12, 25, 10, 0), et_ns(2024, 12, 24, 20, 0)], dtype=np.int64)
    assert cal.trading_day_of(ts).tolist() == [-1, -1]


def test_early_closes_as_pandas_market_calendars_says() -> None:
    # Day after Thanksgiving and Christmas Eve: equity futures close 12:15 CT = 13:15 ET.
    for d in (date(2024, 11, 29), date(2024, 12, 24), date(2025, 11, 28), date(2023, 11, 24)):
        row = cal.sessions(d, d).iloc[0]
        assert row.early_close and not row.holiday
        assert row.close_ns == et_ns(d.year, d.month, d.day, 13, 15)
        assert row.rth_open_ns == et_ns(d.year, d.month, d.day, 9, 30)
        assert row.rth_close_ns == row.close_ns      # RTH cut at the early close
        assert cal.is_early_close(d)
    # July 3 (a weekday before Independence Day): 12:15 CT too; July 4 itself is a Globex-only
    # holiday morning (halt 12:00 CT); 2025-01-09 (NYSE closed, day of mourning): no RTH.
    assert cal.sessions("2024-07-03", "2024-07-03").close_ns.iloc[0] == et_ns(2024, 7, 3, 13, 15)
    j4 = cal.sessions("2024-07-04", "2024-07-04").iloc[0]
    assert j4.holiday and j4.early_close and j4.close_ns == et_ns(2024, 7, 4, 13, 0)
    mourning = cal.sessions("2025-01-09", "2025-01-09").iloc[0]
    assert mourning.holiday and mourning.rth_open_ns == mourning.rth_close_ns
    # Thanksgiving Day: Globex trades the morning, halts 12:00 CT; NYSE closed -> no RTH.
    tg = cal.sessions("2024-11-28", "2024-11-28").iloc[0]
    assert tg.early_close and tg.holiday
    assert tg.close_ns == et_ns(2024, 11, 28, 13, 0)
    assert tg.rth_open_ns == tg.rth_close_ns
    assert not cal.rth_mask(np.array([et_ns(2024, 11, 28, 10, 0)])).any()
    assert cal.eth_mask(np.array([et_ns(2024, 11, 28, 10, 0)])).all()
    # Friday after Thanksgiving opens Thursday 18:00 ET.
    assert cal.sessions("2024-11-29", "2024-11-29").open_ns.iloc[0] == et_ns(2024, 11, 28, 18, 0)
    # Good Friday: the library assumes an 08:15 CT (09:15 ET) close from 2023 on -> no RTH.
    gf = cal.sessions("2024-03-29", "2024-03-29").iloc[0]
    assert gf.early_close and gf.holiday and gf.close_ns == et_ns(2024, 3, 29, 9, 15)
    assert gf.rth_open_ns == gf.rth_close_ns
    assert not cal.is_early_close("2024-03-28") and not cal.is_early_close("2024-12-25")


def test_rth_bounds_and_minutes_to_close() -> None:
    ts = np.array([et_ns(2024, 7, 10, 9, 29, 59), et_ns(2024, 7, 10, 9, 30),
                   et_ns(2024, 7, 10, 15, 59, 59), et_ns(2024, 7, 10, 16, 0),
                   et_ns(2024, 7, 10, 16, 59), et_ns(2024, 7, 10, 17, 30)], dtype=np.int64)
    assert cal.rth_mask(ts).tolist() == [False, True, True, False, False, False]
    assert cal.eth_mask(ts).tolist() == [True, False, False, True, True, False]
    mtc = cal.minutes_to_close(ts)
    assert mtc[4] == pytest.approx(1.0) and mtc[3] == pytest.approx(60.0)
    assert np.isnan(mtc[5])
    # Early close: RTH ends 13:15 ET on Black Friday.
    bf = np.array([et_ns(2024, 11, 29, 13, 14), et_ns(2024, 11, 29, 13, 15)], dtype=np.int64)
    assert cal.rth_mask(bf).tolist() == [True, False]
    assert cal.minutes_to_close(bf)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("sunday", DST_SUNDAYS, ids=str)
def test_flatten_deadlines_in_exchange_time_across_dst(sunday: date) -> None:
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    spring = sunday.month == 3
    # Topstep: flat by 15:10 CT. CDT = UTC-5, CST = UTC-6.
    assert cal.flatten_deadline_ns(monday, "15:10", cal.CT) == \
        utc_ns(monday.year, monday.month, monday.day, 20 if spring else 21, 10)
    assert cal.flatten_deadline_ns(friday, "15:10", cal.CT) == \
        utc_ns(friday.year, friday.month, friday.day, 21 if spring else 20, 10)
    # Profile deadline 16:30 ET (default). EDT = UTC-4, EST = UTC-5.
    assert cal.flatten_deadline_ns(monday) == \
        utc_ns(monday.year, monday.month, monday.day, 20 if spring else 21, 30)
    assert cal.flatten_deadline_ns(friday) == \
        utc_ns(friday.year, friday.month, friday.day, 21 if spring else 20, 30)
    # On the DST Sunday itself, wall-clock 18:00 ET is still 18:00 ET.
    assert cal.local_time_ns(sunday, "18:00", cal.ET) == et_ns(sunday.year, sunday.month, sunday.day, 18, 0)


def test_flatten_deadline_capped_at_early_close_and_rejects_holidays() -> None:
    close = cal.sessions("2024-11-29", "2024-11-29").close_ns.iloc[0]
    assert cal.flatten_deadline_ns("2024-11-29", "15:10", cal.CT) == close
    assert cal.flatten_deadline_ns("2024-11-29", "11:00", cal.CT) == utc_ns(2024, 11, 29, 17, 0)
    with pytest.raises(DataError, match="2024-12-25"):
        cal.flatten_deadline_ns("2024-12-25")
    with pytest.raises(DataError):
        cal.local_time_ns("2024-01-02", "25:99", cal.ET)


def test_sessions_frame_shape_and_bad_input() -> None:
    tab = cal.sessions(date(2024, 1, 1), "2024-12-31")
    assert list(tab.columns)[:6] == ["trading_day", "open_ns", "close_ns", "rth_open_ns",
                                     "rth_close_ns", "early_close"]
    assert tab["trading_day"].dtype == "datetime64[ns]"
    assert tab["open_ns"].dtype == np.int64 and tab["early_close"].dtype == bool
    assert 250 <= len(tab) <= 262
    assert (tab.open_ns.diff().dropna() > 0).all() and (tab.close_ns > tab.open_ns).all()
    assert (tab.open_ns.to_numpy()[1:] >= tab.close_ns.to_numpy()[:-1]).all()
    assert ((tab.rth_open_ns >= tab.open_ns) & (tab.rth_close_ns <= tab.close_ns)).all()
    # Sessions span years: a table that starts mid-span still has the right first open.
    assert cal.sessions("2025-01-02", "2025-01-02").open_ns.iloc[0] == et_ns(2025, 1, 1, 18, 0)
    with pytest.raises(DataError):
        cal.sessions("2024-02-01", "2024-01-01")
    with pytest.raises(DataError):
        cal.sessions("not-a-date", "2024-01-01")
    assert cal.trading_day_of(np.array([], dtype=np.int64)).size == 0
    assert cal.rth_mask(np.array([], dtype=np.int64)).size == 0
    # datetime64 and pandas input are accepted.
    stamps = pd.Series(pd.to_datetime(["2024-07-10 14:00"], utc=True).tz_localize(None))
    assert cal.rth_mask(stamps).tolist() == [True]


# ------------------------------------------------------------------ property test vs reference
def _reference(ts: int, sched: pd.DataFrame, nyse_days: set[date]) -> tuple[int, bool]:
    """Slow per-timestamp rule: wall clock in ET via zoneinfo, CME closes/holidays from pmc."""
    local = datetime.fromtimestamp(ts / S, tz=UTC).astimezone(ET_Z)
    day = local.date() + timedelta(days=1) if local.hour >= 18 else local.date()
    key = pd.Timestamp(day)
    if key not in sched.index:
        return -1, False
    close = sched.loc[key, "market_close"].value
    if ts >= close:
        return -1, False
    hm = local.hour * 60 + local.minute
    rth = local.date() == day and day in nyse_days and 9 * 60 + 30 <= hm < 16 * 60
    return epoch_days(day), rth


_LO, _HI = utc_ns(2023, 1, 3, 0, 0), utc_ns(2026, 12, 20, 0, 0)


@pytest.fixture(scope="module")
def pmc_reference() -> tuple[pd.DataFrame, set[date]]:
    import pandas_market_calendars as mcal
    sched = mcal.get_calendar("CME Globex Equity").schedule("2023-01-01", "2026-12-31")
    sched.index = pd.DatetimeIndex(sched.index).normalize()
    nyse = mcal.get_calendar("XNYS").schedule("2023-01-01", "2026-12-31")
    return sched, {d.date() for d in nyse.index}


# Mix uniform times with times near session bounds (the interesting edges).
_stamp = st.one_of(
    st.integers(_LO, _HI),
    st.builds(lambda d, off: et_ns(2023, 1, 3, 18, 0) + d * 86_400 * S + off,
              st.integers(0, 1400), st.sampled_from([-S, 0, S, -3600 * S, -3601 * S, 3600 * S])),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_stamp, min_size=1, max_size=80))
def test_property_matches_zoneinfo_reference(pmc_reference, stamps: list[int]) -> None:
    sched, nyse_days = pmc_reference
    ts = np.array(stamps, dtype=np.int64)
    days, rth, ins = cal.trading_day_of(ts), cal.rth_mask(ts), cal.in_session_mask(ts)
    assert not (rth & ~ins).any()                               # RTH is inside a session
    assert (cal.eth_mask(ts) == (ins & ~rth)).all()
    assert ((days >= 0) == ins).all()
    ref = [_reference(int(t), sched, nyse_days) for t in ts]
    assert days.tolist() == [r[0] for r in ref]
    assert rth.tolist() == [r[1] for r in ref]
    # The sorted fast path gives the same answers as the unsorted searchsorted path.
    order = np.argsort(ts, kind="stable")
    assert (cal.trading_day_of(ts[order]) == days[order]).all()
    assert (cal.rth_mask(ts[order]) == rth[order]).all()
    mtc = cal.minutes_to_close(ts[order])
    assert (np.isnan(mtc) == ~ins[order]).all()
    assert (mtc[~np.isnan(mtc)] > 0).all()
