"""Optuna sweeps: batches make them independent of timing, a resume re-runs the trials that
were asked but never told, the study lives in Optuna's RDB storage and can be shared."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("optuna")

from core.config import load_profile  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.sweep.context import SweepSettings  # noqa: E402
from core.sweep.search import check_storage  # noqa: E402
from core.sweep.session import SweepRequest, run_sweep  # noqa: E402
from core.sweep.space import parse_space  # noqa: E402
from tests.unit.sweep_fixtures import noise_bars  # noqa: E402

SPACE = parse_space({"params": {"strategy.stop_ticks": {"low": 4, "high": 16},
                                "risk.min_confidence": {"low": 0.5, "high": 0.74},
                                "signal.fast": {"values": [3, 5, 8]}}})


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return noise_bars(6000, seed=8)


def _req(bars: pd.DataFrame, out: Path, **kw: object) -> SweepRequest:
    st = SweepSettings(method="optuna", trials=12, folds=3, seed=4, min_trades=3,
                       source="sma-cross")
    return SweepRequest(bars=bars, bar_seconds=60, profile=load_profile("demo"), space=SPACE,
                        settings=st, out=out, workers=0, batch=4,
                        ledger=out.parent / f"{out.name}.jsonl", **kw)


def _frame(out: object) -> pd.DataFrame:
    f = out.analysis.frame
    return f[[c for c in f.columns if c != "seconds"]]


def test_interrupted_mid_batch_resumes_exactly(bars: pd.DataFrame, tmp_path: Path) -> None:
    whole = run_sweep(_req(bars, tmp_path / "whole"))
    assert len(whole.results) == 12
    seen = {"n": 0}

    def stop() -> bool:  # checked before each trial: stop inside the second batch of four
        seen["n"] += 1
        return seen["n"] > 6

    part = run_sweep(_req(bars, tmp_path / "part"), should_stop=stop)
    assert part.cancelled and len(part.results) == 6
    import optuna

    study = optuna.load_study(study_name=f"scalpdesk-{_sweep_id(tmp_path / 'part')}",
                              storage=f"sqlite:///{tmp_path / 'part' / 'study.db'}")
    running = [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert len(running) == 2  # asked, never told
    done = run_sweep(_req(bars, tmp_path / "part", resume=True))
    assert len(done.results) == 12
    pd.testing.assert_frame_equal(_frame(done), _frame(whole))


def _sweep_id(out: Path) -> str:
    import json

    return json.loads((out / "manifest.json").read_text())["sweep_id"]


def test_two_sweeps_share_one_study(bars: pd.DataFrame, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    a = run_sweep(_req(bars, tmp_path / "a", storage=storage, study="team"))
    b = run_sweep(_req(bars, tmp_path / "b", storage=storage, study="team"))
    # Trial numbers are the study's: the second machine continues after the first.
    assert {r.number for r in a.results} == set(range(12))
    assert {r.number for r in b.results} == set(range(12, 24))
    assert b.analysis.n_trials_counted >= 24  # the deflation pays for both


def test_storage_urls_are_checked() -> None:
    assert check_storage("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    with pytest.raises(ConfigError, match="not a database URL"):
        check_storage("redis://localhost")
    if importlib.util.find_spec("psycopg2") is None:
        with pytest.raises(ConfigError, match="psycopg2") as e:
            check_storage("postgresql://me:secret@db.example/optuna")
        assert "secret" not in str(e.value)  # a password never reaches the terminal
    else:  # pragma: no cover - depends on the install
        assert check_storage("postgresql://me@db/optuna").startswith("postgresql")
