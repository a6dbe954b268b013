"""`scalpdesk live --sim-data PATH`: the simulator's bars; refused for non-simulator venues."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()


def test_sim_data_is_refused_for_a_broker_venue(tmp_path: Path) -> None:
    bars = tmp_path / "bars.parquet"
    bars.write_bytes(b"")
    res = runner.invoke(app, ["live", "--profile", "account_1k", "--sim-data", str(bars),
                              "--headless", "--run-for", "1"])
    assert res.exit_code == 2, res.output
    assert "--sim-data is for the local simulator" in res.output
    assert "topstepx" in res.output and "Traceback" not in res.output


def test_sim_data_must_exist(tmp_path: Path) -> None:
    res = runner.invoke(app, ["live", "--profile", "demo", "--sim-data",
                              str(tmp_path / "nope.parquet"), "--headless", "--run-for", "1"])
    assert res.exit_code == 2, res.output
    assert "no such file" in res.output and "nope.parquet" in res.output
