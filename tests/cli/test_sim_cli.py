"""`scalpdesk sim run`: help, and bad input → one clear message, exit code 2."""

from __future__ import annotations

from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()


def test_sim_run_help_teaches() -> None:
    r = runner.invoke(app, ["sim", "run", "--help"])
    assert r.exit_code == 0
    assert "--faults" in r.output and "--speed" in r.output


def test_bad_faults_are_all_reported() -> None:
    r = runner.invoke(app, ["sim", "run", "--faults", "drop,bogus:1,dup:7"])
    assert r.exit_code == 2
    assert "bogus" in r.output and "dup:7" in r.output and "drop" in r.output


def test_missing_data_file_exit_2() -> None:
    r = runner.invoke(app, ["sim", "run", "--data", "no/such/file.parquet"])
    assert r.exit_code == 2 and "catalog entry" in r.output


def test_bad_account_size_exit_2() -> None:
    r = runner.invoke(app, ["sim", "run", "--account-size", "7"])
    assert r.exit_code == 2 and "50000" in r.output
