"""`scalpdesk data …` and `bench data` as a user runs them: real files, clear errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def synth_file(tmp_path: Path) -> Path:
    out = tmp_path / "mes.parquet"
    res = run("data", "synth", "--days", "1", "--seed", "3", "--rth-only", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert out.exists()
    return out


def test_synth_validate_import_info_resample(tmp_path: Path, synth_file: Path) -> None:
    cat = tmp_path / "catalog"
    res = run("data", "validate", str(synth_file))
    assert res.exit_code == 0, res.output
    assert "ok" in res.output
    res = run("data", "import", str(synth_file), "--catalog", str(cat))
    assert res.exit_code == 0, res.output
    assert "imported" in res.output and "new rows" in res.output
    res = run("data", "import", str(synth_file), "--catalog", str(cat))  # again: all duplicates
    assert res.exit_code == 0 and " 0 new rows" in res.output
    res = run("data", "info", "--catalog", str(cat))
    assert res.exit_code == 0 and "MES" in res.output and "1s" in res.output
    res = run("data", "resample", "MES", "--to", "1m", "--catalog", str(cat))
    assert res.exit_code == 0, res.output
    res = run("data", "info", "--catalog", str(cat))
    assert "1m" in res.output


def test_missing_path_is_exit_2_without_traceback(tmp_path: Path) -> None:
    res = run("data", "validate", str(tmp_path / "nope.parquet"))
    assert res.exit_code == 2
    assert "nope.parquet" in res.output and "Traceback" not in res.output


def test_bad_rows_fail_and_nothing_is_imported(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,open,high,low,close,volume\n"
                   "2024-03-04 10:00:00,5000.00,5001.00,4999.00,5000.50,10\n"
                   "2024-03-04 10:01:00,5000.50,5000.00,4999.00,5000.25,10\n")  # high < open
    cat = tmp_path / "catalog"
    res = run("data", "import", str(csv), "--symbol", "MES", "--catalog", str(cat))
    assert res.exit_code == 2, res.output
    assert "bad.csv" in res.output and "nothing imported" in res.output
    assert not cat.exists() or not any(cat.rglob("*.parquet"))


def test_bad_option_values(synth_file: Path) -> None:
    res = run("data", "resample", str(synth_file), "--to", "7m")
    assert res.exit_code == 2 and "7m" in res.output
    res = run("data", "validate", str(synth_file), "--format", "xls")
    assert res.exit_code == 2 and "xls" in res.output


def test_real_files_validate(shared_data: Path) -> None:
    res = run("data", "validate", str(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet"))
    assert res.exit_code == 0, res.output


def test_bench_data_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALPDESK_BENCH_DIR", str(tmp_path / "bench"))
    import core.bench.data as bd
    monkeypatch.setattr(bd, "BENCH_DIR", tmp_path / "bench")
    res = run("bench", "data", "--rows", "20000", "--runs", "1", "--csv-lines", "5000")
    assert res.exit_code == 0, res.output
    assert "load + validate + RTH" in res.output and "peak memory" in res.output
    assert "1-minute CSV" in res.output


def test_profile_cli_roundtrip(tmp_path: Path) -> None:
    import shutil

    from core.config import PROFILES_DIR
    p = tmp_path / "mine.toml"
    shutil.copy(PROFILES_DIR / "account_1k.toml", p)
    assert run("profile", "set", str(p), "risk.max_daily_loss", "40").exit_code == 0
    assert "max_daily_loss = 40" in p.read_text()
    res = run("profile", "set", str(p), "risk.max_daily_los", "40")
    assert res.exit_code == 2 and "did you mean 'risk.max_daily_loss'" in res.output
    assert run("profile", "show", "demo").exit_code == 0
