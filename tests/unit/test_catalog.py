"""The Parquet catalog: incremental appends, conflicts, gaps, range loads, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.datasets import _catalog_files
from core.datasets.catalog import Catalog, bar_label, default_root, parse_bar_label
from core.datasets.schema import COLUMNS, NS_PER_SECOND, make_frame
from core.errors import ConfigError, DataError

NS = NS_PER_SECOND


def et(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


def minutes(start_et: str, count: int, symbol: str = "MESH4", price: float = 5000.0,
            step_s: int = 60) -> pd.DataFrame:
    ts = et(start_et) + np.arange(count, dtype=np.int64) * step_s * NS
    k = ts // (60 * NS)  # values depend on the time, so overlapping windows agree
    p = price + 0.25 * (k % 7)
    return make_frame(ts, p, p + 0.5, p - 0.25, p + 0.25, k % 5 + 1, symbol)


def files_under(root: Path) -> list[str]:
    """Every file but the catalog's write lock (it stays, empty, between writes)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.name != ".write.lock")


def assert_frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if c == "symbol":
            assert a[c].astype(str).tolist() == b[c].astype(str).tolist()
        else:
            np.testing.assert_array_equal(a[c].to_numpy(), b[c].to_numpy(), err_msg=c)


def test_layout_roundtrip_and_entries(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    # Wednesday 2024-01-31 18:00 ET (23:00 UTC) → Thursday: crosses the UTC month end.
    f = minutes("2024-01-31 18:00", 400)
    rep = cat.append(f, root="mes", bar_seconds=60, source="unit")
    assert (rep.rows_in, rep.rows_added, rep.duplicates_skipped, len(rep.conflicts)) == \
        (400, 400, 0, 0)
    assert rep.months_written == ("2024-01", "2024-02") and rep.partitions_written == 2
    assert files_under(tmp_path) == ["1m/MES/year=2024/month=01/part.parquet",
                                     "1m/MES/year=2024/month=02/part.parquet"]
    schema = pq.read_schema(tmp_path / "1m/MES/year=2024/month=02/part.parquet")
    assert str(schema.field("timestamp").type) == "int64"
    assert str(schema.field("symbol").type).startswith("dictionary")
    assert pq.read_metadata(tmp_path / "1m/MES/year=2024/month=02/part.parquet") \
        .row_group(0).column(0).compression == "ZSTD"
    assert_frames_equal(cat.load("MES", 60), f)
    (e,) = cat.entries()
    assert (e.root, e.bar, e.rows, e.partitions, e.contracts) == ("MES", "1m", 400, 2, ("MESH4",))
    assert (e.first_ns, e.last_ns) == (int(f["timestamp"].iat[0]), int(f["timestamp"].iat[-1]))
    assert e.bytes > 0


def test_append_twice_with_overlap_skips_duplicates_and_rewrites_touched_months_only(
        tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    jan = minutes("2024-01-10 10:00", 300)
    cat.append(jan, root="MES", bar_seconds=60)
    feb = minutes("2024-02-06 10:00", 200)
    cat.append(feb, root="MES", bar_seconds=60)
    jan_file = tmp_path / "1m/MES/year=2024/month=01/part.parquet"
    before = jan_file.stat().st_mtime_ns
    more = minutes("2024-02-06 12:00", 150)  # 80 of these overlap feb (12:00..13:19)
    rep = cat.append(more, root="MES", bar_seconds=60)
    assert (rep.rows_added, rep.duplicates_skipped, len(rep.conflicts)) == (70, 80, 0)
    assert rep.months_written == ("2024-02",)
    assert jan_file.stat().st_mtime_ns == before
    again = cat.append(more, root="MES", bar_seconds=60)  # idempotent: nothing rewritten
    assert (again.rows_added, again.duplicates_skipped, again.partitions_written) == (0, 150, 0)
    got = cat.load("MES", 60)
    assert len(got) == 300 + 270 and got["timestamp"].is_monotonic_increasing
    assert got["timestamp"].is_unique


def test_conflicting_overlap_is_reported_and_stored_data_kept(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    f = minutes("2024-03-05 10:00", 50)
    cat.append(f, root="MES", bar_seconds=60)
    g = f.copy()
    g.loc[[3, 7], "close"] += 0.25
    g.loc[[3, 7], "high"] += 0.25
    rep = cat.append(g, root="MES", bar_seconds=60)
    assert (len(rep.conflicts), rep.duplicates_skipped, rep.rows_added) == (2, 48, 0)
    c = rep.conflicts[0]
    assert c.ts_ns == int(f["timestamp"].iat[3])
    assert c.existing[3] + 0.25 == c.new[3] and c.existing[5] == c.new[5] == "MESH4"
    assert "conflict at" in rep.summary() and "stored values kept" in rep.summary()
    assert_frames_equal(cat.load("MES", 60), f)
    rep = cat.append(g, root="MES", bar_seconds=60, overwrite=True)
    assert rep.overwritten == 2
    assert_frames_equal(cat.load("MES", 60), g)


def test_gap_between_stored_and_new_data_is_reported(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    mon = minutes("2024-03-04 09:30", 390)  # Monday RTH
    cat.append(mon, root="MES", bar_seconds=60)
    thu = minutes("2024-03-07 09:30", 390)  # Thursday: Tue-Wed are missing
    rep = cat.append(thu, root="MES", bar_seconds=60)
    assert rep.gaps == ((et("2024-03-04 16:00"), et("2024-03-07 09:30")),)
    assert "gap to backfill" in rep.summary()
    # Backfilling Tuesday leaves the Wednesday hole (reported both ways around).
    tue = minutes("2024-03-05 09:30", 390)
    rep = cat.append(tue, root="MES", bar_seconds=60)
    assert rep.gaps == ((et("2024-03-04 16:00"), et("2024-03-05 09:30")),
                        (et("2024-03-05 16:00"), et("2024-03-07 09:30")))
    # Friday close → Sunday open is no hole: no trading in between.
    fri = minutes("2024-03-08 15:00", 120)  # 15:00..16:59 ET
    cat.append(fri, root="MES", bar_seconds=60)
    sun = minutes("2024-03-10 18:00", 30)
    assert cat.append(sun, root="MES", bar_seconds=60).gaps == ()


def test_load_by_date_range_reads_only_needed_months(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cat = Catalog(tmp_path)
    parts = [minutes(f"2024-{m:02d}-12 10:00", 60) for m in (1, 2, 3)]
    for p in parts:
        cat.append(p, root="MES", bar_seconds=60)
    opened: list[str] = []
    real = Catalog._read_partition

    def spy(path, *a, **kw):  # noqa: ANN001, ANN202 - passthrough that records the file
        opened.append(str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(Catalog, "_read_partition", staticmethod(spy))
    got = cat.load("MES", 60, start="2024-02-12 15:10",
                   end=pd.Timestamp("2024-02-12 15:20", tz="UTC"))
    assert len(opened) == 1 and "month=02" in opened[0]
    assert got["timestamp"].tolist() == [et("2024-02-12 10:10") + i * 60 * NS for i in range(10)]
    got = cat.load("MES", 60, start=et("2024-02-01"), columns=["close"])
    assert list(got.columns) == ["timestamp", "close"] and len(got) == 120
    assert cat.load("MES", 60, start="2025-01-01").empty
    with pytest.raises(ConfigError, match="not after"):
        cat.load("MES", 60, start="2024-03-01", end="2024-02-01")
    with pytest.raises(ConfigError, match="unknown column"):
        cat.load("MES", 60, columns=["price"])


def test_failure_mid_write_keeps_the_old_partition_and_leaves_no_temp_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = Catalog(tmp_path)
    f = minutes("2024-03-05 10:00", 100)
    cat.append(f, root="MES", bar_seconds=60)
    part = tmp_path / "1m/MES/year=2024/month=03/part.parquet"
    before = part.read_bytes()
    real = _catalog_files.write_table

    def crash(table, path):  # noqa: ANN001, ANN202 - test double of the writer
        real(table.slice(0, 10), path)  # half a file on disk …
        raise OSError("disk full")  # … then the writer dies

    monkeypatch.setattr(_catalog_files, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        cat.append(minutes("2024-03-05 12:00", 100), root="MES", bar_seconds=60)
    assert part.read_bytes() == before
    assert files_under(tmp_path) == ["1m/MES/year=2024/month=03/part.parquet"]
    assert_frames_equal(cat.load("MES", 60), f)


def test_bad_input_and_missing_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = Catalog(tmp_path)
    with pytest.raises(DataError, match="no MES 1m bars") as exc:
        cat.load("MES", 60)
    assert "empty" in str(exc.value) and "scalpdesk data import" in str(exc.value)
    cat.append(minutes("2024-03-05 10:00", 5), root="MES", bar_seconds=60)
    with pytest.raises(DataError, match="no ES 1s bars") as exc:
        cat.load("ES", 1)
    assert "MES 1m" in str(exc.value)
    with pytest.raises(DataError, match="do not belong to root ES"):
        cat.append(minutes("2024-03-05 10:00", 5), root="ES", bar_seconds=60)
    with pytest.raises(DataError, match="not on the 5m grid"):
        cat.append(minutes("2024-03-05 10:01", 5), root="MES", bar_seconds=300)
    dup = pd.concat([minutes("2024-03-05 10:00", 3), minutes("2024-03-05 10:00", 1, price=1.0)],
                    ignore_index=True)
    with pytest.raises(DataError, match="two different bars"):
        cat.append(dup, root="MES", bar_seconds=60)
    same = pd.concat([minutes("2024-03-06 10:00", 3)] * 2, ignore_index=True)
    rep = cat.append(same.iloc[::-1].reset_index(drop=True), root="MES", bar_seconds=60)
    assert (rep.rows_added, rep.duplicates_skipped) == (3, 3)
    with pytest.raises(ConfigError, match="invalid instrument root"):
        cat.append(minutes("2024-03-05 10:00", 1), root="../x", bar_seconds=60)
    with pytest.raises(DataError, match="lacks column"):
        cat.append(minutes("2024-03-05 10:00", 1).drop(columns=["symbol"]), root="MES",
                   bar_seconds=60)
    empty = cat.append(minutes("2024-03-05 10:00", 0), root="MES", bar_seconds=60)
    assert (empty.rows_in, empty.rows_added, empty.partitions_written, empty.gaps) == (0, 0, 0, ())
    cat.remove("MES", 60)
    assert cat.entries() == [] and files_under(tmp_path) == []
    with pytest.raises(DataError):
        cat.remove("MES", 60)
    monkeypatch.setenv("SCALPDESK_DATA", str(tmp_path / "elsewhere"))
    assert Catalog().root == default_root() == tmp_path / "elsewhere"


def test_bar_labels() -> None:
    assert [bar_label(s) for s in (1, 5, 60, 300, 3600, 86_400)] == \
        ["1s", "5s", "1m", "5m", "1h", "1d"]
    assert all(parse_bar_label(bar_label(s)) == s for s in (1, 15, 60, 900, 3600))
    with pytest.raises(ConfigError):
        bar_label(0)


def test_real_mes_file_roundtrip(tmp_path: Path, shared_data: Path) -> None:
    t = pq.read_table(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet")
    ts = t.column("ts").cast("int64").to_numpy()
    f = make_frame(ts, *(t.column(c).to_numpy() for c in ("open", "high", "low", "close",
                                                          "volume")),
                   t.column("symbol").to_numpy(zero_copy_only=False))
    cat = Catalog(tmp_path)
    half = len(f) // 2
    cat.append(f.iloc[: half + 500], root="MES", bar_seconds=60, source="frd")
    rep = cat.append(f.iloc[half:], root="MES", bar_seconds=60, source="frd")
    assert (rep.duplicates_skipped, len(rep.conflicts), rep.gaps) == (500, 0, ())
    got = cat.load("MES", 60)
    assert list(got.columns) == list(COLUMNS)
    assert_frames_equal(got, f)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7 * 1440), st.booleans()), min_size=1, max_size=60,
                unique_by=lambda x: x[0]), st.sampled_from([1, 30, 240]))
def test_gap_finder_matches_a_sort_based_reference(points: list[tuple[int, bool]],
                                                   min_gap_min: int) -> None:
    t0 = et("2024-03-03 18:00")
    points.sort()
    ts = np.array([t0 + m * 60 * NS for m, _ in points], dtype=np.int64)
    is_new = np.array([n for _, n in points])
    old, new = ts[~is_new], ts[is_new]
    gap_ns, bar_ns = min_gap_min * 60 * NS, 60 * NS
    got = _catalog_files.find_gaps([old[:3], old[3:]], [new], bar_ns, gap_ns)
    want = []
    for i in range(len(ts) - 1):
        a, b = int(ts[i]) + bar_ns, int(ts[i + 1])
        if is_new[i] != is_new[i + 1] and b - a >= gap_ns \
                and _catalog_files.trading_ns(a, b) >= gap_ns:
            want.append((a, b))
    assert got == tuple(want)


def test_contracts_across_months_keep_their_symbols(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    feb = minutes("2024-02-27 10:00", 30, symbol="MESH4")
    mar = pd.concat([minutes("2024-03-12 10:00", 20, symbol="MESH4"),
                     minutes("2024-03-13 10:00", 20, symbol="MESM4", price=5050.0)],
                    ignore_index=True)
    cat.append(pd.concat([feb, mar], ignore_index=True), root="MES", bar_seconds=60)
    got = cat.load("MES", 60)
    assert got["symbol"].astype(str).tolist() == ["MESH4"] * 50 + ["MESM4"] * 20
    assert isinstance(got["symbol"].dtype, pd.CategoricalDtype)
    (e,) = cat.entries()
    assert e.contracts == ("MESH4", "MESM4")
    edge = cat.load("MES", 60, start=et("2024-03-13 10:05"), end=et("2024-03-13 10:08"))
    assert edge["symbol"].astype(str).tolist() == ["MESM4"] * 3
    assert edge["close"].tolist() == mar["close"].iloc[25:28].tolist()
