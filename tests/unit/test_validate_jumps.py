"""Validation flags what a trader would want flagged (issue 11, found 6): jumps anywhere in a
session with their time, and multi-contract files judged per contract."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.backtest.synthetic import random_walk_bars
from core.datasets.validate import validate


def _minutes(days: int = 5, seed: int = 1, symbol: str = "ESH4", shift: float = 0.0
             ) -> pd.DataFrame:
    b = random_walk_bars(390 * days, seed=seed, bar_seconds=60, sigma_ticks=2,
                         start_price=4500.0 * (1 + shift))
    b["symbol"] = pd.Categorical([symbol] * len(b))
    return b


def _codes(rep) -> dict[str, object]:  # noqa: ANN001 - ValidationReport
    return {i.code: i for i in rep.issues}


def test_a_mid_session_jump_is_reported_with_its_time() -> None:
    """Failed before: a +0.75 % step at 11:00 ET mid-session passed without a word."""
    b = _minutes(symbol="ES")
    ts = pd.to_datetime(b["timestamp"], utc=True).dt.tz_convert("America/New_York")
    at = int(np.flatnonzero((ts.dt.strftime("%Y-%m-%d %H:%M") == "2024-03-06 11:00").to_numpy())[0])
    for col in ("open", "high", "low", "close"):
        v = b[col].to_numpy().copy()
        v[at:] = np.round(v[at:] * 1.0075 / 0.25) * 0.25
        b[col] = v
    rep = validate(b, source="es.parquet", bar_seconds=60)
    got = _codes(rep)
    assert "jump" in got, rep.summary_lines()
    assert "2024-03-06 11:00:00 ET +0.75%" in got["jump"].message
    assert got["jump"].row == at + 1
    # Without the splice, nothing is flagged.
    assert "jump" not in _codes(validate(_minutes(symbol="ES"), source="es", bar_seconds=60))


def test_contracts_trading_at_the_same_times_are_judged_per_contract() -> None:
    """Failed before: rows of two contracts alternating in time gave duplicate-timestamp
    errors, thousands of "rolls" and jumps between the two price levels."""
    a, b = _minutes(symbol="ESH4"), _minutes(symbol="ESM4", shift=0.012, seed=2)
    both = pd.concat([a, b]).sort_values(["timestamp", "symbol"], kind="stable")
    both["symbol"] = pd.Categorical(both["symbol"].astype(str))
    both = both.reset_index(drop=True)
    rep = validate(both, source="multi.dbn", bar_seconds=60)
    got = _codes(rep)
    assert rep.ok, rep.summary_lines()
    assert "roll" not in got and "jump" not in got and "open-jump" not in got
    assert "contracts" in got and "--by-contract" in got["contracts"].fix
    assert "ESH4" in got["contracts"].message and "ESM4" in got["contracts"].message


def test_contracts_grouped_out_of_time_order_get_the_sort_fix() -> None:
    early = _minutes(days=3, symbol="ESH4")
    late = _minutes(days=3, symbol="ESM4", seed=3)
    late["timestamp"] = late["timestamp"] + 7 * 86_400_000_000_000
    # The later contract first: grouped by contract, not in time order.
    f = pd.concat([late, early], ignore_index=True)
    f["symbol"] = pd.Categorical(f["symbol"].astype(str))
    rep = validate(f, source="grouped.csv", bar_seconds=60)
    got = _codes(rep)
    assert rep.ok, rep.summary_lines()  # each contract is in order on its own
    assert "contract-order" in got and "sort" in got["contract-order"].fix
    assert got["roll"].count == 1 and "ESH4 → ESM4" in got["roll"].message
