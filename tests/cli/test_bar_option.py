"""Issue 12, bar size: one ``--bar`` option; no bar flag needed after importing a 1-minute file.

A trader imports the real MES 1-minute sample and runs train, backtest and sim without any
bar flag; the model's bar size wins with --model; several sizes ask with the choices; old
spellings still work with a note; errors suggest the right flag.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()
MES_1M = "mes_1m_frd_2023-11-26_2023-12-11.parquet"


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


def out(res) -> str:  # noqa: ANN001 - click Result
    return res.stdout + res.stderr


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> Path:
    """A fresh catalog holding only the real MES 1-minute file, and an empty models dir."""
    monkeypatch.setenv("SCALPDESK_DATA", str(tmp_path / "catalog"))
    monkeypatch.setenv("SCALPDESK_MODELS", str(tmp_path / "models"))
    res = run("data", "import", str(shared_data / MES_1M))
    assert res.exit_code == 0, out(res)
    return tmp_path


def test_train_and_backtest_default_to_the_only_size_the_catalog_holds(home: Path) -> None:
    res = run("train", "--data", "MES", "--folds", "2", "--name", "m1")
    assert res.exit_code == 0, out(res)
    assert "catalog" in res.stdout and "MES 1m" in res.stdout and "bars of 60 s" in res.stdout
    res = run("backtest", "--data", "MES", "--strategy", "sma-cross", "--baseline-seeds", "0")
    assert res.exit_code == 0, out(res)
    assert "bars of 60 s" in res.stdout


def test_backtest_uses_the_model_cards_bar_size_and_asks_when_several(home: Path) -> None:
    assert run("train", "--data", "MES", "--folds", "2", "--name", "m1").exit_code == 0
    res = run("data", "resample", "MES", "--to", "5m")  # the catalog now holds 1m and 5m
    assert res.exit_code == 0, out(res)
    res = run("backtest", "--data", "MES", "--model", "m1", "--baseline-seeds", "0")
    assert res.exit_code == 0, out(res)
    assert "bars of 60 s" in res.stdout
    res = run("backtest", "--data", "MES", "--strategy", "sma-cross")
    assert res.exit_code == 2
    assert "1m, 5m" in res.stderr and "--bar 1m or --bar 5m" in res.stderr
    res = run("backtest", "--data", "MES", "--model", "m1", "--bar", "5m")
    assert res.exit_code == 2 and "trained on 1m bars" in res.stderr and "--bar 1m" in res.stderr
    res = run("train", "--data", "MES", "--no-save")
    assert res.exit_code == 2 and "--bar 1m or --bar 5m" in res.stderr
    res = run("train", "--data", "MES", "--bar", "5m", "--folds", "2", "--no-save")
    assert res.exit_code == 0, out(res)
    assert "bars of 300 s" in res.stdout


def test_old_spellings_still_work_with_a_note_and_bad_values_name_the_flag(home: Path) -> None:
    res = run("backtest", "--data", "MES", "--bar-seconds", "60", "--strategy", "sma-cross",
              "--baseline-seeds", "0")
    assert res.exit_code == 0, out(res)
    assert "--bar-seconds is deprecated; use --bar 1m" in res.stderr
    res = run("train", "--data", "MES", "--bar", "60", "--no-save")
    assert res.exit_code == 2 and "--bar 1m" in res.stderr  # "60" means 1m: say so
    res = run("backtest", "--data", "MES", "--bar", "1s", "--strategy", "sma-cross")
    assert res.exit_code == 2 and "no MES 1s bars" in res.stderr and "--bar 1m" in res.stderr


def test_a_files_own_bar_size_is_used_and_a_contradicting_bar_refused(shared_data: Path) -> None:
    res = run("backtest", "--data", str(shared_data / MES_1M), "--bar", "1s", "--strategy",
              "sma-cross")
    assert res.exit_code == 2 and "holds 1m bars, not 1s" in res.stderr


def test_train_data_missing_file_talks_about_the_file(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALPDESK_DATA", str(tmp_path / "catalog"))
    res = run("train", "--data", "missing.parquet")
    assert res.exit_code == 2
    assert "missing.parquet" in res.stderr and "file not found" in res.stderr
    assert "catalog" not in res.stderr


@pytest.mark.parametrize("spec", [["--data", "MES"], ["--data", "MES:1m"]])
def test_sim_run_replays_the_catalog_without_a_bar_flag(home: Path, spec: list[str]) -> None:
    env = {**os.environ, "SCALPDESK_DATA": str(home / "catalog")}
    proc = subprocess.Popen([sys.executable, "-m", "console", "sim", "run", *spec, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "replaying catalog MES 1m" in first, first + err
    if ":" in spec[1]:
        assert "old spelling of --data MES --bar 1m" in err
