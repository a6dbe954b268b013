"""The backtest workflow is one headless call: the CLI and the console's pane share it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.backtest.synthetic import random_walk_bars
from core.backtest.workflow import BacktestRequest, Line, Table, run_backtest_request


@pytest.fixture()
def bars_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCALPDESK_LEDGER", str(tmp_path / "trials.jsonl"))
    p = tmp_path / "bars.parquet"
    random_walk_bars(390 * 20, seed=3, bar_seconds=60, sigma_ticks=4).to_parquet(p)
    return p


def test_request_to_report_with_one_progress_interface(bars_file: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    emitted: list[object] = []
    rep = run_backtest_request(
        BacktestRequest(data=str(bars_file), strategy="random", baseline_seeds=10,
                        walk_forward=True, folds=2, trades_out=tmp_path / "t.csv"),
        lambda stage, f: seen.append((stage, f)), emit=emitted.append)
    stages = [s for s, _ in seen]
    assert "loading bars" in stages and "backtest" in stages
    assert any(s.startswith("random baseline") for s in stages)
    assert all(math.isnan(f) or 0.0 <= f <= 1.0 for _, f in seen)
    assert list(rep.blocks) == emitted  # the sink saw every block, in order
    assert isinstance(rep.blocks[0], Table) and rep.blocks[0].title == rep.title
    assert any(isinstance(b, Table) and b.title.startswith("walk-forward") for b in rep.blocks)
    assert rep.verdict.text() in rep.lines
    assert rep.baseline_percentile is not None and 0 <= rep.baseline_percentile <= 100
    assert len(rep.equity) and rep.stats.trades == len(rep.result.trades)
    assert rep.trades_path is not None and rep.trades_path.exists()
    assert rep.n_trials >= 1
    assert all(isinstance(b, (Line, Table)) for b in rep.blocks)


def test_cli_prints_the_workflow_blocks(bars_file: Path) -> None:
    res = CliRunner().invoke(app, ["backtest", "--data", str(bars_file), "--strategy", "random",
                                   "--baseline-seeds", "5"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rep = run_backtest_request(BacktestRequest(data=str(bars_file), strategy="random",
                                               baseline_seeds=5))
    # The same lines (the trial count grows by one per run, so compare the first lines).
    baseline = next(x for x in rep.lines if x.startswith("random-entry baseline"))
    assert baseline in res.output


def test_bad_request_raises_a_core_error_and_writes_nothing(bars_file: Path,
                                                            tmp_path: Path) -> None:
    from core.errors import CoreError

    out = tmp_path / "r.html"
    with pytest.raises(CoreError):
        run_backtest_request(BacktestRequest(data=str(bars_file), report=out))  # no signals
    assert not out.exists()
