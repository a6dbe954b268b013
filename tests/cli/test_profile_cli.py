"""`scalpdesk profile validate/set` refuse limits that would silently switch a rule off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.config import PROFILES_DIR

runner = CliRunner()


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def profile_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "mine.toml"
    shutil.copy(PROFILES_DIR / "account_1k.toml", dst)
    return dst


def test_validate_refuses_nan_limit_with_exit_2_and_the_key(profile_copy: Path) -> None:
    text = profile_copy.read_text(encoding="utf-8")
    profile_copy.write_text(text.replace("max_daily_loss = 50.0 ", "max_daily_loss = nan  "),
                            encoding="utf-8")
    res = run("profile", "validate", str(profile_copy))
    assert res.exit_code == 2, res.output
    assert "risk.max_daily_loss" in res.output and "finite" in res.output
    assert "Traceback" not in res.output


def test_validate_refuses_daily_loss_above_the_account(profile_copy: Path) -> None:
    text = profile_copy.read_text(encoding="utf-8")
    profile_copy.write_text(text.replace("max_daily_loss = 50.0 ", "max_daily_loss = 5000.0"),
                            encoding="utf-8")
    res = run("profile", "validate", str(profile_copy))
    assert res.exit_code == 2, res.output
    assert "risk.max_daily_loss" in res.output and "risk.starting_balance" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("value", ["nan", "inf", "5000"])
def test_set_refuses_and_leaves_the_file_alone(profile_copy: Path, value: str) -> None:
    before = profile_copy.read_bytes()
    res = run("profile", "set", str(profile_copy), "risk.max_daily_loss", value)
    assert res.exit_code == 2, res.output
    assert "risk.max_daily_loss" in res.output and "Traceback" not in res.output
    assert profile_copy.read_bytes() == before


def test_validate_shipped_profiles_ok() -> None:
    for path in sorted(PROFILES_DIR.glob("*.toml")):
        res = run("profile", "validate", str(path))
        assert res.exit_code == 0, res.output
