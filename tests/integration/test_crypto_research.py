"""The crypto research loop as a user runs it, on synthetic Binance files (no network):
import → train with a % label → backtest with a crypto profile at several capitals → verdict;
and the honesty checks: a planted pattern is found, pure noise shows no edge."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.config import load_profile
from core.datasets.synth_crypto import generate_crypto, write_binance_klines
from core.training.pipeline import TrainRequest, train

runner = CliRunner()
FAST = {"num_boost_round": 100, "params": {"learning_rate": 0.1}}


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Catalog and trial ledger inside tmp_path (nothing written to the checkout)."""
    monkeypatch.setenv("SCALPDESK_DATA", str(tmp_path / "catalog"))
    monkeypatch.setenv("SCALPDESK_LEDGER", str(tmp_path / "trials.jsonl"))
    return tmp_path


def test_import_train_backtest_at_four_capitals(sandbox: Path) -> None:
    bars = generate_crypto(16, seed=5, planted=True, strength=2.0, start="2024-01-01")
    month = write_binance_klines(bars.iloc[: 10 * 1440], sandbox / "BTCUSDT-1m-2024-01.zip")
    # A daily file in microseconds that overlaps the monthly one by a day, then extends it.
    day = write_binance_klines(bars.iloc[9 * 1440:], sandbox / "BTCUSDT-1m-2024-01-10.csv",
                               unit="us")
    res = run("data", "import", str(month), str(day))
    assert res.exit_code == 0, res.output
    assert "23,040 new rows" in res.output and "1,440 repeated row(s)" in res.output
    assert "microseconds" in res.output and "milliseconds" in res.output

    models = sandbox / "models"
    res = run("train", "--data", "BTCUSDT", "--profile", "crypto_spot_1k", "--label", "binary",
              "--lookahead", "600", "--threshold-pct", "0.1", "--folds", "3",
              "--name", "btc", "--models-dir", str(models))
    assert res.exit_code == 0, res.output
    assert "VERDICT" in res.output and (models / "btc" / "model_card.json").is_file()

    report = sandbox / "report.html"
    res = run("backtest", "--data", "BTCUSDT", "--model", str(models / "btc"), "--profile",
              "crypto_spot_1k", "--capital", "100,1000,10000,100000", "--baseline-seeds", "10",
              "--report", str(report))
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "capital scaling" in out and "$100,000" in out and "of which impact" in out
    assert any(v in out for v in ("no edge after costs", "inconclusive", "possible edge",
                                  "too few trades"))
    html = report.read_text(encoding="utf-8")
    assert "Capital scaling" in html and "$10,000" in html and "skipped: min size" in html


def test_bad_capital_and_topstep_are_clear_errors(sandbox: Path) -> None:
    f = write_binance_klines(generate_crypto(2, seed=1), sandbox / "BTCUSDT-1m-2024-01.zip")
    res = run("backtest", "--data", str(f), "--strategy", "random", "--profile",
              "crypto_spot_1k", "--capital", "100,abc")
    assert res.exit_code == 2 and "--capital" in res.output and "Traceback" not in res.output
    res = run("backtest", "--data", str(f), "--strategy", "random", "--profile",
              "topstep_50k_combine", "--capital", "1000", "--baseline-seeds", "0")
    assert res.exit_code == 2 and "account size" in res.output


def _train(planted: bool, seed: int):  # noqa: ANN202 - TrainOutcome
    frame = generate_crypto(14, seed=seed, planted=planted, strength=2.0)
    req = TrainRequest(profile=load_profile("crypto_spot_1k"), label_kind="binary",
                       lookahead_seconds=600, threshold_pct=0.1, folds=3, model_params=FAST)
    return train(frame, 60, req)


def test_planted_pattern_is_found_out_of_sample() -> None:
    out = _train(True, 2)
    assert out.summary.auc_mean > 0.56, out.report
    assert sum(r.metrics.auc > 0.54 for r in out.results if not r.is_holdout) >= 2, out.report
    assert "crypto_1m" in str(out.dataset_meta) or out.results   # 24/7 feature set in use


def test_pure_noise_has_no_edge() -> None:
    out = _train(False, 1)
    assert abs(out.summary.auc_mean - 0.5) <= 0.03, out.report
    assert not out.summary.edge and out.summary.verdict.startswith(("no edge", "too few trades"))
