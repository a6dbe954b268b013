"""PBO by CSCV: high when the trials differ only by luck, low when one really is better —
on P&L matrices, and end to end on sweeps over synthetic markets through the backtester."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sweep.context import SweepSettings
from core.sweep.pbo import cscv_pbo
from core.sweep.session import SweepRequest, run_sweep
from core.sweep.stability import importance, neighbourhood
from tests.unit.sweep_fixtures import cycle_bars, frictionless, noise_bars, sma_space


def test_pbo_is_high_on_pure_noise_and_low_with_a_real_winner() -> None:
    rng = np.random.default_rng(11)
    noise = [cscv_pbo(rng.normal(size=(128, 60))).pbo for _ in range(4)]
    assert np.mean(noise) > 0.3  # the in-sample best is a coin flip out of sample
    m = rng.normal(size=(128, 60))
    m[:, 17] += 0.6  # one trial with a real edge in every period
    r = cscv_pbo(m)
    assert r.pbo < 0.1 and r.prob_oos_loss < 0.1
    assert r.n_blocks == 16 and r.n_splits == 12_870 and r.n_trials == 60


@settings(max_examples=30, deadline=None)
@given(t=st.integers(8, 80), n=st.integers(2, 30), seed=st.integers(0, 10_000),
       blocks=st.sampled_from([4, 6, 8, 16]))
def test_pbo_properties(t: int, n: int, seed: int, blocks: int) -> None:
    m = np.random.default_rng(seed).normal(size=(t, n))
    r = cscv_pbo(m, n_blocks=blocks)
    assert 0.0 <= r.pbo <= 1.0 and r.n_blocks % 2 == 0 and r.n_blocks <= t
    assert np.all(np.isfinite(r.logits))
    # Column order carries no information.
    perm = np.random.default_rng(seed + 1).permutation(n)
    assert cscv_pbo(m[:, perm], n_blocks=blocks).pbo == r.pbo
    # A copy of a trial (a parameter that never mattered) neither helps nor hurts much:
    # ties share their average rank.
    dup = cscv_pbo(np.hstack([m, m[:, :1]]), n_blocks=blocks)
    assert 0.0 <= dup.pbo <= 1.0


def test_degenerate_inputs_give_nan_not_errors() -> None:
    assert np.isnan(cscv_pbo(np.zeros((50, 1))).pbo)
    assert np.isnan(cscv_pbo(np.zeros((1, 5))).pbo)
    flat = cscv_pbo(np.zeros((64, 5)))  # nobody ever traded: all tied
    assert 0.0 <= flat.pbo <= 1.0


def _sweep(bars: object, tmp: Path, name: str) -> object:
    st_ = SweepSettings(method="grid", trials=25, folds=4, seed=1, min_trades=10,
                        source="sma-cross")
    return run_sweep(SweepRequest(bars=bars, bar_seconds=60, profile=frictionless(),
                                  space=sma_space(), settings=st_, out=tmp / name, workers=0,
                                  ledger=tmp / f"{name}.jsonl"))


def test_sweeps_through_the_backtester_noise_vs_planted(tmp_path: Path) -> None:
    """25 SMA speeds, no costs: on a random walk every speed is luck; on a planted cycle the
    speeds that ride it win in every period."""
    noise = [_sweep(noise_bars(seed=s), tmp_path, f"noise{s}").analysis for s in (0, 1)]
    planted = _sweep(cycle_bars(seed=0), tmp_path, "cycle").analysis
    assert np.mean([a.pbo.pbo for a in noise]) > 0.35
    assert all(a.verdict.label in ("not trustworthy", "no edge", "fragile") for a in noise)
    assert planted.pbo.pbo < 0.2
    assert planted.best.metrics["net_pnl"] > 0 and planted.tests[0].metrics["net_pnl"] > 0
    assert planted.best.params["signal.fast"] <= 5  # a fast average follows a 90-bar swing
    # What explains the planted market's results is the SMA speed, measured as such.
    assert max(planted.importance.values()) > 0.3
    okf = planted.frame[planted.frame["status"] == "ok"].reset_index(drop=True)
    best_row = int(np.flatnonzero(okf["trial"].to_numpy() == planted.best.number)[0])
    n = neighbourhood(okf, list(sma_space().params), best_row, k=4)
    assert n.k == 4 and n.best == planted.best.objective
    assert set(importance(okf, list(sma_space().params))) == {"signal.fast", "signal.slow"}
