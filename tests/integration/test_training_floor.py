"""One floor for train and backtest (issue 11): the floor ``train --auto-floor`` chose on the
final model's validation bars is saved in its config, and ``backtest`` applies that floor and
says where it came from. Misuse of the option is refused with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from console.cli.app import app
from core.backtest.workflow import confidence_floor
from core.bench.research import research_profile
from core.datasets import synth_patterns as sp
from core.training.pipeline import TrainRequest, train


def test_saved_model_keeps_its_validation_floor_and_backtest_applies_it(tmp_path: Path) -> None:
    frame, _ = sp.generate_pattern("breakout", 60, seed=3)
    prof = research_profile()
    req = TrainRequest(profile=prof, label_kind="binary", threshold_ticks=0.0,
                       lookahead_seconds=300, folds=3, auto_floor=True)
    out = train(frame, 60, req, name="bo", models_dir=tmp_path)
    final = next(r for r in out.results if r.is_holdout)
    assert final.floor_choice is not None and 0.5 <= final.floor < 1.0
    assert all(r.floor_choice is not None for r in out.results)   # every fold chose its own
    cfg = json.loads((tmp_path / "bo" / "config.json").read_text())
    assert cfg["min_confidence"] == final.floor
    assert cfg["floor"]["chosen_on"] == "validation" and cfg["floor"]["share"] > 0
    assert any("chosen on its validation bars only" in n for n in out.notes)
    assert "validation-chosen floor" in out.summary.floor_label
    applied, (floor, where) = confidence_floor(prof, str(tmp_path / "bo"), None)
    assert floor == final.floor and "chosen on its validation bars" in where
    assert applied.risk.min_confidence == final.floor
    # A floor below the profile's first sizing step moves that step, as in training.
    assert applied.risk.confidence_steps[0].min_confidence <= final.floor


def test_auto_floor_with_a_fixed_floor_is_refused() -> None:
    res = CliRunner().invoke(app, ["train", "--synthetic", "2", "--auto-floor",
                                   "--min-confidence", "0.6", "--no-save"])
    assert res.exit_code == 2, res.output
    assert "--auto-floor" in res.output and "Traceback" not in res.output
