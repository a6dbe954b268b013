"""Profiles load into frozen typed settings; every problem is reported at once."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from core.config import PROFILES_DIR, load_profile, set_profile_value
from core.errors import ConfigError


def _copy(tmp_path: Path, name: str = "account_1k") -> Path:
    dst = tmp_path / f"{name}.toml"
    shutil.copy(PROFILES_DIR / f"{name}.toml", dst)
    return dst


@pytest.mark.parametrize("path", sorted(PROFILES_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_profile_loads(path: Path) -> None:
    prof = load_profile(path)
    assert prof.risk.max_daily_loss > 0
    assert prof.costs.commission_round_trip >= 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        prof.risk.max_daily_loss = 1.0  # type: ignore[misc]


def test_account_1k_numbers_match_requirements() -> None:
    p = load_profile("account_1k")
    r = p.risk
    assert (r.max_daily_loss, r.max_daily_drawdown, r.max_risk_per_trade) == (50, 75, 25)
    assert (r.account_drawdown_stop, r.kill_switch_loss, r.min_balance) == (200, 300, 700)
    assert [(lp.losses, lp.minutes) for lp in r.loss_pauses] == [(3, 15), (5, 30)]
    assert p.costs.commission_round_trip == pytest.approx(0.84)
    assert p.schedule.flat_at == "16:30"


def test_all_problems_reported_at_once_with_suggestions(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text()
    text = re.sub(r"(?m)^max_daily_loss = ", "max_daily_los = ", text)
    text = re.sub(r"(?m)^(min_confidence = )0\.60(\s)", r"\1'high'\2", text, count=1)
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    msg = str(exc.value)
    assert str(path) in msg
    assert "risk.max_daily_los: unknown key (did you mean 'max_daily_loss'?)" in msg
    assert "risk.max_daily_loss: missing" in msg
    assert "risk.min_confidence: expected a number" in msg
    assert len(exc.value.problems) >= 3


def test_bad_choice_and_time_reported(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text().replace('slippage_model = "session"', 'slippage_model = "sesion"')
    text = text.replace('flat_at = "16:30"', 'flat_at = "4:30pm"')
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    msg = str(exc.value)
    assert "strategy.slippage_model: 'sesion' is not one of" in msg and "did you mean 'session'" in msg
    assert "schedule.flat_at: '4:30pm' is not a time" in msg


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[risk\nmax = 1\n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_profile(path)


def test_unknown_profile_suggests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'demo'"):
        load_profile("dmeo")


def test_set_value_keeps_comments(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = path.read_text()
    prof = set_profile_value(path, "risk.max_daily_loss", "60")
    assert prof.risk.max_daily_loss == 60
    after = path.read_text()
    assert "stop for the day; resume next session 09:30 ET" in after
    assert after.count("#") == before.count("#")
    assert "max_daily_loss = 60" in after


def test_set_bad_value_leaves_file_untouched(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = path.read_text()
    with pytest.raises(ConfigError, match="must be greater than 0"):
        set_profile_value(path, "risk.max_daily_loss", "-5")
    with pytest.raises(ConfigError, match="did you mean 'max_daily_loss'"):
        set_profile_value(path, "risk.max_daily_lose", "5")
    assert path.read_text() == before
    assert not list(tmp_path.glob(".*.tmp"))
