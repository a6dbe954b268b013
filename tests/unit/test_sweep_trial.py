"""One trial is a walk-forward backtest through the real backtester; the sweep directory's
ledger is append-only, survives a torn write, and resumes without repeating a trial."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.backtest import Signals, run_backtest
from core.backtest.engine import with_strategy
from core.backtest.ledger import read_trials
from core.config import load_profile
from core.errors import ConfigError, DataError
from core.strategy.builtin import sma_cross_signals
from core.sweep.context import SweepSettings, build_context
from core.sweep.session import SweepRequest, run_sweep
from core.sweep.space import parse_space
from core.sweep.store import SweepStore, ledger_data_hash
from core.sweep.trial import TrialResult, evaluate, sharpe
from tests.unit.sweep_fixtures import noise_bars

PARAMS = {"strategy.stop_ticks": 6, "strategy.target_ticks": 10, "signal.fast": 5,
          "signal.slow": 40}


@pytest.fixture(scope="module")
def ctx() -> object:
    return build_context(noise_bars(9000, seed=4), 60, load_profile("demo"),
                         SweepSettings(source="sma-cross", folds=4, min_trades=5))


def test_trial_equals_run_backtest_fold_by_fold(ctx: object) -> None:
    res = evaluate(ctx, 3, PARAMS)
    assert res.status == "ok" and res.number == 3 and res.role == "validation"
    prof = with_strategy(load_profile("demo"), stop_ticks=6, target_ticks=10)
    sig = sma_cross_signals(ctx.bars, fast=5, slow=40)
    total = 0
    for span, fold in zip(ctx.spans, res.folds):
        part = ctx.bars.iloc[span.lo:span.hi].reset_index(drop=True)
        r = run_backtest(part, Signals(sig.direction[span.lo:span.hi],
                                       sig.confidence[span.lo:span.hi]), profile=prof)
        assert fold["trades"] == len(r.trades)
        assert fold["net_pnl"] == pytest.approx(r.net_pnl, abs=1e-9)
        total += len(r.trades)
    m = res.metrics
    assert m["trades"] == total > 0
    # Every dollar lands in exactly one day and one CSCV bucket.
    assert sum(res.daily_pnl) == pytest.approx(m["net_pnl"])
    assert sum(res.bucket_pnl) == pytest.approx(m["net_pnl"])
    assert len(res.daily_pnl) == ctx.n_val_days and len(res.bucket_pnl) == ctx.n_buckets >= 64
    assert res.objective == pytest.approx(sharpe(np.array(res.daily_pnl)))
    assert res.eligible == (m["trades"] >= 5)


def test_trial_is_deterministic_and_the_test_role_is_separate(ctx: object) -> None:
    a, b = evaluate(ctx, 0, PARAMS), evaluate(ctx, 0, PARAMS)
    assert (a.objective, a.metrics, a.folds, a.bucket_pnl) == (b.objective, b.metrics, b.folds,
                                                               b.bucket_pnl)
    t = evaluate(ctx, 0, PARAMS, role="test")
    assert t.role == "test" and [f["fold"] for f in t.folds] == [-1] and t.bucket_pnl == []
    assert len(t.daily_pnl) == ctx.n_test_days
    # The held-out test lies after every validation bar.
    assert ctx.test.lo == ctx.spans[-1].hi and ctx.test.hi == ctx.n_bars


def test_refused_combinations_are_results_not_crashes(ctx: object) -> None:
    r = evaluate(ctx, 1, {"risk.max_risk_per_trade": 80.0})
    assert r.status == "invalid" and "risk.max_risk_per_trade" in r.message
    r = evaluate(ctx, 2, {"signal.fast": 50, "signal.slow": 30})
    assert r.status == "invalid" and "fast < slow" in r.message


def test_too_little_data_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="too few"):
        build_context(noise_bars(500), 60, load_profile("demo"), SweepSettings(folds=6))
    with pytest.raises(ConfigError, match="unknown signal source"):
        build_context(noise_bars(5000), 60, load_profile("demo"), SweepSettings(source="magic"))


def test_ledger_survives_a_torn_line_and_keeps_the_first_of_each_trial(tmp_path: Path) -> None:
    store = SweepStore(tmp_path)
    for n in (0, 1, 1):
        store.append(TrialResult(number=n, params={"x": n}, status="ok", objective=float(n)))
    with open(store.ledger_path, "ab") as fh:
        fh.write(b'{"number": 2, "par')  # a kill in the middle of a write
    assert store.repair_ledger() > 0
    assert store.ledger_path.read_bytes().endswith(b"\n")
    got = store.results()
    assert sorted(got) == [0, 1] and got[1].params == {"x": 1}
    store.append(TrialResult(number=2, params={}, status="invalid", message="m"))
    assert sorted(store.results()) == [0, 1, 2]


def test_ledger_key_matches_backtest_cli() -> None:
    """Sweep trials and backtests on the same bars must be counted together."""
    from core.backtest.ledger import data_key as data_hash

    bars = noise_bars(3000, seed=9)
    assert ledger_data_hash(bars) == data_hash(bars)


def test_resume_runs_only_what_is_missing_and_counts_each_trial_once(tmp_path: Path) -> None:
    bars = noise_bars(6000, seed=2)
    space = parse_space({"params": {"strategy.stop_ticks": {"values": [4, 8, 12]},
                                    "signal.fast": {"values": [3, 8]}}})
    ledger = tmp_path / "trials.jsonl"

    def req(trials: int, resume: bool, out: str = "sw") -> SweepRequest:
        st = SweepSettings(method="random", trials=trials, folds=3, seed=5, min_trades=1,
                           source="sma-cross")
        return SweepRequest(bars=bars, bar_seconds=60, profile=load_profile("demo"),
                            space=space, settings=st, out=tmp_path / out, resume=resume,
                            workers=0, ledger=ledger)

    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    first = run_sweep(req(6, False), should_stop=stop_after_three)
    assert first.cancelled and len(first.results) == 3
    assert (tmp_path / "sw" / "trials.parquet").exists()
    with pytest.raises(ConfigError, match="already holds a sweep"):
        run_sweep(req(6, False))
    done = run_sweep(req(6, True))
    assert not done.cancelled and len(done.results) == 6
    whole = run_sweep(req(6, False, out="whole"))
    cols = [c for c in whole.analysis.frame.columns if c != "seconds"]
    pd.testing.assert_frame_equal(done.analysis.frame[cols], whole.analysis.frame[cols])
    # The project's ledger counts each trial of each sweep exactly once.
    rows = [r for r in read_trials(ledger) if r.get("kind") == "sweep"]
    assert len(rows) == 12 and len({(r["sweep_id"], r["trial"]) for r in rows}) == 12
    # The second sweep on the same data is deflated by both sweeps' trials.
    assert json.loads((tmp_path / "sw" / "summary.json").read_text())[
        "trials_counted_for_deflation"] == 6
    assert json.loads((tmp_path / "whole" / "summary.json").read_text())[
        "trials_counted_for_deflation"] == 12
    # A different sweep in the same directory is refused, naming what differs.
    other = req(6, True)
    other.settings = SweepSettings(method="random", trials=6, folds=4, seed=5, min_trades=1,
                                   source="sma-cross")
    with pytest.raises(ConfigError, match=r"identity \(folds\)"):
        run_sweep(other)


def test_a_saved_models_signals_never_trade_its_training_bars(tmp_path: Path) -> None:
    """--model: the model's training span carries no signals; all-in-sample is refused."""
    from core.training.pipeline import TrainRequest, train

    bars = noise_bars(8000, seed=6)
    prof = load_profile("demo")
    early = bars.iloc[:4000].reset_index(drop=True)
    train(early, 60, TrainRequest(profile=prof, folds=1, model_params={"num_boost_round": 15}),
          name="m", models_dir=tmp_path)
    model = str(tmp_path / "m")
    ctx = build_context(bars, 60, prof, SweepSettings(source="model", model=model, folds=3,
                                                      min_trades=1))
    assert any("training data" in n for n in ctx.notes)
    from core.strategy.model import in_sample_mask, model_training_span

    mask = in_sample_mask(bars, model_training_span(model))
    assert mask[:3000].all() and not (ctx.signals.direction[mask] != 0).any()
    assert evaluate(ctx, 0, {"risk.min_confidence": 0.34}).status == "ok"
    inside = bars.iloc[:3000].reset_index(drop=True)  # before the model's own holdout
    with pytest.raises(ConfigError, match="in-sample"):
        build_context(inside, 60, prof, SweepSettings(source="model", model=model, folds=3))
