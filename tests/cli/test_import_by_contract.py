"""`data import --by-contract` (issue 11, found 6): a file whose contracts trade at the same
times is refused as one series, with the split suggested; --by-contract stores one series
per contract, each usable as --data CONTRACT."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.backtest.synthetic import random_walk_bars


def _run(*args: str):  # noqa: ANN202 - click Result
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def two_contracts(tmp_path: Path) -> Path:
    parts = []
    for k, (name, level) in enumerate((("ESH4", 4500.0), ("ESM4", 4555.0))):
        b = random_walk_bars(390 * 3, seed=k, bar_seconds=60, sigma_ticks=2, start_price=level)
        b["symbol"] = name
        parts.append(b)
    both = pd.concat(parts).sort_values(["timestamp", "symbol"], kind="stable")
    p = tmp_path / "es_months.parquet"
    both.reset_index(drop=True).to_parquet(p)
    return p


def test_mixed_contracts_are_refused_then_split(two_contracts: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cat = tmp_path / "catalog"
    monkeypatch.setenv("SCALPDESK_DATA", str(cat))
    monkeypatch.setenv("SCALPDESK_LEDGER", str(tmp_path / "trials.jsonl"))
    res = _run("data", "validate", str(two_contracts))
    out = " ".join(res.output.split())
    assert res.exit_code == 0, res.output  # each contract is fine on its own
    assert "[contracts]" in out and "--by-contract" in out and "roll" not in out
    res = _run("data", "import", str(two_contracts), "--catalog", str(cat))
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "nothing imported" in out and "--by-contract" in out
    assert not any(cat.rglob("*.parquet"))
    res = _run("data", "import", str(two_contracts), "--catalog", str(cat), "--by-contract")
    assert res.exit_code == 0, res.output
    assert "→ ESH4 1m: 1,170 new rows" in res.output and "→ ESM4 1m: 1,170 new rows" in res.output
    res = _run("backtest", "--data", "ESM4", "--strategy", "random", "--baseline-seeds", "0")
    assert res.exit_code == 0, res.output
    assert "1,170 bars of 60 s" in res.output
