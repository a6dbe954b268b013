"""Bar readers: every format, every layout, and every bad input gives one clear DataError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.datasets.readers import ReadResult, detect_format, read_bars
from core.datasets.schema import COLUMNS
from core.errors import DataError

NS = 1_000_000_000
# Monday 2024-01-08 14:30 UTC = 09:30 ET (EST, UTC-5)
T0 = pd.Timestamp("2024-01-08 14:30", tz="UTC").value


def _bars(n: int = 5, start: int = T0, step_s: int = 60, base: float = 4800.0) -> dict:
    close = base + np.arange(n) * 0.25
    return {
        "timestamp": start + np.arange(n, dtype=np.int64) * step_s * NS,
        "open": close - 0.25, "high": close + 0.5, "low": close - 0.5, "close": close,
        "volume": np.arange(1, n + 1, dtype=np.int64),
    }


def _write_parquet(path: Path, cols: dict, symbol: str | list[str] = "MESH4",
                   row_group_size: int | None = None) -> Path:
    n = len(cols["timestamp"])
    sym = [symbol] * n if isinstance(symbol, str) else symbol
    pq.write_table(pa.table({**cols, "symbol": sym}), path, row_group_size=row_group_size)
    return path


def _check_canonical(r: ReadResult) -> None:
    f = r.frame
    for col in ("timestamp", "open", "high", "low", "close", "volume"):
        f.loc[0, col] = f[col].iloc[0]  # later in-place edits must work (no read-only arrays)
    assert tuple(f.columns) == COLUMNS
    assert f["timestamp"].dtype == np.int64 and f["volume"].dtype == np.int64
    assert all(f[c].dtype == np.float64 for c in ("open", "high", "low", "close"))
    assert isinstance(f["symbol"].dtype, pd.CategoricalDtype)


# ----------------------------------------------------------------------------- parquet
def test_parquet_users_layout_round_trips(tmp_path: Path) -> None:
    cols = _bars(7, step_s=1)
    path = _write_parquet(tmp_path / "mes.parquet", cols, row_group_size=3)
    [r] = read_bars(path)
    _check_canonical(r)
    assert (r.format, r.root, r.bar_seconds, r.row_offset) == ("parquet", "MES", 1, 0)
    np.testing.assert_array_equal(r.frame["timestamp"].to_numpy(), cols["timestamp"])
    np.testing.assert_array_equal(r.frame["close"].to_numpy(), cols["close"])
    assert list(r.frame["symbol"].cat.categories) == ["MESH4"]


def test_parquet_dev_layout_with_tz_aware_ts(tmp_path: Path) -> None:
    cols = _bars()
    ts = pa.array(cols.pop("timestamp"), type=pa.timestamp("ns", tz="UTC"))
    pq.write_table(pa.table({"ts": ts, **cols, "symbol": ["ES"] * 5}), tmp_path / "es.parquet")
    [r] = read_bars(tmp_path / "es.parquet")
    assert r.root == "ES" and r.bar_seconds == 60
    assert r.frame["timestamp"].iloc[0] == T0


def test_parquet_naive_timestamps_need_a_zone(tmp_path: Path) -> None:
    cols = _bars()
    naive = pd.to_datetime(cols.pop("timestamp")).tz_localize(None)  # wall clock 14:30
    pq.write_table(pa.table({"ts": pa.array(naive, type=pa.timestamp("ns")), **cols,
                             "symbol": ["MES"] * 5}), tmp_path / "n.parquet")
    with pytest.raises(DataError, match="no time zone"):
        read_bars(tmp_path / "n.parquet")
    [r] = read_bars(tmp_path / "n.parquet", tz="America/New_York")
    # 14:30 New York (EST) is 19:30 UTC
    assert r.frame["timestamp"].iloc[0] == T0 + 5 * 3600 * NS


def test_parquet_naive_wrong_zone_detected(tmp_path: Path) -> None:
    idx = pd.date_range("2024-01-07 18:00", "2024-01-12 16:59", freq="7min", tz="America/New_York")
    idx = idx[idx.hour != 17]
    n = len(idx)
    wall_utc = idx.tz_convert("UTC").tz_localize(None)  # UTC wall clock, no zone stored
    pq.write_table(pa.table({"ts": pa.array(wall_utc, type=pa.timestamp("ns")),
                             "open": [4800.0] * n, "high": [4800.5] * n, "low": [4799.5] * n,
                             "close": [4800.0] * n, "volume": [1] * n, "symbol": ["MESH4"] * n}),
                   tmp_path / "n.parquet")
    with pytest.raises(DataError, match="--tz UTC"):
        read_bars(tmp_path / "n.parquet", tz="America/New_York")
    [r] = read_bars(tmp_path / "n.parquet", tz="UTC")
    assert r.frame["timestamp"].iloc[0] == idx[0].value


def test_parquet_does_not_sort(tmp_path: Path) -> None:
    cols = _bars()
    order = [0, 2, 1, 3, 4]
    path = _write_parquet(tmp_path / "u.parquet", {k: v[order] for k, v in cols.items()})
    [r] = read_bars(path)
    np.testing.assert_array_equal(r.frame["timestamp"].to_numpy(), cols["timestamp"][order])


def test_parquet_several_roots_split(tmp_path: Path) -> None:
    cols = {k: np.concatenate([v, v]) for k, v in _bars().items()}
    path = _write_parquet(tmp_path / "two.parquet", cols, ["ESH4"] * 5 + ["NQH4"] * 5)
    rs = read_bars(path)
    assert [r.root for r in rs] == ["ES", "NQ"]
    assert all(len(r.frame) == 5 for r in rs)
    assert list(rs[1].frame["symbol"].cat.categories) == ["NQH4"]
    assert any("2 roots" in n for n in rs[0].notes)


def test_parquet_missing_column(tmp_path: Path) -> None:
    cols = _bars()
    del cols["low"]
    path = _write_parquet(tmp_path / "m.parquet", cols)
    with pytest.raises(DataError, match="missing column.*low"):
        read_bars(path)


def test_parquet_column_mapping(tmp_path: Path) -> None:
    cols = _bars()
    cols["Last"] = cols.pop("close")
    path = _write_parquet(tmp_path / "m.parquet", cols)
    [r] = read_bars(path, columns={"close": "Last"})
    assert r.frame["close"].iloc[-1] == 4801.0


def test_parquet_truncated_and_empty(tmp_path: Path) -> None:
    good = _write_parquet(tmp_path / "g.parquet", _bars(100))
    data = good.read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"not a valid Parquet file \(truncated\?\)") as e:
        read_bars(tmp_path / "t.parquet")
    assert "t.parquet" in str(e.value)
    (tmp_path / "z.parquet").write_bytes(b"")
    with pytest.raises(DataError, match="not a valid Parquet"):
        read_bars(tmp_path / "z.parquet")


def test_parquet_ticks_become_one_second_bars(tmp_path: Path) -> None:
    ts = T0 + np.array([0, 100, 200_000_000, 1_000_000_000, 1_500_000_000, 3_000_000_000])
    price = [4800.0, 4800.5, 4799.75, 4801.0, 4800.25, 4802.0]
    pq.write_table(pa.table({"ts": pa.array(ts, pa.timestamp("ns", tz="UTC")), "price": price,
                             "symbol": ["ESM8"] * 6}), tmp_path / "ticks.parquet")
    [r] = read_bars(tmp_path / "ticks.parquet")
    assert r.bar_seconds == 1 and r.root == "ES"
    f = r.frame
    np.testing.assert_array_equal(f["timestamp"], T0 + np.array([0, 1, 3]) * NS)
    np.testing.assert_array_equal(f["open"], [4800.0, 4801.0, 4802.0])
    np.testing.assert_array_equal(f["high"], [4800.5, 4801.0, 4802.0])
    np.testing.assert_array_equal(f["low"], [4799.75, 4800.25, 4802.0])
    np.testing.assert_array_equal(f["close"], [4799.75, 4800.25, 4802.0])
    np.testing.assert_array_equal(f["volume"], [3, 2, 1])  # trade counts: no sizes
    assert any("number of trades" in n for n in r.notes)


def test_nonexistent_path() -> None:
    with pytest.raises(DataError, match="no/such/file.parquet"):
        read_bars("no/such/file.parquet")


# ----------------------------------------------------------------------------- csv
def _csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_frd_layout_eastern_to_utc(tmp_path: Path) -> None:
    p = _csv(tmp_path / "MES_1min.csv", [
        "timestamp,open,high,low,close,volume",
        "2024-01-08 09:30:00,4800.25,4801,4800,4800.5,120",
        "2024-01-08 09:31:00,4800.5,4801.25,4800.25,4801,80",
    ])
    [r] = read_bars(p)
    _check_canonical(r)
    assert (r.format, r.root, r.bar_seconds) == ("csv", "MES", 60)
    assert r.frame["timestamp"].iloc[0] == T0  # 09:30 EST = 14:30 UTC
    assert any("file name" in n for n in r.notes)
    assert any("line = data row + 1" in n for n in r.notes)


def test_csv_date_time_columns_no_header_semicolon(tmp_path: Path) -> None:
    p = _csv(tmp_path / "bars.txt", [
        "20240108;93000;4800.25;4801;4800;4800.5;120",  # hhmmss lost its leading zero
        "20240108;93100;4800.5;4801.25;4800.25;4801;80",
    ])
    [r] = read_bars(p, symbol="MESH4")
    assert r.frame["timestamp"].iloc[0] == T0
    assert list(r.frame["symbol"].cat.categories) == ["MESH4"]


def test_csv_decimal_comma(tmp_path: Path) -> None:
    p = _csv(tmp_path / "MES_eu.csv", ["Date;Time;Open;High;Low;Close;Volume",
                                       "08.01.2024;09:30:00;4800,25;4801;4800;4800,5;120"])
    [r] = read_bars(p)
    assert r.frame["open"].iloc[0] == 4800.25 and r.frame["timestamp"].iloc[0] == T0


def test_csv_date_time_with_colons_tab_delimited(tmp_path: Path) -> None:
    p = _csv(tmp_path / "ES.tsv", [
        "Date\tTime\tOpen\tHigh\tLow\tClose\tVolume",
        "20240108\t09:30:00\t4800.25\t4801\t4800\t4800.5\t120",
    ])
    [r] = read_bars(p, format="csv")
    assert r.root == "ES" and r.frame["timestamp"].iloc[0] == T0


def test_csv_compact_and_epoch_stamps(tmp_path: Path) -> None:
    p = _csv(tmp_path / "MES_a.csv", ["timestamp,open,high,low,close,volume",
                                      "20240108093000,4800.25,4801,4800,4800.5,120"])
    assert read_bars(p)[0].frame["timestamp"].iloc[0] == T0
    p = _csv(tmp_path / "MES_b.csv", ["timestamp,open,high,low,close,volume",
                                      f"{T0 // 1_000_000},4800.25,4801,4800,4800.5,120"])
    [r] = read_bars(p)
    assert r.frame["timestamp"].iloc[0] == T0  # epoch milliseconds, UTC by definition


def test_csv_column_mapping_and_tz_override(tmp_path: Path) -> None:
    p = _csv(tmp_path / "x.csv", [
        "Gmt time,O,H,L,C,Qty,Sym",
        "08.01.2024 14:30:00,4800.25,4801,4800,4800.5,120,MESH4",
    ])
    [r] = read_bars(p, tz="UTC", columns={"volume": "Qty", "symbol": "Sym"})
    assert r.frame["timestamp"].iloc[0] == T0 and r.root == "MES"


def test_csv_offset_stamps_ignore_tz(tmp_path: Path) -> None:
    p = _csv(tmp_path / "mes.csv", [
        "timestamp,open,high,low,close,volume",
        "2024-01-08T09:30:00-05:00,4800.25,4801,4800,4800.5,120",
    ])
    [r] = read_bars(p)
    assert r.frame["timestamp"].iloc[0] == T0


def test_csv_spring_forward_gap_is_reported(tmp_path: Path) -> None:
    p = _csv(tmp_path / "btc.csv", [
        "timestamp,open,high,low,close,volume,symbol",
        "2024-03-10 01:59:00,1,1,1,1,1,BTCUSDT",
        "2024-03-10 02:30:00,1,1,1,1,1,BTCUSDT",
    ])
    with pytest.raises(DataError, match=r"do not exist in America/New_York.*line 3"):
        read_bars(p)


def test_csv_fall_back_hour_inferred_from_order(tmp_path: Path) -> None:
    rows = ["timestamp,open,high,low,close,volume,symbol"]
    stamps = ["00:59", "01:00", "01:30", "01:59", "01:00", "01:30", "01:59", "02:00"]
    rows += [f"2024-11-03 {s}:00,1,1,1,1,1,BTCUSDT" for s in stamps]
    [r] = read_bars(_csv(tmp_path / "btc.csv", rows))
    ts = r.frame["timestamp"].to_numpy()
    assert (np.diff(ts) > 0).all()
    # first 01:00 is EDT (05:00 UTC), second 01:00 is EST (06:00 UTC)
    assert ts[1] == pd.Timestamp("2024-11-03 05:00", tz="UTC").value
    assert ts[4] == pd.Timestamp("2024-11-03 06:00", tz="UTC").value
    assert any("ambiguous" in n for n in r.notes)


def test_csv_fall_back_hour_seen_once_is_reported(tmp_path: Path) -> None:
    rows = ["timestamp,open,high,low,close,volume,symbol",
            "2024-11-03 00:59:00,1,1,1,1,1,BTCUSDT",
            "2024-11-03 01:30:00,1,1,1,1,1,BTCUSDT"]
    with pytest.raises(DataError, match="ambiguous.*line 3"):
        read_bars(_csv(tmp_path / "btc.csv", rows))


def _session_csv(path: Path, wall_zone: str) -> Path:
    """One week of MES minutes in Globex hours, written as wall-clock times of `wall_zone`."""
    idx = pd.date_range("2024-01-07 18:00", "2024-01-12 16:59", freq="1min",
                        tz="America/New_York")
    idx = idx[(idx.hour != 17)][::7]
    wall = idx.tz_convert(wall_zone).tz_localize(None).strftime("%Y-%m-%d %H:%M:%S")
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{w},4800,4800.5,4799.75,4800.25,3" for w in wall]
    return _csv(path, lines)


def test_csv_wrong_zone_guess_is_detected(tmp_path: Path) -> None:
    p = _session_csv(tmp_path / "MES_utc.csv", "UTC")
    with pytest.raises(DataError, match="look like they are not in America/New_York") as e:
        read_bars(p)
    assert "--tz UTC" in str(e.value)
    [r] = read_bars(p, tz="UTC")
    assert len(r.frame) > 100
    p = _session_csv(tmp_path / "MES_ct.csv", "America/Chicago")
    with pytest.raises(DataError, match="--tz America/Chicago"):
        read_bars(p)
    [r] = read_bars(_session_csv(tmp_path / "MES_et.csv", "America/New_York"))
    assert r.root == "MES"


@pytest.mark.parametrize("content,match", [
    ("", "empty file"),
    ("timestamp,open,high,low,close,volume\n", "header but no data rows"),
    ("timestamp,open,high,close,volume\n2024-01-08 09:30:00,1,1,1,1\n", "missing column.*low"),
    ("timestamp,open,high,low,close,volume\n2024-01-08 09:30:00,1,1,1,1,1\n"
     "2024-01-08 09:31:00,1,x,1,1,1\n", "cannot parse"),
    ("timestamp,open,high,low,close,volume\nyesterday,1,1,1,1,1\n", "cannot read time stamps"),
    ("timestamp,open,high,low,close,volume\n2024-01-08 09:30:00,1,1,1,1,1.5\n",
     "whole number.*line 2"),
])
def test_csv_bad_inputs(tmp_path: Path, content: str, match: str) -> None:
    p = tmp_path / "MES_bad.csv"
    p.write_text(content)
    with pytest.raises(DataError, match=match) as e:
        read_bars(p)
    assert "MES_bad.csv" in str(e.value)


def test_csv_gzip(tmp_path: Path) -> None:
    import gzip

    with gzip.open(tmp_path / "MES_1m.csv.gz", "wt") as fh:
        fh.write("timestamp,open,high,low,close,volume\n"
                 "2024-01-08 09:30:00,4800.25,4801,4800,4800.5,120\n")
    assert detect_format(tmp_path / "MES_1m.csv.gz") == "csv"
    [r] = read_bars(tmp_path / "MES_1m.csv.gz")
    assert r.frame["timestamp"].iloc[0] == T0 and r.frame["volume"].iloc[0] == 120


def test_csv_without_symbol_anywhere(tmp_path: Path) -> None:
    p = _csv(tmp_path / "bars.csv", ["timestamp,open,high,low,close,volume",
                                     "2024-01-08 09:30:00,1,1,1,1,1"])
    with pytest.raises(DataError, match="no symbol"):
        read_bars(p)


# ----------------------------------------------------------------------------- topstepx
def _tsx_bar(t: str, c: float) -> dict:
    return {"t": t, "o": c, "h": c + 0.5, "l": c - 0.25, "c": c, "v": 10}


def test_topstepx_envelope_newest_first_resorted(tmp_path: Path) -> None:
    doc = {"bars": [_tsx_bar("2024-01-08T14:32:00.1234567+00:00", 4801.0),
                    _tsx_bar("2024-01-08T14:31:00+00:00", 4800.5),
                    _tsx_bar("2024-01-08T14:30:00+00:00", 4800.0)],
           "success": True, "errorCode": 0, "errorMessage": None}
    p = tmp_path / "CON.F.US.MES.H24.json"
    p.write_text(json.dumps(doc))
    assert detect_format(p) == "topstepx"
    [r] = read_bars(p)
    assert r.format == "topstepx" and r.root == "MES"
    assert list(r.frame["symbol"].cat.categories) == ["MESH24"]
    assert r.frame["timestamp"].iloc[0] == T0
    assert r.frame["timestamp"].iloc[2] == T0 + 120 * NS + 123_456_700
    assert any("newest first" in n for n in r.notes)


def test_topstepx_bare_list_and_failures(tmp_path: Path) -> None:
    p = tmp_path / "bars.json"
    p.write_text(json.dumps([_tsx_bar("2024-01-08T14:30:00Z", 4800.0),
                             _tsx_bar("2024-01-08T14:31:00Z", 4800.25)]))
    [r] = read_bars(p, symbol="MESH4")
    assert r.bar_seconds == 60 and r.frame["timestamp"].iloc[0] == T0
    with pytest.raises(DataError, match="no symbol"):
        read_bars(p)
    p.write_text(json.dumps({"bars": None, "success": False, "errorCode": 1,
                             "errorMessage": "not found"}))
    with pytest.raises(DataError, match="errorCode 1"):
        read_bars(p, format="topstepx", symbol="MES")


# ----------------------------------------------------------------------------- dirs & detection
def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(_write_parquet(tmp_path / "a.bin", _bars())) == "parquet"
    assert detect_format(_csv(tmp_path / "a.csv", ["x"])) == "csv"
    (tmp_path / "notes.md").write_text("# hello")
    with pytest.raises(DataError, match="not a supported bar file"):
        detect_format(tmp_path / "notes.md")


def test_directory_of_mixed_files(tmp_path: Path) -> None:
    _write_parquet(tmp_path / "b_mes.parquet", _bars())
    _csv(tmp_path / "a_MES.csv", ["timestamp,open,high,low,close,volume",
                                  "2024-01-08 09:30:00,4800.25,4801,4800,4800.5,120"])
    (tmp_path / "README.md").write_text("notes")
    rs = read_bars(tmp_path)
    assert [Path(r.source).name for r in rs] == ["a_MES.csv", "b_mes.parquet"]
    assert all(any("README.md" in n for n in r.notes) for r in rs)
    (tmp_path / "c_bad.csv").write_text("timestamp,open\n")
    (tmp_path / "d_bad.parquet").write_bytes(b"PAR1 broken")
    with pytest.raises(DataError, match="2 of 5 file") as e:
        read_bars(tmp_path)
    assert "c_bad.csv" in str(e.value) and "d_bad.parquet" in str(e.value)


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("notes")
    with pytest.raises(DataError, match="no bar files"):
        read_bars(tmp_path)


def test_progress_is_reported(tmp_path: Path) -> None:
    path = _write_parquet(tmp_path / "mes.parquet", _bars(10), row_group_size=2)
    seen: list[float] = []
    read_bars(path, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


# ----------------------------------------------------------------------------- DST property
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.datasets.readers.timezones import localize  # noqa: E402

_FALL_BACK = pd.Timestamp("2023-11-05 05:00", tz="UTC").value  # 01:00 EDT, clocks go back


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-180, 180), min_size=1, max_size=40),
       st.sampled_from(["America/New_York", "America/Chicago"]))
def test_localize_is_exact_or_refuses(minutes: list[int], zone: str) -> None:
    """Sorted UTC instants around a fall-back night, written as wall clock, come back exactly
    — or the import refuses (never a silent one-hour shift)."""
    utc = np.unique(_FALL_BACK + np.asarray(minutes, dtype=np.int64) * 60 * NS)
    wall = pd.DatetimeIndex(utc.view("datetime64[ns]"), tz="UTC").tz_convert(zone) \
        .tz_localize(None).asi8
    try:
        back = localize(wall, zone, source="x.csv", notes=[])
    except DataError as exc:
        assert "ambiguous" in str(exc)
        return
    np.testing.assert_array_equal(back, utc)
