"""Issue 12, first result: a default model on 1-minute data that takes no trades says why.

Also: the tour never prints the path of a report it is about to delete.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli import tour
from console.cli.app import app

runner = CliRunner()
MES_1M = "mes_1m_frd_2023-11-26_2023-12-11.parquet"


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_zero_trades_after_training_and_backtest_say_why(shared_data: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALPDESK_MODELS", str(tmp_path / "models"))
    res = run("train", "--data", str(shared_data / MES_1M), "--folds", "2", "--name", "m")
    assert res.exit_code == 0, res.output
    assert "0*" in res.stdout  # no fold traded under the default 60 % floor
    assert "why no trades: the model's UP/DOWN confidence never reached the 60% floor" \
        in res.stdout and "--min-confidence 0." in res.stdout
    res = run("backtest", "--data", str(shared_data / MES_1M), "--model", "m", "--in-sample",
              "--profile", "account_1k", "--baseline-seeds", "0")
    assert res.exit_code == 0, res.output
    out = " ".join(res.stdout.split())
    assert "confidence floor" in out and "60% (model m's training floor" in out
    assert "no signal reached the 60% confidence floor" in out
    assert "--min-confidence 0." in out
    assert "scalpdesk profile new mine --from account_1k" in res.stdout
    assert "'risk.confidence_steps[0].min_confidence'" in res.stdout


def test_tour_prints_no_report_path_it_will_delete(tmp_path: Path) -> None:
    assert tour.report_args(tmp_path, keep=False) == []
    assert tour.report_args(tmp_path, keep=True) == ["--report", str(tmp_path / "report.html")]


def test_a_training_floor_below_the_first_sizing_step_moves_that_step() -> None:
    """Otherwise every entry between the floor and the first step is refused (size 0)."""
    from core.config import load_profile
    from core.training.trading import training_profile

    base = load_profile("account_1k")
    low = training_profile(base, 0.5)
    assert low.risk.min_confidence == 0.5
    assert low.risk.confidence_steps[0].min_confidence == 0.5
    assert low.risk.confidence_steps[1:] == base.risk.confidence_steps[1:]
    high = training_profile(base, 0.65)
    assert high.risk.confidence_steps == base.risk.confidence_steps
    assert training_profile(base, base.risk.min_confidence) is base
