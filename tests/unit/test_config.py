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
    # issue 12: the hint gives the full dotted key, as the user must type it
    assert "risk.max_daily_los: unknown key (did you mean 'risk.max_daily_loss'?)" in msg
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
    with pytest.raises(ConfigError, match="did you mean 'risk.max_daily_loss'"):
        set_profile_value(path, "risk.max_daily_lose", "5")
    assert path.read_text() == before
    assert not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------- issue 8, defect 2
# Limits that silently switched a rule off (nan compares False to everything; a daily loss
# bigger than the account can never fire) used to pass validate and set.

def _edited(tmp_path: Path, name: str = "account_1k", **changes: object) -> Path:
    """A copy of a shipped profile with ``section.key`` (or ``section.table[i].key``) changed.

    Keys are given with ``__`` for dots and ``_i_`` rows, e.g. ``risk__max_daily_loss``.
    """
    import tomlkit

    path = _copy(tmp_path, name)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = doc
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]  # type: ignore[index]
        if value is None:
            del node[leaf]  # type: ignore[union-attr]
        else:
            node[leaf] = value  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    return exc.value.problems


def _one(problems: list[str], key: str) -> str:
    hits = [p for p in problems if f": {key}: " in p]
    assert len(hits) == 1, f"expected one problem for {key}, got {problems}"
    return hits[0]


@pytest.mark.parametrize("key", [
    "risk__max_daily_loss", "risk__max_daily_drawdown", "risk__max_risk_per_trade",
    "risk__kill_switch_loss", "risk__min_balance", "risk__volatility_breaker_multiple",
    "costs__commission_round_trip", "schedule__reduce_factor", "risk__size_tiers__0__risk_pct",
])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(tmp_path: Path, key: str, bad: float) -> None:
    problems = _problems(_edited(tmp_path, **{key: bad}))
    dotted = key.replace("__0__", "[0].").replace("__", ".")
    msg = _one(problems, dotted)
    assert f"must be a finite number, got {bad}" in msg
    assert len(problems) == 1  # no follow-on coherence noise about the same or related keys


def test_daily_loss_larger_than_the_account_is_refused(tmp_path: Path) -> None:
    msg = _one(_problems(_edited(tmp_path, risk__max_daily_loss=5000.0)), "risk.max_daily_loss")
    assert "below risk.starting_balance (1000), got 5000" in msg
    assert "e.g. 50" in msg


def test_trade_risk_above_the_daily_budget_is_refused(tmp_path: Path) -> None:
    msg = _one(_problems(_edited(tmp_path, risk__max_risk_per_trade=80.0)), "risk.max_risk_per_trade")
    assert "80 is above risk.max_daily_loss (50)" in msg and "set it ≤ 50" in msg


def test_kill_switch_beyond_the_balance_is_refused(tmp_path: Path) -> None:
    msg = _one(_problems(_edited(tmp_path, risk__kill_switch_loss=1500.0)), "risk.kill_switch_loss")
    assert "at most risk.starting_balance (1000), got 1500" in msg


def test_topstep_daily_loss_limit_above_the_mll_is_refused(tmp_path: Path) -> None:
    path = _edited(tmp_path, "topstep_50k_combine", topstep__daily_loss_limit=2500.0)
    msg = _one(_problems(path), "topstep.daily_loss_limit")
    assert "2500 is above topstep.max_loss_limit (2000)" in msg and "delete the line" in msg


def test_topstep_mll_must_fit_in_the_account_but_xfa_may_lock_at_zero(tmp_path: Path) -> None:
    msg = _one(_problems(_edited(tmp_path, "topstep_50k_combine", topstep__max_loss_limit=60000.0)),
               "topstep.max_loss_limit")
    assert "below risk.starting_balance (50000), got 60000" in msg
    assert _one(_problems(_edited(tmp_path, "topstep_50k_combine", topstep__max_loss_limit=0.0)),
                "topstep.max_loss_limit")
    # The XFA README: after the first payout set max_loss_limit = 0.0 (a real rule, not "off").
    prof = load_profile(_edited(tmp_path, "topstep_50k_xfa", topstep__max_loss_limit=0.0))
    assert prof.topstep is not None and prof.topstep.max_loss_limit == 0.0


def test_out_of_order_schedule_names_both_keys(tmp_path: Path) -> None:
    problems = _problems(_edited(tmp_path, schedule__exit_at="16:35"))
    msg = _one(problems, "schedule.flat_at")
    assert "'16:30' is before schedule.exit_at ('16:35')" in msg
    # A continuous market has no end-of-day flatten: the order is not enforced there.
    load_profile(_edited(tmp_path, schedule__exit_at="16:35", schedule__sessions="continuous"))


def test_allow_reversal_rename_is_explained(tmp_path: Path) -> None:
    msg = _one(_problems(_edited(tmp_path, strategy__allow_reversal=True)), "strategy.allow_reversal")
    assert 'renamed: use on_opposite = "reverse" (was true) or "exit" (was false)' in msg
    with pytest.raises(ConfigError, match="renamed: use on_opposite"):
        set_profile_value(_copy(tmp_path), "strategy.allow_reversal", "true")


def test_old_cooldown_minus_one_is_refused_with_the_new_meaning(tmp_path: Path) -> None:
    msg = _one(_problems(_edited(tmp_path, strategy__cooldown_bars=-1)), "strategy.cooldown_bars")
    assert "0 now lets a signal on the exit bar itself enter" in msg


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_set_non_finite_is_refused_and_file_byte_identical(tmp_path: Path, value: str) -> None:
    path = _copy(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as exc:
        set_profile_value(path, "risk.max_daily_loss", value)
    assert "risk.max_daily_loss: must be a finite number" in str(exc.value)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_set_incoherent_limit_is_refused_and_file_byte_identical(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="risk.max_daily_loss: must be greater than 0 and below"):
        set_profile_value(path, "risk.max_daily_loss", "5000")
    assert path.read_bytes() == before


def test_many_problems_reported_at_once(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        risk__max_daily_loss=5000.0,          # above the account
        risk__max_daily_drawdown=float("nan"),  # non-finite
        risk__min_confidence=1.5,             # not a probability
        risk__spread_resume_ticks=3.0,        # resumes above the pause level
        risk__size_tiers__1__min_balance=500.0,  # tiers out of order
        risk__confidence_steps__0__multiplier=0.0,
        risk__loss_pauses__0__losses=0,
        costs__slippage_ticks=-1.0,
        schedule__reduce_factor=0.0,
        schedule__no_new_entries_at="15:00",  # before reduce_size_at 16:00
        strategy__atr_period=0,
        label__lookahead_seconds=0,
        label__threshold_ticks="3",           # a type problem does not hide the range problems
    )
    problems = _problems(path)
    for key in ("risk.max_daily_loss", "risk.max_daily_drawdown", "risk.min_confidence",
                "risk.spread_resume_ticks", "risk.size_tiers", "risk.confidence_steps[0].multiplier",
                "risk.loss_pauses[0].losses", "costs.slippage_ticks", "schedule.reduce_factor",
                "schedule.no_new_entries_at", "strategy.atr_period", "label.lookahead_seconds",
                "label.threshold_ticks"):
        _one(problems, key)
    assert len(problems) == 13
    assert all(p.startswith(f"{path}: ") for p in problems)


@pytest.mark.parametrize("path", sorted(PROFILES_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_profile_passes_the_coherence_rules(path: Path) -> None:
    p = load_profile(path)
    r = p.risk
    assert 0 < r.max_risk_per_trade <= r.max_daily_loss < r.starting_balance
    assert 0 <= r.min_balance < r.starting_balance
    if p.topstep is not None:
        assert p.topstep.daily_loss_limit is None or p.topstep.daily_loss_limit <= p.topstep.max_loss_limit


def test_topstep_starting_balance_must_be_the_account_size(tmp_path: Path) -> None:
    path = _edited(tmp_path, "topstep_50k_xfa", risk__starting_balance=1e18)
    msg = _one(_problems(path), "risk.starting_balance")
    assert "differs from topstep.account_size (50000)" in msg and "set it to 50000" in msg
