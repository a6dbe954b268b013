"""Every real file in ../shared/data imports and validates as its README says.

Parquet bar files: no errors; gaps and rolls reported as documented. DBN fixtures: each one
either yields bars or fails with the documented clear DataError (non-bar schema, no records).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.datasets.readers import read_bars
from core.datasets.validate import validate
from core.errors import DataError
from tests.conftest import SHARED_DATA

BAR_FILES = sorted(p.name for p in SHARED_DATA.glob("*.parquet") if "ticks" not in p.name) \
    if SHARED_DATA.is_dir() else []
DBN_FILES = sorted(str(p.relative_to(SHARED_DATA / "dbn")) for p in
                   (SHARED_DATA / "dbn").glob("*/*.dbn*")) if SHARED_DATA.is_dir() else []
BAR_SCHEMAS = ("ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d", "trades")


def _codes(rep, severity: str) -> set[str]:
    return {i.code for i in rep.issues if i.severity == severity}


@pytest.mark.parametrize("name", BAR_FILES)
def test_parquet_bar_file_imports_and_validates(shared_data: Path, name: str) -> None:
    [r] = read_bars(shared_data / name)
    assert r.format == "parquet" and len(r.frame) > 1000
    frame = r.frame
    frame.loc[0, "open"] = frame["open"].iloc[0]  # frames never sit on read-only buffers
    assert r.bar_seconds == (1 if "_1s_" in name else 60)
    assert r.root == name.split("_")[0].upper()
    rep = validate(r.frame, source=name, bar_seconds=r.bar_seconds, row_offset=r.row_offset)
    assert rep.ok, rep.summary_lines()
    assert rep.rows == len(r.frame)


def test_mes_roll_jump_reported(shared_data: Path) -> None:
    [r] = read_bars(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet")
    rep = validate(r.frame, source="mes", bar_seconds=60)
    [jump] = [i for i in rep.issues if i.code == "open-jump"]
    assert "2023-12-10 18:00:00 ET +1.15%" in jump.message
    # README: 15 short gaps, 16 missing minutes
    assert (rep.gaps, rep.missing_bars) == (15, 16)


def test_lean_es_session_layout(shared_data: Path) -> None:
    [r] = read_bars(shared_data / "es_1m_lean_2013-10-06_2013-10-14.parquet")
    assert list(r.frame["symbol"].cat.categories) == ["ESZ3"]
    rep = validate(r.frame, source="lean", bar_seconds=60)
    warn = _codes(rep, "warning")
    # The 2013 schedule (15:15-15:30 CT halt, trading until 16:15 CT) differs from today's:
    # bars after 17:00 ET fall outside the current calendar and the halt shows as gaps.
    assert {"outside-session", "gaps", "open-jump"} <= warn
    assert rep.gaps > 50
    jump = [i for i in rep.issues if i.code == "open-jump"][0]
    assert "-0.71%" in jump.message  # the missing Sunday session


def test_spy_1s_gap_count_matches_readme(shared_data: Path) -> None:
    [r] = read_bars(shared_data / "spy_1s_lean_2013-10-07_2013-10-11.parquet")
    rep = validate(r.frame, source="spy1s", bar_seconds=1)
    assert rep.ok and rep.gaps == 26_975


def test_tick_file_aggregates_to_the_readme_one_second_bars(shared_data: Path) -> None:
    """README: the 1 s file was built from the ticks (first/max/min/last, volume = count)."""
    [t] = read_bars(shared_data / "es_ticks_esm8_2018-05-07_rtrawl.parquet")
    [b] = read_bars(shared_data / "es_1s_esm8_2018-05-07_from_ticks_rtrawl.parquet")
    assert any("74,907 trade ticks" in n and "number of trades" in n for n in t.notes)
    pd.testing.assert_frame_equal(t.frame, b.frame)


def test_truncated_real_parquet(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) - 100])
    with pytest.raises(DataError, match=r"cut.parquet: not a valid Parquet file \(truncated\?\)"):
        read_bars(tmp_path / "cut.parquet")


def test_real_bars_round_trip_through_eastern_csv(shared_data: Path, tmp_path: Path) -> None:
    """The FRD text layout (naive ET, date + hhmmss columns) gives back the same UTC bars."""
    src = pd.read_parquet(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet")
    et = src["ts"].dt.tz_convert("America/New_York").dt.tz_localize(None)
    out = pd.DataFrame({"date": et.dt.strftime("%Y%m%d"),
                        "time": et.dt.strftime("%H%M%S").astype(int),
                        **{c: src[c] for c in ("open", "high", "low", "close", "volume")}})
    out.to_csv(tmp_path / "MES_1min_sample.csv", index=False)
    [r] = read_bars(tmp_path / "MES_1min_sample.csv")
    np.testing.assert_array_equal(r.frame["timestamp"].to_numpy(),
                                  src["ts"].astype("int64").to_numpy())
    np.testing.assert_array_equal(r.frame["close"].to_numpy(), src["close"].to_numpy())
    assert validate(r.frame, source="csv", bar_seconds=60).ok


def _schema(rel: str) -> str:
    name = Path(rel).name.lower()
    for s in ("ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d", "trades", "mbp-10", "mbp-1",
              "mbo", "tbbo", "bbo-1s", "bbo-1m", "cbbo-1s", "cmbp-1", "status", "statistics",
              "definition"):
        if re.search(rf"(^|[._-]){re.escape(s)}[._-]", name):
            return s
    return "mixed"


@pytest.mark.parametrize("rel", DBN_FILES)
def test_every_dbn_fixture_imports_or_fails_clearly(shared_data: Path, rel: str) -> None:
    path = shared_data / "dbn" / rel
    schema = _schema(rel)
    empty_daily = rel.startswith("dbn/") and schema == "ohlcv-1d"
    if schema == "mixed" or (schema in BAR_SCHEMAS and not empty_daily):
        results = read_bars(path)
        assert results
        for r in results:
            assert r.format == "dbn" and r.root in ("ES", "NQ") and len(r.frame) >= 1
            frame = r.frame
            frame.loc[0, "volume"] = frame["volume"].iloc[0]  # frames own writeable arrays
            assert (np.diff(r.frame["timestamp"].to_numpy()) >= 0).all()
            rep = validate(r.frame, source=rel, bar_seconds=r.bar_seconds, check_gaps=False)
            scaled = rel.startswith("dbn/") and schema.startswith("ohlcv")
            if scaled:  # README quirk: prices 100x too large, reported, never fixed
                assert any("100x too large" in n for n in r.notes)
                assert "implausible-price" in _codes(rep, "error")
                assert r.frame["open"].iloc[0] > 100_000
            else:
                assert rep.ok, rep.summary_lines()
                assert 3_000 < r.frame["close"].median() < 30_000
        if schema == "trades":
            assert results[0].bar_seconds == 1
            assert any("1-second bars" in n for n in results[0].notes)
    elif empty_daily:
        with pytest.raises(DataError, match="no records"):
            read_bars(path)
    else:
        with pytest.raises(DataError, match=f"schema {schema} holds no bars; supported: "):
            read_bars(path)


def test_dbn_live_stream_reports_sentinel(shared_data: Path) -> None:
    rs = read_bars(shared_data / "dbn/databento-python/LIVE__test_data.live.dbn.zst")
    assert sorted(r.bar_seconds for r in rs) == [1, 60]
    for r in rs:
        assert list(r.frame["symbol"].cat.categories) == ["ESZ4"]
        assert any("undefined-price sentinel" in n for n in r.notes)
        assert not r.frame[["open", "high", "low", "close"]].isna().any().any()


def test_dbn_versions_decode_identically(shared_data: Path) -> None:
    d = shared_data / "dbn" / "dbn"
    for schema in ("ohlcv-1m", "ohlcv-1s", "trades"):
        frames = [read_bars(d / f"test_data.{schema}.{v}.dbn.zst")[0].frame
                  for v in ("v1", "v2", "v3")]
        frames.append(read_bars(d / f"test_data.{schema}.dbn")[0].frame)
        for f in frames[1:]:
            pd.testing.assert_frame_equal(frames[0], f)


def test_dbn_real_prices_and_two_roots(shared_data: Path) -> None:
    [r] = read_bars(shared_data / "dbn/databento-python/test_data.ohlcv-1m.dbn.zst")
    assert r.frame["open"].iloc[0] == 3702.75 and r.frame["symbol"].iloc[0] == "ESH1"
    assert r.frame["timestamp"].iloc[0] == pd.Timestamp("2020-12-28", tz="UTC").value
    name = ("nautilus_trader/historical_bars_catalog__futures_ohlcv-1m_"
            "2024-07-01T23-40_2024-07-02T00-10.dbn.zst")
    rs = read_bars(shared_data / "dbn" / name)
    assert [(r.root, len(r.frame)) for r in rs] == [("ES", 30), ("NQ", 30)]
    assert [list(r.frame["symbol"].cat.categories) for r in rs] == [["ESU4"], ["NQU4"]]


def test_dbn_truncated(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "dbn/dbn/test_data.ohlcv-1m.dbn").read_bytes()
    (tmp_path / "cut.dbn").write_bytes(data[:-10])
    with pytest.raises(DataError, match="cut.dbn"):
        read_bars(tmp_path / "cut.dbn")


def test_dbn_sentinel_inside_bars_is_nulled_reported_and_rejected(shared_data: Path,
                                                                   tmp_path: Path) -> None:
    """A bar whose price is the int64-max sentinel becomes null, a note, and a validation error."""
    import pyarrow as pa

    src = shared_data / "dbn/databento-python/test_data.ohlcv-1m.dbn.zst"
    with pa.CompressedInputStream(pa.OSFile(str(src)), "zstd") as s:
        data = bytearray(s.read())
    body = 8 + int.from_bytes(data[4:8], "little")
    rec = data[body] * 4
    # second record's `high` field (offset 24 in an OHLCV record)
    at = body + rec + 24
    data[at:at + 8] = (2**63 - 1).to_bytes(8, "little", signed=True)
    (tmp_path / "sentinel.dbn").write_bytes(bytes(data))
    [r] = read_bars(tmp_path / "sentinel.dbn")
    assert np.isnan(r.frame["high"].iloc[1]) and not np.isnan(r.frame["high"].iloc[0])
    assert any("undefined-price sentinel" in n for n in r.notes)
    rep = validate(r.frame, source="sentinel.dbn", bar_seconds=60, check_gaps=False)
    [err] = [i for i in rep.issues if i.code == "null-price"]
    assert err.row == 2 and err.count == 1
