"""Issue 12, profiles: user profiles with ``extends``, read-only shipped ones, TOML ``show``,
``set`` that echoes old → new and takes negative numbers, hints with the full dotted key."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.config import PROFILES_DIR, load_profile, profile_from_dict

runner = CliRunner()


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCALPDESK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_new_writes_a_user_profile_that_extends_and_set_echoes_old_to_new(home: Path) -> None:
    res = run("profile", "new", "mine", "--from", "account_1k")
    assert res.exit_code == 0, res.output
    path = home / "profiles" / "mine.toml"
    assert path.is_file() and 'extends = "account_1k"' in path.read_text()
    assert not (PROFILES_DIR / "mine.toml").exists()  # never inside the checkout
    res = run("profile", "set", "mine", "risk.max_daily_loss", "40")
    assert res.exit_code == 0, res.output
    assert "risk.max_daily_loss: 50 → 40" in res.stdout
    prof = load_profile("mine")
    assert prof.risk.max_daily_loss == 40 and prof.extends == "account_1k"
    assert prof.risk.kill_switch_loss == load_profile("account_1k").risk.kill_switch_loss
    assert "max_daily_loss = 40" in path.read_text()
    assert run("profile", "new", "mine").exit_code == 2  # exists: refused, not overwritten
    res = run("profile", "new", "demo")
    assert res.exit_code == 2 and "shipped profile" in res.stderr


def test_set_on_a_shipped_profile_is_refused_and_says_how_to_copy_it(home: Path) -> None:
    before = (PROFILES_DIR / "account_1k.toml").read_bytes()
    res = run("profile", "set", "account_1k", "risk.max_daily_loss", "40")
    assert res.exit_code == 2
    assert "read-only" in res.stderr and "profile new my_account_1k --from account_1k" in res.stderr
    assert (PROFILES_DIR / "account_1k.toml").read_bytes() == before


def test_negative_numbers_are_values_not_options(home: Path) -> None:
    assert run("profile", "new", "mine").exit_code == 0
    res = run("profile", "set", "mine", "risk.max_daily_loss", "-40")
    assert res.exit_code == 2
    assert "No such option" not in res.output
    assert "risk.max_daily_loss" in res.stderr and "got -40" in res.stderr


def test_hints_give_the_full_dotted_key(home: Path) -> None:
    assert run("profile", "new", "mine").exit_code == 0
    res = run("profile", "set", "mine", "risk.max_daly_loss", "40")
    assert res.exit_code == 2 and "did you mean 'risk.max_daily_loss'?" in res.stderr
    res = run("profile", "set", "mine", "max_daily_loss", "40")
    assert res.exit_code == 2 and "did you mean 'risk.max_daily_loss'?" in res.stderr


@pytest.mark.parametrize("name", ["account_1k", "topstep_50k_combine", "demo"])
def test_show_prints_valid_commented_toml_that_loads_as_the_profile(home: Path, name: str) -> None:
    res = run("profile", "show", name)
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "[risk]" in text and "[costs]" in text and "[[risk.size_tiers]]" in text
    assert "SizeTier(" not in text and "# default" in text
    again = profile_from_dict(tomllib.loads(text))
    assert dataclasses.replace(load_profile(name), path=None) == again


def test_show_of_an_extending_profile_marks_inherited_values(home: Path) -> None:
    assert run("profile", "new", "mine").exit_code == 0
    assert run("profile", "set", "mine", "risk.max_daily_loss", "40").exit_code == 0
    text = run("profile", "show", "mine").stdout
    assert "max_daily_loss = 40.0\n" in text and "kill_switch_loss = 300.0 # from account_1k" in text
    assert profile_from_dict(tomllib.loads(text)).risk.max_daily_loss == 40


def test_extends_problems_name_the_file_and_fix(home: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\n')
    b.write_text('extends = "a.toml"\n')
    res = run("profile", "validate", str(a))
    assert res.exit_code == 2 and "circle" in res.stderr
    a.write_text('extends = "acount_1k"\n')
    res = run("profile", "validate", str(a))
    assert res.exit_code == 2 and "did you mean 'account_1k'?" in res.stderr
    a.write_text('extends = "account_1k"\n[risk]\nmax_daily_los = 40\n')
    res = run("profile", "validate", str(a))
    assert res.exit_code == 2 and "a.toml (extends account_1k)" in res.stderr
    assert "did you mean 'risk.max_daily_loss'?" in res.stderr


def test_list_shows_user_and_shipped_profiles(home: Path) -> None:
    assert run("profile", "new", "mine").exit_code == 0
    res = run("profile", "list")
    assert res.exit_code == 0
    assert "mine" in res.stdout and "user" in res.stdout and "shipped" in res.stdout
    assert str(home / "profiles") in res.stdout


def test_set_one_row_of_an_array_of_tables(home: Path) -> None:
    """Lowering the confidence floor needs the first sizing step lowered too; arrays of
    tables replace the base's whole array, so the inherited rows are copied first."""
    assert run("profile", "new", "mine").exit_code == 0
    res = run("profile", "set", "mine", "risk.confidence_steps[0].min_confidence", "0.46")
    assert res.exit_code == 0, res.output
    assert "risk.confidence_steps[0].min_confidence: 0.6 → 0.46" in res.stdout
    steps = load_profile("mine").risk.confidence_steps
    assert [s.min_confidence for s in steps] == [0.46, 0.7, 0.8, 0.9]
    assert [s.multiplier for s in steps] == [s.multiplier for s in
                                             load_profile("account_1k").risk.confidence_steps]
    res = run("profile", "set", "mine", "risk.confidence_steps[9].multiplier", "1")
    assert res.exit_code == 2 and "4 row(s)" in res.stderr
    res = run("profile", "set", "mine", "risk.confidence_steps[0].min_conf", "0.5")
    assert res.exit_code == 2 and "did you mean 'risk.confidence_steps[0].min_confidence'?" \
        in res.stderr
    res = run("profile", "set", "mine", "risk.confidence_steps[1].min_confidence", "0.3")
    assert res.exit_code == 2 and "ascending" in res.stderr  # checked before it is written
