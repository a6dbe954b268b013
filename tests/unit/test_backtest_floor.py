"""One set of numbers (issue 11, found 4): a model's backtest applies the confidence floor
the model was trained and judged with (its config.json) unless --min-confidence overrides
it, and says which floor applied and where it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.backtest.workflow import BacktestRequest, confidence_floor, run_backtest_request
from core.config import load_profile


def _model_dir(tmp_path: Path, floor: float | None) -> Path:
    d = tmp_path / "m"
    d.mkdir()
    cfg = {"bar_seconds": 1, "feature_set": "x"}
    if floor is not None:
        cfg["min_confidence"] = floor
    (d / "config.json").write_text(json.dumps(cfg))
    return d


def test_the_models_floor_applies_unless_overridden(tmp_path: Path) -> None:
    """Failed before: the backtest used the profile's floor (0.60) for a model judged at 0.45."""
    prof = load_profile("demo")
    model = str(_model_dir(tmp_path, 0.45))
    traded, (floor, where) = confidence_floor(prof, model, None)
    assert floor == 0.45 and traded.risk.min_confidence == 0.45 and "config.json" in where
    # A floor below the first sizing step moves that step down (train's rule).
    assert traded.risk.confidence_steps[0].min_confidence <= 0.45
    traded, (floor, where) = confidence_floor(prof, model, 0.7)
    assert floor == 0.7 and traded.risk.min_confidence == 0.7 and where == "--min-confidence"
    traded, (floor, where) = confidence_floor(prof, None, None)
    assert traded is prof and floor == prof.risk.min_confidence and "demo" in where
    (tmp_path / "old").mkdir()
    _, (floor, _) = confidence_floor(prof, str(_model_dir(tmp_path / "old", None)), None)
    assert floor == prof.risk.min_confidence  # an older model without a floor: the profile's


def test_the_summary_names_the_floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.backtest.synthetic import random_walk_bars

    monkeypatch.setenv("SCALPDESK_LEDGER", str(tmp_path / "trials.jsonl"))
    data = tmp_path / "bars.parquet"
    random_walk_bars(390 * 5, seed=1, bar_seconds=60).to_parquet(data)
    rep = run_backtest_request(BacktestRequest(data=str(data), strategy="random",
                                               baseline_seeds=0, min_confidence=0.8))
    rows = dict(rep.blocks[0].rows)
    assert rows["confidence floor"] == "80% (--min-confidence)"
    assert rep.floor == (0.8, "--min-confidence")
    assert (rep.result.trades["model_confidence"] >= 0.8).all()
