"""Resampling: equal to a slow pandas reference, never across a session break or a roll."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.datasets import resample as rs
from core.datasets.resample import resample, resample_to, rule_seconds, session_ids
from core.datasets.schema import COLUMNS, NS_PER_SECOND, empty_frame, make_frame
from core.errors import ConfigError, DataError

NS = NS_PER_SECOND


def et(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


# Places where sessions break: weekend close, daily halt, DST switches, early close 13:15 ET
# (day after Thanksgiving), the Christmas Eve early close and the Good Friday 2024 session.
ANCHORS = [et("2024-03-08 15:30"), et("2024-03-10 17:00"), et("2024-06-12 16:00"),
           et("2024-11-03 00:30"), et("2024-11-29 12:30"), et("2023-12-24 12:00"),
           et("2024-03-29 08:00")]


def fake_sessions(block_s: int, dead_s: int) -> Callable[[np.ndarray], np.ndarray]:
    """A stand-in calendar with breaks at odd seconds: each ``block_s`` block starts with
    ``dead_s`` seconds outside any session (-1), the rest is session ``block index``."""
    def sid(ts: np.ndarray) -> np.ndarray:
        sec = np.asarray(ts, dtype=np.int64) // NS
        return np.where(sec % block_s < dead_s, -1, sec // block_s).astype(np.int64)
    return sid


@st.composite
def frames(draw: st.DrawFn, step: int = 1, max_rows: int = 250) -> pd.DataFrame:
    """Sorted 1-second (or ``step``-second) bars near a session edge, with contract changes."""
    anchor = draw(st.sampled_from(ANCHORS)) // (step * NS) * (step * NS)
    offsets = sorted(draw(st.lists(st.integers(0, 4 * 3600 // step), min_size=1,
                                   max_size=max_rows, unique=True)))
    n = len(offsets)
    ts = anchor + np.asarray(offsets, dtype=np.int64) * step * NS
    changes = sorted(draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=3, unique=True)))
    sym_idx = np.zeros(n, dtype=np.int64)
    for c in changes:
        sym_idx[c:] += 1
    symbols = np.array(["MESZ3", "MESH4", "MESM4", "MESU4"])[sym_idx % 4]
    ticks = np.asarray(draw(st.lists(st.integers(-8, 8), min_size=n, max_size=n)))
    close = 4000 + np.cumsum(ticks) * 0.25
    open_ = close - np.asarray(draw(st.lists(st.integers(-2, 2), min_size=n, max_size=n))) * 0.25
    high = np.maximum(open_, close) + 0.25 * np.asarray(
        draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    low = np.minimum(open_, close) - 0.25 * np.asarray(
        draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    vol = np.asarray(draw(st.lists(st.integers(0, 50), min_size=n, max_size=n)))
    return make_frame(ts, open_, high, low, close, vol, symbols)


def reference(frame: pd.DataFrame, seconds: int) -> pd.DataFrame:
    """The slow, obvious definition: group rows by (symbol run, session run, bin).

    Runs, not values: rows outside any session (-1) on both sides of a session are two groups.
    """
    if frame.empty:
        return empty_frame()
    ts = frame["timestamp"].to_numpy()
    sid = pd.Series(rs.session_ids(ts))  # per row, through the module seam (tests patch it)
    keyed = frame.assign(
        run=(frame["symbol"].astype(str) != frame["symbol"].astype(str).shift()).cumsum(),
        sid=(sid != sid.shift()).cumsum().to_numpy(),
        bin=ts // (seconds * NS),
        sym=frame["symbol"].astype(str))
    agg = keyed.groupby(["run", "sid", "bin"], sort=False).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"), symbol=("sym", "last")).reset_index()
    return make_frame(agg["bin"].to_numpy() * seconds * NS, agg["open"], agg["high"], agg["low"],
                      agg["close"], agg["volume"], agg["symbol"].to_numpy())


def assert_same_bars(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(COLUMNS)
    assert len(got) == len(want)
    for c in COLUMNS[:-1]:
        np.testing.assert_array_equal(got[c].to_numpy(), want[c].to_numpy(), err_msg=c)
    assert got["symbol"].astype(str).tolist() == want["symbol"].astype(str).tolist()


SIZES = st.sampled_from([5, 15, 30, 60, 300, 900, 1800, 3600])


@settings(max_examples=40, deadline=None)
@given(frame=frames(), seconds=SIZES)
def test_equals_reference_on_the_cme_calendar(frame: pd.DataFrame, seconds: int) -> None:
    out = resample(frame, seconds)
    assert_same_bars(out, reference(frame, seconds))
    assert out["volume"].sum() == frame["volume"].sum()


@settings(max_examples=40, deadline=None)
@given(frame=frames(), seconds=SIZES, block=st.integers(200, 5000), dead=st.integers(0, 150))
def test_equals_reference_when_sessions_break_inside_bins(frame: pd.DataFrame, seconds: int,
                                                          block: int, dead: int) -> None:
    # Real CME breaks fall on whole hours or quarter hours; a fake calendar with breaks at odd
    # seconds drives the split path hard.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rs, "session_ids", fake_sessions(block, min(dead, block - 1)))
        out = resample(frame, seconds)
        want = reference(frame, seconds)
        # No output bar mixes sessions or contracts: map each input row to its output bar.
        sid = rs.session_ids(frame["timestamp"].to_numpy())
    assert_same_bars(out, want)
    assert out["volume"].sum() == frame["volume"].sum()
    bins = frame["timestamp"].to_numpy() // (seconds * NS)
    sym = frame["symbol"].astype(str).to_numpy()
    group_change = np.r_[True, (bins[1:] != bins[:-1]) | (sym[1:] != sym[:-1])
                         | (sid[1:] != sid[:-1])]
    assert group_change.sum() == len(out)


@settings(max_examples=40, deadline=None)
@given(frame=frames())
def test_1s_to_5s_to_1m_equals_1s_to_1m(frame: pd.DataFrame) -> None:
    direct = resample(frame, 60)
    via = resample(resample(frame, 5), 60, source_seconds=5)
    assert_same_bars(via, direct)


@settings(max_examples=30, deadline=None)
@given(frame=frames(), block5=st.integers(40, 1000))
def test_composition_holds_when_breaks_sit_on_the_intermediate_grid(frame: pd.DataFrame,
                                                                     block5: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rs, "session_ids", fake_sessions(5 * block5, 5))
        direct = resample(frame, 60)
        via = resample(resample(frame, 5), 60, source_seconds=5)
    assert_same_bars(via, direct)


def test_early_close_splits_an_hour_bin() -> None:
    # 2024-11-29 (day after Thanksgiving) closes 13:15 ET: a stray print at 13:20 is outside
    # the session and must not join the 13:00 bar.
    ts = np.array([et("2024-11-29 13:14:00"), et("2024-11-29 13:14:59"), et("2024-11-29 13:20:00")])
    assert session_ids(ts)[1] != session_ids(ts)[2]
    f = make_frame(ts, [1.0, 2, 3], [1.0, 2, 3], [1.0, 2, 3], [1.0, 2, 3], [1, 1, 1], "MES")
    out = resample(f, 3600)
    assert len(out) == 2 and out["volume"].tolist() == [2, 1]
    assert out["timestamp"].tolist() == [et("2024-11-29 13:00")] * 2


def test_mid_bin_roll_gives_two_bars_with_the_same_start() -> None:
    t0 = et("2024-03-12 10:00")
    ts = t0 + np.array([0, 10, 20, 30]) * NS
    f = make_frame(ts, [1.0, 2, 10, 11], [1.0, 2, 10, 11], [1.0, 2, 10, 11], [1.0, 2, 10, 11],
                   [1, 2, 3, 4], np.array(["MESH4", "MESH4", "MESM4", "MESM4"]))
    out = resample(f, 60)
    assert out["symbol"].astype(str).tolist() == ["MESH4", "MESM4"]
    assert out["timestamp"].tolist() == [t0, t0]
    assert out["high"].tolist() == [2.0, 11.0] and out["volume"].tolist() == [3, 7]


def test_bad_sizes_list_valid_choices() -> None:
    f = make_frame(np.array([0]), [1.0], [1.0], [1.0], [1.0], [1], "MES")
    with pytest.raises(ConfigError, match="cannot resample") as exc:
        resample(f, 7)
    assert "5, 10, 15" in str(exc.value)
    with pytest.raises(ConfigError):
        resample(f, 7200)
    with pytest.raises(ConfigError):
        resample(f, 30, source_seconds=60)
    with pytest.raises(ConfigError, match="unknown bar rule"):
        resample_to(f, "fortnight")
    assert [rule_seconds(r) for r in ("5s", "15s", "1m", "5m", "15m", "1h", "15min")] == \
        [5, 15, 60, 300, 900, 3600, 900]


def test_bad_input_is_a_data_error() -> None:
    f = make_frame(np.array([2, 1]) * NS, [1.0, 1], [1.0, 1], [1.0, 1], [1.0, 1], [1, 1], "MES")
    with pytest.raises(DataError, match="not sorted at row 1"):
        resample(f, 60)
    g = make_frame(np.array([0, 61]) * NS, [1.0, 1], [1.0, 1], [1.0, 1], [1.0, 1], [1, 1], "MES")
    with pytest.raises(DataError, match="not aligned"):
        resample(g, 300, source_seconds=60)
    with pytest.raises(DataError, match="lacks column"):
        resample(g.drop(columns=["volume"]), 60)
    assert resample(empty_frame(), 60).empty


def test_resample_to_infers_the_source_size_and_reports_progress() -> None:
    t0 = et("2024-03-12 10:00")
    f = make_frame(t0 + np.arange(0, 600, 60) * NS, np.ones(10), np.ones(10), np.ones(10),
                   np.ones(10), np.ones(10), "MES")
    seen: list[float] = []
    out = resample_to(f, "5m", progress=seen.append)
    assert len(out) == 2 and seen[-1] == 1.0
    with pytest.raises(ConfigError, match="look like 60-second bars"):
        resample_to(f, "15s")


def _read(path: Path) -> pd.DataFrame:
    t = pq.read_table(path)
    ts = t.column("ts").cast("int64").to_numpy()
    return make_frame(ts, *(t.column(c).to_numpy() for c in ("open", "high", "low", "close",
                                                               "volume")),
                      t.column("symbol").to_numpy(zero_copy_only=False))


def test_real_es_1s_bars_to_1m_and_mes_1m_to_1h(shared_data: Path) -> None:
    es = _read(shared_data / "es_1s_esm8_2018-05-07_from_ticks_rtrawl.parquet")
    out = resample_to(es, "1m")
    assert_same_bars(out, reference(es, 60))
    assert out["volume"].sum() == es["volume"].sum()
    assert len(out) == 210  # 08:30-12:00 CT, every minute traded
    mes = _read(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet")
    hourly = resample(mes, 3600, source_seconds=60)
    assert_same_bars(hourly, reference(mes, 3600))
    assert (session_ids(hourly["timestamp"].to_numpy()) >= 0).all()
