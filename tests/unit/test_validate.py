"""validate(): every rule, row numbers and counts, warnings vs errors, numpy reference check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.datasets.schema import make_frame
from core.datasets.validate import ValidationReport, validate
from core.errors import DataError

NS = 1_000_000_000
# Monday 2024-01-08 14:30 UTC = 09:30 ET, inside the Globex session of 2024-01-08.
T0 = pd.Timestamp("2024-01-08 14:30", tz="UTC").value


def _frame(n: int = 10, step_s: int = 60, symbol: str = "MESH4", start: int = T0
           ) -> pd.DataFrame:
    close = 4800.0 + (np.arange(n) % 5) * 0.25
    return make_frame(start + np.arange(n, dtype=np.int64) * step_s * NS, close - 0.25,
                      close + 0.5, close - 0.5, close, np.full(n, 7), symbol)


def _codes(rep: ValidationReport, severity: str = "error") -> set[str]:
    return {i.code for i in rep.issues if i.severity == severity}


def _issue(rep: ValidationReport, code: str):
    [i] = [i for i in rep.issues if i.code == code]
    return i


def test_clean_frame_is_ok() -> None:
    rep = validate(_frame(), source="mes.csv", bar_seconds=60)
    assert rep.ok and rep.issues == () and rep.gaps == 0 and rep.missing_bars == 0
    assert rep.rows == 10 and rep.first_ns == T0 and rep.last_ns == T0 + 9 * 60 * NS
    rep.raise_if_errors()
    assert "OK (no errors)" in rep.summary_lines()


def _set(f: pd.DataFrame, col: str, rows: list[int], value: float) -> pd.DataFrame:
    f = f.copy()
    vals = f[col].to_numpy().copy()
    vals[rows] = value
    f[col] = vals
    return f


@pytest.mark.parametrize("col,rows,value,code", [
    ("close", [3, 6], np.nan, "null-price"),
    ("low", [4], 4900.0, "ohlc"),
    ("high", [2, 8], 4700.0, "ohlc"),
    ("open", [5], 4800.1, "off-tick"),
    ("volume", [7], -1, "negative-volume"),
    ("high", [1], 480_050.0, "implausible-price"),
    ("low", [0], 48.0, "implausible-price"),
])
def test_row_errors_name_file_first_row_count_and_fix(col: str, rows: list[int], value: float,
                                                      code: str) -> None:
    f = _set(_frame(), col, rows, value)
    rep = validate(f, source="mes.csv", bar_seconds=60, row_offset=100)
    assert not rep.ok and code in _codes(rep)
    i = _issue(rep, code)
    assert i.row == 100 + rows[0] + 1
    assert i.count == len(rows)
    assert "mes.csv" in i.message and f"data row {i.row}" in i.message
    assert i.fix


def test_unsorted_and_duplicate_timestamps() -> None:
    f = _frame()
    ts = f["timestamp"].to_numpy().copy()
    ts[[4, 5]] = ts[[5, 4]]          # swap: row 5 goes back in time
    ts[8] = ts[7]                     # duplicate
    f["timestamp"] = ts
    rep = validate(f, source="x.parquet", bar_seconds=60)
    assert {"unsorted", "duplicate"} <= _codes(rep)
    assert _issue(rep, "unsorted").row == 6 and _issue(rep, "duplicate").row == 9


def test_misaligned_bar_starts() -> None:
    f = _frame()
    f["timestamp"] = f["timestamp"].to_numpy() + 30 * NS  # bar ends or half-minute stamps
    rep = validate(f, source="x", bar_seconds=60)
    assert "misaligned" in _codes(rep) and _issue(rep, "misaligned").count == 10


def test_raise_if_errors_lists_every_error() -> None:
    f = _set(_set(_frame(), "close", [3], np.nan), "volume", [5], -3)
    rep = validate(f, source="bad.csv", bar_seconds=60)
    with pytest.raises(DataError) as e:
        rep.raise_if_errors()
    text = str(e.value)
    assert "bad.csv" in text and "2 validation error(s)" in text
    assert "null-price" in text and "negative-volume" in text and "fix:" in text


def test_missing_columns_and_empty() -> None:
    rep = validate(_frame().drop(columns=["volume"]), source="x", bar_seconds=60)
    assert _codes(rep) == {"missing-columns"}
    rep = validate(_frame(0), source="x", bar_seconds=60)
    assert _codes(rep) == {"empty"}


def test_gaps_inside_session_counted_breaks_not() -> None:
    f = _frame(20)
    keep = np.ones(20, dtype=bool)
    keep[[5, 6, 12]] = False          # two gaps: 2 missing + 1 missing
    f = f[keep].reset_index(drop=True)
    # plus a bar in the next session (after the 17:00-18:00 ET halt): a break, not a gap
    nxt = _frame(1, start=pd.Timestamp("2024-01-08 23:05", tz="UTC").value)
    f = pd.concat([f, nxt], ignore_index=True)
    f["symbol"] = pd.Categorical(f["symbol"].astype(str))
    rep = validate(f, source="x", bar_seconds=60)
    assert rep.ok
    assert rep.gaps == 2 and rep.missing_bars == 3
    g = _issue(rep, "gaps")
    assert g.severity == "warning" and g.row == 6 and "ET" in g.message


def test_bars_outside_session_warn() -> None:
    sat = pd.Timestamp("2024-01-13 15:00", tz="UTC").value
    rep = validate(_frame(3, start=sat), source="x", bar_seconds=60)
    assert rep.ok and "outside-session" in _codes(rep, "warning")


def test_roll_symbol_change_and_open_jump() -> None:
    days = []
    price = 4800.0
    for d in range(8):  # eight sessions; the last opens 1.5 % higher with a new contract
        start = pd.Timestamp("2024-03-04 14:30", tz="UTC").value + d * 86_400 * NS
        f = _frame(5, start=start, symbol="MESH4" if d < 7 else "MESM4")
        if d == 7:
            for c in ("open", "high", "low", "close"):
                f[c] = f[c] + 72.0
        days.append(f)
    f = pd.concat(days, ignore_index=True)
    f["symbol"] = pd.Categorical(f["symbol"].astype(str))
    rep = validate(f, source="mes.parquet", bar_seconds=60)
    assert rep.ok
    warn = _codes(rep, "warning")
    # Judged per contract (issue 11): the step at the contract change is the roll's, shown
    # with it; neither contract jumps on its own.
    assert "roll" in warn and "open-jump" not in warn
    assert "MESH4 → MESM4" in _issue(rep, "roll").message
    assert "(+1.47%)" in _issue(rep, "roll").message and _issue(rep, "roll").row == 36
    del price


def test_equity_sub_penny_is_a_warning_and_unknown_root_skips_grid() -> None:
    f = _frame(symbol="SPY")
    for c in ("open", "high", "low", "close"):
        f[c] = f[c] / 10 + 0.0001
    rep = validate(f, source="spy", bar_seconds=60)
    assert rep.ok and "off-tick" in _codes(rep, "warning")
    rep = validate(_set(_frame(symbol="XYZ"), "open", [0], 4800.1), source="x", bar_seconds=60)
    assert rep.ok and "unknown-instrument" in _codes(rep, "warning")


def test_instrument_argument_overrides_symbol() -> None:
    f = _set(_frame(symbol="FOO"), "open", [2], 4800.1)
    assert "off-tick" in _codes(validate(f, source="x", bar_seconds=60, instrument="MES"))


# ------------------------------------------------------------------- reference check
def _reference(ts, o, h, lo, c, v, tick, limit, floor, bar_ns) -> dict[str, int]:
    """Plain numpy definitions of the per-row rules (the kernel must agree)."""
    nan = np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c)
    ok = ~nan
    step = np.diff(ts)
    off = np.zeros(len(o), bool)
    for a in (o, h, lo, c):
        t = a / tick
        off |= np.abs(t - np.rint(t)) > 1e-6
    return {
        "null-price": int(nan.sum()),
        "ohlc": int((ok & ((lo > o) | (lo > c) | (o > h) | (c > h) | (lo > h))).sum()),
        "non-positive-price": int((ok & ((o <= 0) | (lo <= 0) | (c <= 0))).sum()),
        "negative-volume": int((v < 0).sum()),
        "zero-volume": int((v == 0).sum()),
        "implausible-price": int((ok & ((h > limit) | ((lo > 0) & (lo < floor)))).sum()),
        "off-tick": int((ok & off).sum()),
        "unsorted": int((step < 0).sum()),
        "duplicate": int((step == 0).sum()),
        "misaligned": int((ts % bar_ns != 0).sum()),
    }


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 2**32 - 1))
def test_kernel_matches_numpy_reference(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts = T0 + np.sort(rng.integers(0, n + 3, n)) * 60 * NS
    ts[rng.random(n) < 0.1] += 30 * NS
    if rng.random() < 0.5 and n > 3:
        ts[[1, 2]] = ts[[2, 1]]
    base = 4800 + rng.integers(-20, 20, (4, n)) * 0.25
    o, h, lo, c = base
    h = np.maximum(h, np.maximum(o, c)) if rng.random() < 0.5 else h
    lo = np.minimum(lo, np.minimum(o, c)) if rng.random() < 0.5 else lo
    o = np.where(rng.random(n) < 0.1, o + 0.1, o)
    c = np.where(rng.random(n) < 0.1, np.nan, c)
    h = np.where(rng.random(n) < 0.05, 30_000.0, h)
    lo = np.where(rng.random(n) < 0.05, 48.0, lo)
    v = rng.integers(-2, 5, n)
    f = make_frame(ts, o, h, lo, c, v, "MESH4")
    rep = validate(f, source="x", bar_seconds=60, check_gaps=False)
    got = {i.code: i.count for i in rep.issues}
    want = _reference(ts, o, h, lo, c, v, 0.25, 20_000.0, 300.0, 60 * NS)
    assert {k: x for k, x in want.items() if x} == got


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=80), st.sampled_from([1, 60]))
def test_valid_random_walks_pass(steps: list[int], bar: int) -> None:
    n = len(steps)
    ts = T0 + np.cumsum(np.asarray(steps, dtype=np.int64)) * bar * NS
    close = 4800 + np.cumsum(np.asarray(steps) - 2) * 0.25
    f = make_frame(ts, close, close + 0.25, close - 0.5, close, np.ones(n), "MES")
    rep = validate(f, source="x", bar_seconds=bar)
    assert rep.ok, rep.summary_lines()
    assert rep.missing_bars == sum(s - 1 for s in steps[1:])
