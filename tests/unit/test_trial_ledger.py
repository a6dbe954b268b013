"""A trial ledger that counts the search (issue 11, found 5): every training configuration
(``--no-save`` runs included) and every backtest on the same data is a trial; the backtest's
deflated Sharpe and the train verdict use that count."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.backtest.bootstrap import Interval
from core.backtest.ledger import data_key, read_trials, trial_counts
from core.backtest.synthetic import random_walk_bars
from core.backtest.verdict import edge_verdict, trials_low


def _run(*args: str):  # noqa: ANN202 - click Result
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_training_runs_count_as_trials_for_the_backtest(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed before: after two training configurations the backtest said "after 1 trial"."""
    ledger = tmp_path / "trials.jsonl"
    monkeypatch.setenv("SCALPDESK_LEDGER", str(ledger))
    monkeypatch.setenv("SCALPDESK_MODELS", str(tmp_path / "models"))
    bars = random_walk_bars(390 * 12, seed=6, bar_seconds=60, sigma_ticks=3)
    data = tmp_path / "bars.parquet"
    bars.to_parquet(data)
    for thr in ("1", "2"):
        res = _run("train", "--data", str(data), "--folds", "2", "--no-save",
                   "--threshold", thr, "--lookahead", "300")
        assert res.exit_code == 0, res.output
    assert "2 training configurations" in " ".join(res.output.split())
    assert trial_counts(data_key(bars), ledger) == {"train": 2}
    res = _run("backtest", "--data", str(data), "--strategy", "random", "--baseline-seeds", "0")
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "after 3 trial(s) in the ledger" in out
    assert "3 trials on this data (2 training configurations, 1 backtest)" in out
    assert [r["kind"] for r in read_trials(ledger)] == ["train", "train", "backtest"]


def test_the_verdict_widens_its_interval_for_the_trials() -> None:
    ci = Interval(2.0, 0.5, 3.5, 0.95)  # lower bound 1.5 (z 1.96) below the estimate
    assert edge_verdict(500, ci)[0] == "possible edge"
    assert trials_low(ci, 1) == 0.5
    assert 0 < trials_low(ci, 2) < 0.5  # z 2.24
    label, head = edge_verdict(500, ci, n_trials=20)  # z 3.02: 2.0 − 1.5·3.02/1.96 < 0
    assert label == "inconclusive" and "after 20 trials on this data" in head


def test_train_summary_uses_the_count() -> None:
    from types import SimpleNamespace

    from core.training.report import summarize
    from core.training.trading import TradingMetrics

    def fold() -> SimpleNamespace:
        t = TradingMetrics(trades=400, counts=True, win_rate=0.5, expectancy=1.0,
                           expectancy_gross=2.0, expectancy_se=0.7, profit_factor=1.2,
                           net_pnl=400.0, costs=400.0, baseline_expectancy=-1.0, by_exit={})
        m = SimpleNamespace(auc=0.5, balanced_accuracy=0.5, log_loss=1.0, log_loss_prior=1.0)
        return SimpleNamespace(is_holdout=False, metrics=m, trading=t, number=0,
                               traded=None, deciles=None)

    folds = [fold() for _ in range(3)]
    one = summarize(folds, min_confidence=0.6)  # type: ignore[arg-type]
    many = summarize(folds, min_confidence=0.6, n_trials=50)  # type: ignore[arg-type]
    assert one.edge and one.verdict.startswith("possible edge")
    assert not many.edge and "after 50 trials on this data" in many.verdict
