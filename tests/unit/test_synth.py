"""Synthetic MES 1-second bars: determinism, realism, the noise/planted contract, Parquet output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from core import calendar as cal
from core.datasets import synth
from core.datasets.schema import COLUMNS
from core.errors import DataError

S = 1_000_000_000


@pytest.fixture(scope="module")
def full3() -> pd.DataFrame:
    """Three full Globex sessions (includes the MLK holiday session of 2024-01-15)."""
    return synth.generate(3, seed=11, start="2024-01-12")


@pytest.fixture(scope="module")
def rth_noise() -> pd.DataFrame:
    return synth.generate(5, seed=3, rth_only=True, start="2024-02-05")


@pytest.fixture(scope="module")
def rth_planted() -> pd.DataFrame:
    return synth.generate(5, seed=3, rth_only=True, start="2024-02-05", planted=True)


def test_canonical_frame_tick_grid_and_ohlc(full3: pd.DataFrame) -> None:
    assert tuple(full3.columns) == COLUMNS
    assert full3["timestamp"].dtype == np.int64 and full3["volume"].dtype == np.int64
    assert isinstance(full3["symbol"].dtype, pd.CategoricalDtype)
    px = full3[["open", "high", "low", "close"]].to_numpy()
    assert np.array_equal(px * 4, np.round(px * 4))                  # 0.25 tick grid
    o, h, lo, c = px.T
    assert (lo <= np.minimum(o, c)).all() and (np.maximum(o, c) <= h).all()
    assert (full3["volume"] > 0).all()
    ts = full3["timestamp"].to_numpy()
    assert (np.diff(ts) > 0).all() and (ts % S == 0).all()
    assert cal.in_session_mask(ts).all()
    # Seconds without trades are absent; overnight is thinner than RTH.
    days = cal.trading_day_of(ts)
    assert set(np.unique(days)) == {
        (pd.Timestamp(d) - pd.Timestamp("1970-01-01")).days for d in ("2024-01-12", "2024-01-15", "2024-01-16")}
    rth = cal.rth_mask(ts)
    normal = days != (pd.Timestamp("2024-01-15") - pd.Timestamp("1970-01-01")).days
    rth_share_of_seconds = rth[normal].sum() / (2 * 23_400)
    eth_share_of_seconds = (~rth[normal]).sum() / (2 * (82_800 - 23_400))
    assert 0.8 < rth_share_of_seconds < 0.97
    assert 0.25 < eth_share_of_seconds < 0.55
    # MLK day (NYSE closed) has a Globex morning but no RTH rows.
    assert not rth[~normal].any() and (~normal).sum() > 1000


def test_deterministic_by_seed_and_prefix_stable() -> None:
    a = synth.generate(2, seed=5, rth_only=True)
    b = synth.generate(2, seed=5, rth_only=True)
    pd.testing.assert_frame_equal(a, b)
    c = synth.generate(2, seed=6, rth_only=True)
    assert not np.array_equal(a["close"].to_numpy()[:1000], c["close"].to_numpy()[:1000])
    longer = synth.generate(3, seed=5, rth_only=True)
    pd.testing.assert_frame_equal(longer.iloc[:len(a)].reset_index(drop=True), a,
                                  check_categorical=False)


def test_rth_only_and_u_shaped_volume(rth_noise: pd.DataFrame) -> None:
    ts = rth_noise["timestamp"].to_numpy()
    assert cal.rth_mask(ts).all()
    tab = cal.sessions("2024-02-05", "2024-02-09")
    u = ts - tab["rth_open_ns"].to_numpy()[np.searchsorted(tab["rth_open_ns"].to_numpy(), ts, "right") - 1]
    vol = rth_noise["volume"].to_numpy()
    edge = (u < 1800 * S) | (u >= (23_400 - 1800) * S)
    mid = (u >= 9000 * S) & (u < 16_200 * S)                        # 12:00-14:00 ET
    per_sec_edge = vol[edge].sum() / (5 * 3600)
    per_sec_mid = vol[mid].sum() / (5 * 7200)
    assert per_sec_edge > 1.5 * per_sec_mid
    # Volatility is U-shaped too.
    dc = np.abs(np.diff(rth_noise["close"].to_numpy(), prepend=np.nan))
    assert np.nanmean(dc[edge]) > 1.2 * np.nanmean(dc[mid])


def test_volatility_clusters(rth_noise: pd.DataFrame) -> None:
    mid = rth_noise  # de-seasonalise crudely: use 1-minute absolute returns inside one band
    ts, c = mid["timestamp"].to_numpy(), mid["close"].to_numpy()
    grid = np.arange(ts[0], ts[-1], 60 * S)
    p = c[np.searchsorted(ts, grid, "right") - 1]
    r = np.abs(np.diff(p))
    same_day = np.diff(cal.trading_day_of(grid)) == 0
    r = r[same_day[:len(r)]]
    ac = np.corrcoef(r[:-5], r[5:])[0, 1]                          # 5-minute lag
    assert ac > 0.1


def _past60_future30(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-overlapping samples every 30 s: past 60-s return, next 30-s return, trigger flag."""
    ts, c = frame["timestamp"].to_numpy(), frame["close"].to_numpy()
    v = frame["volume"].to_numpy().astype(float)
    cv = np.concatenate([[0.0], np.cumsum(v)])
    past, fut, trig = [], [], []
    for day in np.unique(cal.trading_day_of(ts)):
        m = np.flatnonzero(cal.trading_day_of(ts) == day)
        t = ts[m]
        grid = np.arange(t[0] + 1800 * S, t[-1] - 30 * S, 30 * S)
        def last(at: np.ndarray) -> np.ndarray:
            return m[np.searchsorted(t, at, "right") - 1]
        now, ago, ahead, slow = last(grid), last(grid - 60 * S), last(grid + 30 * S), last(grid - 1800 * S)
        r60 = (c[now] - c[ago]) / synth.TICK
        v60 = cv[now + 1] - cv[ago + 1]
        avg60 = (cv[now + 1] - cv[slow + 1]) / 30
        past.append(r60)
        fut.append((c[ahead] - c[now]) / synth.TICK)
        trig.append((np.abs(r60) >= 6) & (v60 > 2 * avg60))
    return np.concatenate(past), np.concatenate(fut), np.concatenate(trig)


def test_noise_is_unpredictable_and_planted_pattern_is_there(
        rth_noise: pd.DataFrame, rth_planted: pd.DataFrame) -> None:
    past, fut, trig = _past60_future30(rth_noise)
    assert abs(np.corrcoef(past, fut)[0, 1]) < 0.06              # ~3 SE at n ~ 3,000
    assert abs(np.mean(np.sign(past[trig]) * fut[trig])) < 1.5     # no continuation after bursts
    p_past, p_fut, p_trig = _past60_future30(rth_planted)
    follow = np.mean(np.sign(p_past[p_trig]) * p_fut[p_trig])
    assert follow > 2.0                                            # documented: ~+6 ticks
    assert np.corrcoef(p_past, p_fut)[0, 1] > np.corrcoef(past, fut)[0, 1] + 0.03
    # strength=0 is exactly the noise series.
    zero = synth.generate(5, seed=3, rth_only=True, start="2024-02-05", planted=True, strength=0.0)
    pd.testing.assert_frame_equal(zero, rth_noise)


def test_quarterly_roll_codes_and_carry_jump() -> None:
    # March 2024 expiry is Fri 15 Mar; roll day is Thu 7 Mar (8 days before).
    f = synth.generate(4, seed=2, start="2024-03-05")
    days = pd.to_datetime(cal.trading_day_of(f["timestamp"].to_numpy()), unit="D")
    by_day = pd.Series(f["symbol"].astype(str).to_numpy(), index=days).groupby(level=0).unique()
    assert [list(v) for v in by_day] == [["MESH4"], ["MESH4"], ["MESM4"], ["MESM4"]]
    old = f[f["symbol"] == "MESH4"]
    new = f[f["symbol"] == "MESM4"]
    jump = new["open"].iloc[0] - old["close"].iloc[-1]
    assert 0.002 * old["close"].iloc[-1] < jump < 0.015 * old["close"].iloc[-1]
    # Year boundary: December 2024 rolls into March 2025.
    g = synth.generate(2, seed=2, start="2024-12-11", rth_only=True)
    assert list(g["symbol"].astype(str).unique()) == ["MESZ4", "MESH5"]


def test_generate_rows_and_progress() -> None:
    calls: list[float] = []
    f = synth.generate_rows(30_000, seed=1, rth_only=True, progress=calls.append)
    assert len(f) == 30_000 and tuple(f.columns) == COLUMNS
    assert calls and all(c == 1 for c in calls)


def test_write_parquet_layout_and_atomicity(tmp_path: Path, rth_noise: pd.DataFrame) -> None:
    out = tmp_path / "sub" / "bars.parquet"
    synth.write_parquet(rth_noise, out)
    table = pq.read_table(out)
    schema = {f.name: str(f.type) for f in table.schema}
    assert schema == {"timestamp": "int64", "open": "double", "high": "double", "low": "double",
                      "close": "double", "volume": "int64", "symbol": "string"}
    back = table.to_pandas()
    assert np.array_equal(back["timestamp"].to_numpy(), rth_noise["timestamp"].to_numpy())
    assert np.array_equal(back["close"].to_numpy(), rth_noise["close"].to_numpy())
    assert list(back["symbol"].unique()) == ["MESH4"]
    assert [p.name for p in out.parent.iterdir()] == ["bars.parquet"]   # no temp file left
    with pytest.raises(DataError, match="lacks columns"):
        synth.write_parquet(rth_noise.drop(columns=["volume"]), tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


@pytest.mark.parametrize("kwargs", [dict(days=0), dict(days=1, strength=-1.0),
                                    dict(days=1, start_price=0.0)])
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(DataError):
        synth.generate(**kwargs)
    with pytest.raises(DataError):
        synth.generate_rows(0)
