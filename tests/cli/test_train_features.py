"""`scalpdesk train --features LIST` as a user runs it (issue 11, found item 1): the model fits on
the chosen columns, saves them, and every path that uses it — live streaming predictor,
backtest, `train --update` — reads the same columns; each list tried is a ledger trial; bad
lists are refused with the valid choices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.datasets import synth_patterns as sp

runner = CliRunner()
HYPOTHESIS = "ret_1m,bar_dir,volume_rel_1h"


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def vb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame, _ = sp.generate_pattern("volume_burst", 40, seed=5)
    path = tmp_path_factory.mktemp("vb") / "vb.parquet"
    frame.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def trained(vb_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    import os
    models = tmp_path_factory.mktemp("models")
    ledger = models / "trials.jsonl"
    old = os.environ.get("SCALPDESK_LEDGER")
    os.environ["SCALPDESK_LEDGER"] = str(ledger)
    try:
        res = run("train", "--data", str(vb_file), "--label", "binary", "--threshold", "0",
                  "--lookahead", "300", "--folds", "2", "--auto-floor", "--features", HYPOTHESIS,
                  "--profile", "topstep_50k_combine", "--models-dir", str(models), "--name", "vb")
    finally:
        if old is None:
            os.environ.pop("SCALPDESK_LEDGER", None)
        else:
            os.environ["SCALPDESK_LEDGER"] = old
    assert res.exit_code == 0, res.output
    return models / "vb", res.output + "\n" + ledger.read_text()


def test_the_model_is_fitted_and_saved_on_the_chosen_columns(trained: tuple[Path, str]) -> None:
    d, output = trained
    assert "the model sees 3 chosen feature(s): ret_1m, bar_dir, volume_rel_1h" in output
    assert "no mirror orientation" not in output        # bar_dir and ret_1m are there
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["feature_names"] == ["ret_1m", "bar_dir", "volume_rel_1h"]
    assert cfg["feature_subset"] is True and cfg["feature_set"] == "default_1m"
    card = json.loads((d / "model_card.json").read_text())
    assert card["features"]["chosen"] is True and len(card["features"]["names"]) == 3
    mcfg = json.loads((d / "model" / "model_config.json").read_text())
    assert mcfg["feature_names"] == cfg["feature_names"]   # the booster saw 3 columns
    # The ledger records the list: a second list on the same data is a second trial.
    rec = json.loads(output.strip().splitlines()[-1])
    assert rec["kind"] == "train" and rec["features"] == HYPOTHESIS


def test_streaming_predictions_equal_the_backtests_batch_signals(
        trained: tuple[Path, str], vb_file: Path) -> None:
    import pandas as pd

    from core.ml.predictor import StreamingPredictor
    from core.strategy.model import model_signals

    d, _ = trained
    frame = pd.read_parquet(vb_file)
    sig = model_signals(frame, d)
    pred = StreamingPredictor(d)
    tail = 300
    pred.warm_up(frame.iloc[:-tail])
    conf, direc = [], []
    for row in frame.iloc[-tail:].itertuples():
        p = pred.update(row.timestamp, row.open, row.high, row.low, row.close, row.volume)
        conf.append(p.confidence)
        direc.append(p.direction)
    np.testing.assert_allclose(conf, sig.confidence[-tail:], rtol=0, atol=1e-9)
    assert direc == list(sig.direction[-tail:])
    assert pred.ready   # warm-up judged on the model's 3 columns


def test_backtest_and_update_use_the_same_columns(trained: tuple[Path, str], vb_file: Path,
                                                  tmp_path: Path) -> None:
    import shutil
    d, _ = trained
    res = run("backtest", "--data", str(vb_file), "--model", str(d),
              "--profile", "topstep_50k_combine")
    assert res.exit_code == 0, res.output
    assert "confidence floor" in res.output and "chosen on its validation bars" in res.output
    copy = tmp_path / "models" / "vb"
    shutil.copytree(d, copy)
    res = run("train", "--data", str(vb_file), "--update", "vb", "--models-dir",
              str(tmp_path / "models"), "--profile", "topstep_50k_combine")
    assert res.exit_code == 0, res.output
    assert "replaced" in res.output or "unchanged" in res.output
    cfg = json.loads((copy / "config.json").read_text())
    assert cfg["feature_names"] == ["ret_1m", "bar_dir", "volume_rel_1h"]


def test_a_list_without_a_reference_direction_trains_unoriented_and_says_so(
        vb_file: Path) -> None:
    res = run("train", "--data", str(vb_file), "--label", "binary", "--threshold", "0",
              "--lookahead", "300", "--folds", "2", "--features", "volume_rel_1h,range",
              "--no-save")
    assert res.exit_code == 0, res.output
    assert "no mirror orientation" in res.output


def test_bad_lists_are_refused_with_the_choices(vb_file: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "--data", str(vb_file), "--features", "ret_1m,volume_z",
                              "--no-save"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "'volume_z'" in res.output and "volume_rel_1h" in res.output
    res = runner.invoke(app, ["train", "--data", str(vb_file), "--features", " , ",
                              "--no-save"])
    assert res.exit_code == 2 and "--features is empty" in res.output
    res = runner.invoke(app, ["train", "--data", str(vb_file), "--features", "ret_1m",
                              "--update", "vb", "--models-dir", str(tmp_path)])
    assert res.exit_code == 2 and "--update keeps the model's own features" in res.output
    res = runner.invoke(app, ["bench", "research", "--seeds", "1", "--patterns", "breakout",
                              "--fold-runs", "0", "--features", "nope"])
    assert res.exit_code == 2 and "'nope'" in res.output
    res = runner.invoke(app, ["bench", "research", "--seeds", "1", "--days", "5"])
    assert res.exit_code == 2 and "--days" in res.output


def test_a_model_whose_chosen_column_vanished_is_refused(trained: tuple[Path, str],
                                                         vb_file: Path, tmp_path: Path) -> None:
    import shutil

    from core.errors import ModelError
    from core.ml.predictor import StreamingPredictor
    d, _ = trained
    copy = tmp_path / "vb_old"
    shutil.copytree(d, copy)
    cfg = json.loads((copy / "config.json").read_text())
    cfg["feature_names"] = ["ret_1m", "bar_dir", "volume_z_1h"]   # a column the set lost
    (copy / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="volume_z_1h"):
        StreamingPredictor(copy)
    res = runner.invoke(app, ["backtest", "--data", str(vb_file), "--model", str(copy)])
    assert res.exit_code == 2 and "volume_z_1h" in res.output and "Traceback" not in res.output


def test_a_run_on_all_features_that_finds_nothing_points_to_features(vb_file: Path,
                                                                     trained: tuple[Path, str]
                                                                     ) -> None:
    res = run("train", "--data", str(vb_file), "--label", "binary", "--threshold", "0",
              "--lookahead", "300", "--folds", "2", "--no-save")
    assert res.exit_code == 0, res.output
    if "VERDICT: possible edge" not in res.output:
        assert "state it with --features" in res.output
    assert "state it with --features" not in trained[1]   # a chosen list gets no such hint
