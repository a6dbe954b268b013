"""The sweep space file: parsing, every problem at once, grid/random plans, profile checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import load_profile
from core.errors import ConfigError
from core.sweep.apply import apply_profile, split_params
from core.sweep.context import SweepSettings
from core.sweep.search import planned_points
from core.sweep.session import check_space
from core.sweep.space import Param, load_space, parse_space

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_example_parses_and_fits_its_profile() -> None:
    sp = load_space("sweep_example")  # a bare name finds profiles/sweeps/sweep_example.toml
    assert sp.source.endswith("profiles/sweeps/sweep_example.toml")
    assert "strategy.stop_ticks" in sp.keys and sp.settings["method"] == "random"
    st_ = SweepSettings(source=sp.settings["strategy"])
    assert check_space(sp, st_, load_profile("account_1k")) == []
    # Shipped profiles are profiles only: the example must not sit among them.
    assert not (ROOT / "profiles" / "sweep_example.toml").exists()


def test_every_problem_is_reported_at_once_with_key_and_fix() -> None:
    raw = {"sweep": {"method": "grd", "folds": 0, "objectiv": "sharpe"},
           "params": {"strategy.stop_tiks": {"low": 4, "high": 16},
                      "risk.min_confidence": {"low": 0.8, "high": 0.5},
                      "label.lookahead_seconds": {"values": [30, 60]},
                      "model.num_leafs": {"values": [8]},
                      "strategy.target_ticks": {"values": []},
                      "risk.size_tiers": {"values": [1]}},
           "parms": {}}
    with pytest.raises(ConfigError) as e:
        parse_space(raw, source="my.toml")
    text = str(e.value)
    for needle in ("unknown table [parms] (did you mean 'params'?)",
                   "sweep.method: 'grd' is not one of grid, random, optuna",
                   "sweep.folds must be >= 1", "sweep.objectiv: unknown setting (did you mean 'objective'?)",
                   "(did you mean 'strategy.stop_ticks'?)", "high (0.5) must be above low (0.8)",
                   "label.* cannot be swept", "(did you mean 'num_leaves'?)",
                   "values must be a non-empty list", "list of tables and cannot be swept"):
        assert needle in text, needle
    assert all(p.startswith("my.toml: ") for p in e.value.problems)
    assert "fix:" in text


def test_missing_and_bad_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sweep space not found"):
        load_space(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[params\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_space(bad)


def test_int_float_and_categorical_kinds_and_the_grid() -> None:
    sp = parse_space({"params": {"strategy.stop_ticks": {"low": 4, "high": 8, "step": 2},
                                 "risk.min_confidence": {"low": 0.55, "high": 0.7, "step": 0.05},
                                 "strategy.on_opposite": {"values": ["reverse", "exit"]}}})
    kinds = {p.key: p.kind for p in sp.params}
    assert kinds == {"strategy.stop_ticks": "int", "risk.min_confidence": "float",
                     "strategy.on_opposite": "categorical"}
    assert sp.params[1].grid() == [0.55, 0.6, 0.65, 0.7]  # no 0.7000000000000001
    grid = sp.grid()
    assert sp.grid_size() == len(grid) == 3 * 4 * 2
    assert grid[0] == {"strategy.stop_ticks": 4, "risk.min_confidence": 0.55,
                       "strategy.on_opposite": "reverse"}
    assert len({json.dumps(g, sort_keys=True) for g in grid}) == len(grid)


def test_grid_needs_steps_and_enough_trials() -> None:
    sp = parse_space({"params": {"risk.min_confidence": {"low": 0.5, "high": 0.8}}})
    with pytest.raises(ConfigError, match="grid needs a step"):
        planned_points(sp, SweepSettings(method="grid", trials=100))
    sp = parse_space({"params": {"strategy.stop_ticks": {"low": 1, "high": 40}}})
    with pytest.raises(ConfigError, match="the grid has 40 points but --trials is 10") as e:
        planned_points(sp, SweepSettings(method="grid", trials=10))
    assert "--trials 40" in str(e.value)


def test_random_plan_is_seeded_extendable_and_without_repeats() -> None:
    sp = parse_space({"params": {"strategy.stop_ticks": {"low": 2, "high": 6},
                                 "strategy.target_ticks": {"values": [4, 8]}}})
    a = sp.random_points(8, seed=3)
    assert a == sp.random_points(8, seed=3)
    assert sp.random_points(12, seed=3)[:8] == a  # more trials continue the same sequence
    assert len({json.dumps(p, sort_keys=True) for p in a}) == 8
    assert len(sp.random_points(50, seed=3)) == 10  # a 5 × 2 space is exhausted, no spin


@settings(max_examples=60, deadline=None)
@given(low=st.integers(-50, 50), span=st.integers(1, 100), step=st.integers(1, 10),
       seed=st.integers(0, 10_000), flog=st.booleans())
def test_random_draws_stay_in_range_and_on_the_step(low: int, span: int, step: int, seed: int,
                                                    flog: bool) -> None:
    p = Param("strategy.stop_ticks", "int", low=low, high=low + span, step=step)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        v = p.sample(rng)
        assert isinstance(v, int) and low <= v <= low + span and (v - low) % step == 0
    f = Param("risk.min_confidence", "float", low=0.01, high=0.9, log=flog)
    x = f.sample(rng)
    assert isinstance(x, float) and 0.01 <= x <= 0.9


def test_profile_values_are_checked_by_the_profile_loader() -> None:
    prof = load_profile("account_1k")
    p2 = apply_profile(prof, {"strategy.stop_ticks": 10, "risk.min_confidence": np.float64(0.65)},
                       source="t")
    assert p2.strategy.stop_ticks == 10 and p2.risk.min_confidence == 0.65
    assert prof.strategy.stop_ticks != 10  # the base is untouched (frozen)
    with pytest.raises(ConfigError) as e:  # one trade may not risk more than the day's budget
        apply_profile(prof, {"risk.max_risk_per_trade": 80.0}, source="trial 3")
    assert "risk.max_risk_per_trade" in e.value.problems[0]
    assert split_params({"strategy.stop_ticks": 4, "signal.fast": 5, "model.num_leaves": 8}) == (
        {"strategy.stop_ticks": 4}, {"fast": 5}, {"num_leaves": 8})


def test_parameters_the_sweep_cannot_use_fail_before_any_work() -> None:
    prof = load_profile("account_1k")
    sp = parse_space({"params": {"model.num_leaves": {"values": [8, 16]},
                                 "signal.rate": {"values": [0.01]},
                                 "strategy.stop_ticks": {"values": [-3, -1]}}}, source="s.toml")
    with pytest.raises(ConfigError) as e:
        check_space(sp, SweepSettings(source="sma-cross"), prof)
    text = str(e.value)
    assert "need --retrain" in text and "not a knob of the sma-cross signals" in text
    assert "strategy.stop_ticks" in text
    # Partly bad ranges are a note: the refused combinations are recorded, not traded.
    sp = parse_space({"params": {"risk.max_risk_per_trade": {"values": [10.0, 80.0]}}})
    notes = check_space(sp, SweepSettings(source="sma-cross"), prof)
    assert notes and "80.0" in notes[0]
