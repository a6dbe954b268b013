"""Contract rolls: detection from codes, suspected rolls in root-only series, back-adjust."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.datasets.roll import Roll, back_adjust, detect_rolls, third_friday
from core.datasets.schema import NS_PER_SECOND, make_frame
from core.domain.instruments import INSTRUMENTS
from core.errors import ConfigError, DataError

NS = NS_PER_SECOND
MES = INSTRUMENTS["MES"]


def et(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


def session_bars(days: list[str], prices: list[float], symbols: list[str]) -> pd.DataFrame:
    """Two bars per trading day: the 18:00 ET open of the evening before and 10:00 ET."""
    ts, px, sym = [], [], []
    for day, p, s in zip(days, prices, symbols, strict=True):
        d = pd.Timestamp(day)
        prev = d - pd.Timedelta(days=1)  # Monday's session opens Sunday 18:00 ET
        ts += [et(f"{prev.date()} 18:00"), et(f"{d.date()} 10:00")]
        px += [p, p + 1.0]
        sym += [s, s]
    a = np.asarray(px)
    return make_frame(np.asarray(ts), a, a + 0.5, a - 0.5, a + 0.25, np.full(len(a), 10),
                      np.asarray(sym))


def test_third_friday() -> None:
    assert third_friday(2023, 12) == dt.date(2023, 12, 15)
    assert third_friday(2024, 3) == dt.date(2024, 3, 15)
    assert third_friday(2024, 6) == dt.date(2024, 6, 21)


def test_symbol_changes_are_rolls_with_their_gap() -> None:
    f = session_bars(["2024-03-06", "2024-03-07", "2024-03-08"], [5000, 5001, 5060],
                     ["MESH4", "MESH4", "MESM4"])
    rolls = detect_rolls(f)
    assert rolls == [Roll(int(f["timestamp"].iat[4]), "MESH4", "MESM4",
                          5060 - (5001 + 1.0 + 0.25), 4, suspected=False)]


def test_root_only_series_flags_a_jump_before_expiry_only() -> None:
    days = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08", "2024-03-11",
            "2024-03-12", "2024-03-13"]
    prices = [5000, 5001.5, 5001, 5003, 5002.5, 5060, 5061, 5060.5]
    f = session_bars(days, prices, ["MES"] * len(days))
    rolls = detect_rolls(f)
    assert len(rolls) == 1
    r = rolls[0]
    assert r.suspected and r.index == 10 and r.from_symbol == "MESH4" and r.to_symbol == "MESM4"
    assert r.gap == pytest.approx(5060 - (5002.5 + 1.25))
    # The same jump a month before expiry is a news gap, not a roll.
    feb = ["2024-02-12", "2024-02-13", "2024-02-14", "2024-02-15", "2024-02-16", "2024-02-20"]
    g = session_bars(feb, [5000, 5001, 5000.5, 5002, 5001, 5060], ["MES"] * 6)
    assert detect_rolls(g) == []
    # An ETF has no contracts: the same jump before expiry is never a roll.
    spy = session_bars(days, prices, ["SPY"] * len(days))
    assert detect_rolls(spy) == []


def test_real_mes_file_dec_to_mar_roll(shared_data: Path) -> None:
    t = pq.read_table(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet")
    ts = t.column("ts").cast("int64").to_numpy()
    f = make_frame(ts, *(t.column(c).to_numpy() for c in ("open", "high", "low", "close",
                                                          "volume")),
                   t.column("symbol").to_numpy(zero_copy_only=False))
    rolls = detect_rolls(f)
    assert len(rolls) == 1
    r = rolls[0]
    assert pd.Timestamp(r.ts_ns, tz="UTC").tz_convert("America/New_York") == \
        pd.Timestamp("2023-12-10 18:00", tz="America/New_York")
    assert (r.from_symbol, r.to_symbol, r.suspected) == ("MESZ3", "MESH4", True)
    assert r.gap / f["close"].iat[r.index - 1] == pytest.approx(0.0115, abs=0.0005)
    adj = back_adjust(f, rolls)
    assert adj["open"].iat[r.index] == adj["close"].iat[r.index - 1]
    assert all(MES.on_tick(p) for p in adj["low"].to_numpy()[:: 97])
    np.testing.assert_array_equal(adj["close"].to_numpy()[r.index:],
                                  f["close"].to_numpy()[r.index:])
    assert detect_rolls(adj) == []  # nothing left to find once the jump is removed


@settings(max_examples=40, deadline=None)
@given(gaps=st.lists(st.integers(-400, 400), min_size=1, max_size=4),
       method=st.sampled_from(["difference", "ratio"]))
def test_back_adjust_makes_every_roll_continuous(gaps: list[int], method: str) -> None:
    n_per = 5
    k = len(gaps) + 1
    ts = np.arange(k * n_per, dtype=np.int64) * 60 * NS
    base = np.concatenate([4000 + 0.25 * np.arange(n_per) + 0.25 * sum(gaps[:i])
                           for i in range(k)])
    codes = np.repeat([f"MES{'HMUZ'[i % 4]}{4 + i // 4}" for i in range(k)], n_per)
    f = make_frame(ts, base, base + 1, base - 1, base + 0.5, np.ones(len(ts)), codes)
    rolls = detect_rolls(f)
    assert [r.index for r in rolls] == [n_per * i for i in range(1, k)]
    adj = back_adjust(f, rolls, method=method)  # type: ignore[arg-type]
    for r in rolls:
        assert adj["open"].iat[r.index] == pytest.approx(adj["close"].iat[r.index - 1])
    last = slice(rolls[-1].index, None)
    np.testing.assert_allclose(adj["close"].to_numpy()[last], f["close"].to_numpy()[last])
    if method == "difference":
        assert all(MES.on_tick(p) for p in adj["high"])
    assert f["open"].iat[0] == base[0]  # the input is not modified


def test_back_adjust_rejects_bad_input() -> None:
    f = session_bars(["2024-03-06", "2024-03-07"], [5000, 5060], ["MESH4", "MESM4"])
    rolls = detect_rolls(f)
    with pytest.raises(ConfigError, match="method"):
        back_adjust(f, rolls, method="panama")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="does not match"):
        back_adjust(f.iloc[1:].reset_index(drop=True), rolls)
    assert back_adjust(f, []).equals(f)
