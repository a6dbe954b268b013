"""`scalpdesk train` and `scalpdesk models` as a user runs them: real MES/ES 1-minute files,
a saved model with card, an honest verdict, incremental update, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("file, root", [("mes_1m_frd_2023-11-26_2023-12-11.parquet", "MES"),
                                         ("es_1m_frd_2023-09-24_2023-10-09.parquet", "ES")])
def test_train_on_real_1m_files_saves_model_card_and_verdict(shared_data: Path, tmp_path: Path,
                                                             file: str, root: str) -> None:
    models = tmp_path / "models"
    res = run("train", "--data", str(shared_data / file), "--folds", "3",
              "--models-dir", str(models), "--name", f"{root}_test")
    assert res.exit_code == 0, res.output
    assert "VERDICT:" in res.output
    assert "one bar (60 s)" in res.output  # the 30-s profile label cannot fit 1-minute bars
    d = models / f"{root}_test"
    for f in ("model/model.txt", "model/model_config.json", "calibration.json", "scaler.json",
              "config.json", "model_card.json", "report.txt"):
        assert (d / f).is_file(), f
    card = json.loads((d / "model_card.json").read_text())
    assert card["data"]["instrument"] == root and card["data"]["bar_seconds"] == 60
    assert len(card["data"]["data_hash"]) == 16 and card["features"]["names"]
    assert card["label"]["kind"] == "direction" and card["label"]["lookahead_seconds"] == 60
    assert card["folds"][-1]["holdout"] and len(card["folds"]) == 4
    assert "python" in card["libraries"] and "lightgbm" in card["libraries"]
    assert card["verdict"].startswith(("no edge", "possible edge", "too few trades", "inconclusive"))
    # Every walk-forward fold reports balanced accuracy and per-class recall.
    for f in card["folds"]:
        assert set(f["test"]["recall"]) == {"DOWN", "FLAT", "UP"}
        assert f["test"]["balanced_accuracy"] is not None
    # The saved model predicts through the live path.
    from core.datasets.readers import read_bars
    from core.ml.predictor import StreamingPredictor
    frame = read_bars(shared_data / file)[0].frame
    pred = StreamingPredictor(d)
    pred.warm_up(frame.iloc[:-5])
    for row in frame.iloc[-5:].itertuples():
        p = pred.update(row.timestamp, row.open, row.high, row.low, row.close, row.volume)
    assert p.direction in (-1, 0, 1) and 0 < p.confidence <= 1
    assert abs(sum(p.probabilities) - 1) < 1e-9 and np.isfinite(p.predicted_move)

    res = run("models", "list", "--models-dir", str(models))
    assert res.exit_code == 0 and f"{root}_test" in res.output
    res = run("models", "show", f"{root}_test", "--models-dir", str(models))
    assert res.exit_code == 0 and "VERDICT" in res.output and "holdout" in res.output

    if root == "MES":
        res = run("train", "--data", str(shared_data / file), "--update", f"{root}_test",
                  "--models-dir", str(models))
        assert res.exit_code == 0, res.output
        assert ("replaced" in res.output) or ("kept" in res.output and "unchanged" in res.output)


def test_bad_input_gives_one_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "--data", str(tmp_path / "missing.parquet")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = runner.invoke(app, ["train"])
    assert res.exit_code == 2 and "exactly one of" in res.output
    res = runner.invoke(app, ["train", "--synthetic", "1", "--model", "xgb"])
    assert res.exit_code == 2 and "unknown" in res.output
    res = runner.invoke(app, ["train", "--synthetic", "1", "--train-days", "30", "--val-days", "5",
                              "--test-days", "5", "--no-save"])
    assert res.exit_code == 2 and "too short" in res.output
    res = runner.invoke(app, ["models", "show", "nope", "--models-dir", str(tmp_path)])
    assert res.exit_code == 2 and "models list" in res.output
    res = runner.invoke(app, ["models", "list", "--models-dir", str(tmp_path)])
    assert res.exit_code == 0 and "no models" in res.output
