"""Binance kline files exactly as published: no header, 12 columns, ms or µs open times, plain
or zipped, daily and monthly archives that overlap — fixtures written here in the real format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.datasets.catalog import Catalog
from core.datasets.readers import detect_format, merge_klines, read_bars
from core.datasets.validate import validate
from core.errors import DataError

MIN_MS = 60_000


def kline_lines(start: str, n: int, *, unit: str = "ms", skip: set[int] = frozenset(),
                price: float = 42_000.0, bump: float = 0.0) -> list[str]:
    """Rows as Binance writes them: 8-decimal numbers, close time = open + 1 min − 1 unit."""
    k = 1000 if unit == "us" else 1
    t0 = int(pd.Timestamp(start, tz="UTC").value // 1_000_000)
    rows = []
    for i in range(n):
        if i in skip:
            continue
        m = t0 // MIN_MS + i          # values depend on the minute, so overlapping files agree
        o = round(price + 10 * np.sin(m / 7) + bump, 2)     # on the 0.01 tick grid
        c = round(o + 3 * np.cos(m / 3), 2)
        h, lo = max(o, c) + 1.25, min(o, c) - 0.75
        vol = 1.5 + (m % 5) * 0.12345
        ot = (t0 + i * MIN_MS) * k
        ct = ot + MIN_MS * k - 1
        rows.append(f"{ot},{o:.8f},{h:.8f},{lo:.8f},{c:.8f},{vol:.8f},{ct},{vol * c:.8f},"
                    f"{100 + i},{vol / 2:.8f},{vol * c / 2:.8f},0")
    return rows


def write(path: Path, rows: list[str], *, zipped: bool, header: bool = False) -> Path:
    text = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore\n" if header else "")
    text += "\n".join(rows) + "\n"
    if zipped:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.with_suffix(".csv").name, text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("unit", ["ms", "us"])
@pytest.mark.parametrize("zipped", [True, False])
def test_reads_klines_as_published(tmp_path: Path, unit: str, zipped: bool) -> None:
    name = "BTCUSDT-1m-2024-01" + (".zip" if zipped else ".csv")
    f = write(tmp_path / name, kline_lines("2024-01-01", 600, unit=unit, skip={100, 101, 102}),
              zipped=zipped)
    assert detect_format(f) == "binance"
    [r] = read_bars(f)
    assert (r.root, r.format, r.bar_seconds, len(r.frame)) == ("BTCUSDT", "binance", 60, 597)
    assert r.frame["timestamp"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC").value
    assert r.frame["volume"].dtype == np.float64
    assert r.frame["volume"].iloc[1] % 1 != 0                      # fractional, not refused
    assert any(("microseconds" if unit == "us" else "milliseconds") in n for n in r.notes)
    rep = validate(r.frame, source=r.source, bar_seconds=60)
    assert rep.ok, rep.summary_lines()
    assert rep.gaps == 1 and rep.missing_bars == 3                   # the hole is reported
    assert [i.code for i in rep.issues] == ["gaps"]


def test_a_header_line_is_recognised_and_skipped(tmp_path: Path) -> None:
    f = write(tmp_path / "ETHUSDT-1m-2024-02-03.csv", kline_lines("2024-02-03", 50, price=2300),
              zipped=False, header=True)
    [r] = read_bars(f)
    assert r.root == "ETHUSDT" and len(r.frame) == 50
    assert any("header line" in n for n in r.notes)


def test_the_interval_in_the_name_must_match_the_close_times(tmp_path: Path) -> None:
    f = write(tmp_path / "BTCUSDT-5m-2024-01.csv", kline_lines("2024-01-01", 10), zipped=False)
    with pytest.raises(DataError, match="says 5m bars but the close times say 60 s"):
        read_bars(f)


def test_a_file_without_a_pair_in_its_name_needs_a_symbol(tmp_path: Path) -> None:
    f = write(tmp_path / "klines.csv", kline_lines("2024-01-01", 10), zipped=False)
    with pytest.raises(DataError, match="pass --symbol"):
        read_bars(f)
    [r] = read_bars(f, symbol="solusdt")
    assert r.root == "SOLUSDT"


def test_a_zip_without_one_csv_is_refused_with_its_members(tmp_path: Path) -> None:
    p = tmp_path / "BTCUSDT-1m-2024-01.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.csv", "\n".join(kline_lines("2024-01-01", 3)))
        zf.writestr("b.csv", "\n".join(kline_lines("2024-01-01", 3)))
    with pytest.raises(DataError, match="a.csv, b.csv"):
        read_bars(p, format="binance")


def test_daily_and_monthly_files_merge_with_a_report(tmp_path: Path) -> None:
    month = write(tmp_path / "BTCUSDT-1m-2024-01.zip", kline_lines("2024-01-01", 3 * 1440),
                  zipped=True)
    # The daily file of Jan 2 repeats 1,440 monthly rows (µs stamps, as newer archives have);
    # Jan 4 extends the month file; one repeated bar of Jan 2 differs (a republished minute).
    day2 = kline_lines("2024-01-02", 1440, unit="us")
    parts = day2[7].split(",")
    parts[4] = f"{float(parts[4]) + 0.5:.8f}"
    parts[2] = f"{max(float(parts[2]), float(parts[4])):.8f}"
    day2[7] = ",".join(parts)
    write(tmp_path / "BTCUSDT-1m-2024-01-02.zip", day2, zipped=True)
    write(tmp_path / "BTCUSDT-1m-2024-01-04.csv", kline_lines("2024-01-04", 1440), zipped=False)
    [r] = read_bars(tmp_path)
    assert len(r.frame) == 4 * 1440
    assert np.all(np.diff(r.frame["timestamp"].to_numpy()) == 60 * 10**9)
    note = r.notes[0]
    assert "merged 3 Binance files (1 monthly, 2 daily" in note
    assert "1,439 repeated row(s) in overlapping files were identical" in note
    assert "1 repeated row(s) DIFFER" in note and "2024-01-02 00:07 UTC" in note
    # the monthly file's values win
    [m] = read_bars(month)
    np.testing.assert_array_equal(r.frame["close"].to_numpy()[: len(m.frame)],
                                  m.frame["close"].to_numpy())
    assert validate(r.frame, source=r.source, bar_seconds=60).ok


def test_import_into_the_catalog_keeps_fractional_volume(tmp_path: Path) -> None:
    f = write(tmp_path / "SOLUSDT-1m-2024-03.zip", kline_lines("2024-03-01", 300, price=130),
              zipped=True)
    [r] = merge_klines(read_bars(f))
    cat = Catalog(tmp_path / "cat")
    rep = cat.append(r.frame, root=r.root, bar_seconds=r.bar_seconds, source=r.source)
    assert rep.rows_added == 300
    back = cat.load("SOLUSDT", 60)
    np.testing.assert_allclose(back["volume"].to_numpy(), r.frame["volume"].to_numpy())


def test_fractional_volume_in_a_headed_csv_is_accepted_for_crypto_only(tmp_path: Path) -> None:
    rows = "timestamp,open,high,low,close,volume\n2024-01-01 00:00:00+00:00,1,2,1,2,0.5\n" \
           "2024-01-01 00:01:00+00:00,2,2,1,1,1.25\n"
    (tmp_path / "x.csv").write_text(rows)
    [r] = read_bars(tmp_path / "x.csv", symbol="BTCUSDT")
    assert r.frame["volume"].tolist() == [0.5, 1.25]
    with pytest.raises(DataError, match="whole contracts"):
        read_bars(tmp_path / "x.csv", symbol="MES")
