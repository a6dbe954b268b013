"""Issue 12, boundary: inputs that used to end in a traceback give one clear exit-2 message.

Each case was reproduced by a user; the message names the input and the fix, and nothing is
written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()
MES_1M = "mes_1m_frd_2023-11-26_2023-12-11.parquet"


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_resample_out_directory_is_refused(tmp_path: Path, shared_data: Path) -> None:
    target = tmp_path / "outdir"
    target.mkdir()
    res = run("data", "resample", str(shared_data / MES_1M), "--to", "5m", "--out", str(target))
    assert res.exit_code == 2
    assert "is a directory" in res.stderr and "bars.parquet" in res.stderr
    assert list(target.iterdir()) == [] and not list(tmp_path.glob(".*tmp"))


def test_resample_out_with_a_foreign_suffix_is_refused(tmp_path: Path, shared_data: Path) -> None:
    res = run("data", "resample", str(shared_data / MES_1M), "--to", "5m", "--out",
              str(tmp_path / "x.csv"))
    assert res.exit_code == 2 and ".parquet" in res.stderr
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("start", ["2024-13-45", "yesterday-ish", "1800-01-01"])
def test_synth_bad_start_is_a_clear_error(tmp_path: Path, start: str) -> None:
    res = run("data", "synth", "--start", start, "--days", "1", "--out", str(tmp_path / "s.parquet"))
    assert res.exit_code == 2, res.output
    assert repr(start) in res.stderr and ("YYYY-MM-DD" in res.stderr or "2024-01-02" in res.stderr)
    assert not (tmp_path / "s.parquet").exists()


def test_synth_too_many_days_is_refused_before_any_work(tmp_path: Path) -> None:
    res = run("data", "synth", "--days", "100000", "--out", str(tmp_path / "s.parquet"))
    assert res.exit_code == 2, res.output
    assert "100,000" in res.stderr and "1,000" in res.stderr
