"""`scalpdesk backtest` as a user runs it: a real file, a summary, clear errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.backtest.synthetic import random_walk_bars

runner = CliRunner()


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def bars_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("bt") / "bars.parquet"
    random_walk_bars(3_000, seed=2, bar_seconds=60, sigma_ticks=2.0).to_parquet(p)
    return p


def test_backtest_builtin_strategy_summary_baseline_and_trades_out(bars_file: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "trades.csv"
    res = run("backtest", "--profile", "account_1k", "--data", str(bars_file), "--strategy",
              "sma-cross", "--baseline-seeds", "5", "--trades-out", str(out), "--walk-forward",
              "--folds", "2")
    assert res.exit_code == 0, res.output
    assert "net P&L" in res.output and "random-entry baseline" in res.output
    assert "walk-forward" in res.output
    trades = pd.read_csv(out)
    assert {"entry_time", "exit_reason", "net_pnl", "mfe", "mae"} <= set(trades.columns)


def test_backtest_signals_file(bars_file: Path, tmp_path: Path) -> None:
    bars = pd.read_parquet(bars_file)
    sig = pd.DataFrame({"timestamp": bars["timestamp"].iloc[::50], "direction": 1,
                        "confidence": 0.8})
    f = tmp_path / "sig.csv"
    sig.to_csv(f, index=False)
    res = run("backtest", "--data", str(bars_file), "--signals", str(f), "--baseline-seeds", "0")
    assert res.exit_code == 0, res.output
    assert "trades" in res.output


def test_backtest_bad_input_exits_2(bars_file: Path, tmp_path: Path) -> None:
    res = run("backtest", "--data", str(tmp_path / "missing.parquet"), "--strategy", "random")
    assert res.exit_code == 2
    res = run("backtest", "--data", str(bars_file), "--strategy", "random", "--signals", "x.csv")
    assert res.exit_code == 2 and "exactly one" in res.output
    res = run("backtest", "--data", str(bars_file), "--strategy", "nope")
    assert res.exit_code == 2 and "unknown built-in strategy" in res.output
    res = run("backtest", "--data", str(bars_file), "--profile", "no_such_profile",
              "--strategy", "random")
    assert res.exit_code == 2 and "profile not found" in res.output


def test_backtest_with_a_trained_model(tmp_path: Path) -> None:
    from core.datasets.synth import generate
    from core.bench.inference import train_bench_model

    frame = generate(1, seed=4, rth_only=True)
    model_dir = train_bench_model("lightgbm", frame, tmp_path / "models")
    data = tmp_path / "bars.parquet"
    frame.to_parquet(data)
    res = run("backtest", "--data", str(data), "--model", str(model_dir), "--baseline-seeds", "3")
    assert res.exit_code == 0, res.output
    assert "model" in res.output and "trades" in res.output
    res = run("backtest", "--data", str(data), "--model", str(tmp_path / "nope"))
    assert res.exit_code == 2


def test_model_backtest_never_passes_training_data_off_as_evidence(tmp_path: Path) -> None:
    """Bars a model was trained on are not traded unless asked, and then flagged in-sample."""
    from core.datasets.synth import generate
    from core.bench.inference import train_bench_model
    from core.strategy.model import in_sample_mask, model_training_span

    frame = generate(2, seed=5, rth_only=True)
    model_dir = train_bench_model("lightgbm", frame, tmp_path / "models")
    span = model_training_span(model_dir)
    mask = in_sample_mask(frame, span)
    assert 0 < mask.sum() < len(frame)
    data = tmp_path / "bars.parquet"
    frame.to_parquet(data)
    res = run("backtest", "--data", str(data), "--model", str(model_dir), "--baseline-seeds", "0")
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())  # rich wraps long lines
    assert "get no signals" in out and "out of sample only" in out
    res = run("backtest", "--data", str(data), "--model", str(model_dir), "--baseline-seeds", "0",
              "--in-sample")
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "in-sample: not evidence" in out and "prove nothing" in out
    inside = tmp_path / "inside.parquet"
    frame[mask].reset_index(drop=True).to_parquet(inside)
    res = run("backtest", "--data", str(inside), "--model", str(model_dir))
    assert res.exit_code == 2 and "training data" in " ".join(res.output.split())


def test_real_es_minutes_settled_from_real_es_seconds(tmp_path: Path, shared_data: Path) -> None:
    """The ES 1-second sample settles same-bar stop/target on its own 1-minute bars."""
    es_1s = shared_data / "es_1s_esm8_2018-05-07_from_ticks_rtrawl.parquet"
    es_1m = tmp_path / "es_1m.parquet"
    assert run("data", "resample", str(es_1s), "--to", "1m", "--out", str(es_1m)).exit_code == 0
    args = ("backtest", "--data", str(es_1m), "--strategy", "random", "--profile", "account_1k",
            "--baseline-seeds", "5", "--trades-out", str(tmp_path / "t.csv"),
            "--report", str(tmp_path / "r.html"))
    res = run(*args, "--resolve-1s", str(es_1s))
    assert res.exit_code == 0, res.output
    assert "same-bar ambiguity" in res.output and (tmp_path / "r.html").exists()
    assert (tmp_path / "t.csv").read_text().startswith("entry_time")
    res = run(*args, "--resolve-1s", str(es_1m))  # minute bars cannot settle minute bars
    assert res.exit_code == 2 and "not 1-second" in " ".join(res.output.split())


def test_walk_forward_report_has_stitched_out_of_sample_equity(tmp_path: Path) -> None:
    from core.datasets.synth import generate

    data = tmp_path / "bars.parquet"
    generate(3, seed=2, rth_only=True).to_parquet(data)
    report = tmp_path / "wf.html"
    res = run("backtest", "--data", str(data), "--strategy", "sma-cross", "--walk-forward",
              "--folds", "3", "--baseline-seeds", "0", "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "stitched out-of-sample net P&L" in res.output
    html = report.read_text()
    assert "stitched out-of-sample equity" in html and 'id="stitched"' in html
