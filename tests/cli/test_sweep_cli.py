"""`scalpdesk sweep` as a user runs it: the real MES file, the shipped example space, a report
that keeps validation and the held-out test apart; bad input exits 2 with the fix and writes
nothing; Ctrl-C leaves a whole ledger and --resume finishes the same sweep."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from console.cli.app import app
from tests.unit.sweep_fixtures import noise_bars

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
runner = CliRunner()


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def real_sweep(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sweep") / "mes"
    res = run("sweep", "--data", str(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet"),
              "--profile", "account_1k", "--space", "sweep_example", "--trials", "24",
              "--workers", "0", "--out", str(out))
    assert res.exit_code == 0, res.output
    return out, res.output


def test_sweep_on_real_data_reports_validation_and_test_apart(real_sweep: tuple[Path, str]) -> None:
    out, output = real_sweep
    assert "VERDICT:" in output and "PBO" in output and "deflated Sharpe" in output
    assert "held-out test" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"]["label"] in ("trustworthy", "fragile", "not trustworthy",
                                           "no edge", "not enough evidence")
    assert 0.0 <= summary["pbo"]["pbo"] <= 1.0 and summary["counts"]["trials"] == 24
    assert summary["trials_counted_for_deflation"] >= 24
    layout = summary["layout"]
    assert len(layout["validation"]) == 6 and layout["test"]["from"] > layout["validation"][-1]["to"]
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) == 24 and "param.strategy.stop_ticks" in trials.columns
    assert {"val_net_pnl", "val_sharpe", "fold0_net_pnl", "objective"} <= set(trials.columns)
    test = pd.read_parquet(out / "test.parquet")
    assert "test_net_pnl" in test.columns and len(test) <= 5
    page = (out / "report.html").read_text()
    assert "Validation and the held-out test, kept apart" in page and "CSCV" in page
    assert "<script src=" not in page  # plotly inlined: opens offline
    assert not list(out.glob(".*.tmp"))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_report_renders_in_headless_chromium(real_sweep: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = real_sweep
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=5000", "--dump-dom", (out / "report.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    m = re.search(r"<p id=\"render-status\">([^<]*)</p>", dom.stdout)
    assert m, f"no render status in DOM; stderr: {dom.stderr[-1000:]}"
    assert m.group(1) == "ok: 6 charts", m.group(1)


@pytest.fixture(scope="module")
def bars_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bars") / "noise_1m.parquet"
    noise_bars(6000, seed=5).to_parquet(path)
    return path


def test_bad_input_exits_2_with_the_fix_and_writes_nothing(bars_file: Path, tmp_path: Path) -> None:
    space = tmp_path / "space.toml"
    space.write_text('[params]\n"strategy.stop_tiks" = { low = 4, high = 8 }\n')
    out = tmp_path / "out"
    cases = [
        (["--space", str(space), "--strategy", "sma-cross"], "did you mean 'strategy.stop_ticks'"),
        (["--space", "sweep_example", "--method", "bayes"], "--method 'bayes' is unknown"),
        (["--space", "sweep_example", "--strategy", "magic"], "--strategy 'magic' is unknown"),
        (["--space", "sweep_example", "--strategy", "random", "--retrain"], "choose one of"),
        (["--space", str(tmp_path / "none.toml")], "sweep space not found"),
        (["--space", "sweep_example", "--resume"], "no sweep to resume here"),
    ]
    for extra, needle in cases:
        res = run("sweep", "--data", str(bars_file), "--out", str(out), "--workers", "0", *extra)
        assert res.exit_code == 2, (extra, res.output)
        assert needle in res.output and "Traceback" not in res.output, (extra, res.output)
        assert not out.exists(), extra  # nothing half-written
    res = run("sweep", "--data", str(bars_file), "--space", "sweep_example")
    assert res.exit_code == 2 and "--out DIR is required" in res.output
    (out / "mine.txt").parent.mkdir()
    (out / "mine.txt").write_text("user file")
    res = run("sweep", "--data", str(bars_file), "--space", "sweep_example", "--out", str(out),
              "--workers", "0")
    assert res.exit_code == 2 and "is not empty and holds no sweep" in res.output


def test_help_has_an_example() -> None:
    res = run("sweep", "--help")
    assert res.exit_code == 0 and "scalpdesk sweep --data" in res.output and "--resume" in res.output


def test_ctrl_c_leaves_a_whole_ledger_and_resume_finishes_it(bars_file: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "sw"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCALPDESK_LEDGER": str(tmp_path / "l.jsonl")}
    args = [sys.executable, "-c", "from console.cli.app import main; main()", "sweep", "--data", str(bars_file),
            "--space", "sweep_example", "--trials", "400", "--folds", "3", "--workers", "0",
            "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=tmp_path)
    ledger = out / "trials.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if ledger.exists() and len(ledger.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "resume: scalpdesk sweep --out" in stderr
    lines = ledger.read_text().splitlines()
    assert 5 <= len(lines) < 400 and len({json.loads(x)["number"] for x in lines}) == len(lines)
    res = run("sweep", "--out", str(out), "--resume", "--trials", "40")
    assert res.exit_code == 0, res.output
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) >= 40 and trials["trial"].is_unique


def test_bench_sweep_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.bench.sweep as bs

    monkeypatch.setattr(bs, "BENCH_DIR", tmp_path)
    res = run("bench", "sweep", "--trials", "4", "--folds", "2", "--days", "5", "--runs", "1",
              "--workers", "0")
    assert res.exit_code == 0, res.output
    assert "trials/s" in res.output and "overhead" in res.output
    assert list(tmp_path.glob("sweep_1m_5d_seed0.parquet"))
