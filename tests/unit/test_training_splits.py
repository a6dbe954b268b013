"""Walk-forward splits never leak the future (hypothesis property tests) and fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from core.training.splits import NS_PER_DAY, WalkForwardConfig, walk_forward, walk_forward_auto

S = 1_000_000_000


@st.composite
def timestamps(draw: st.DrawFn) -> np.ndarray:
    """Sorted, strictly increasing bar starts with irregular gaps (session breaks too)."""
    n = draw(st.integers(50, 600))
    steps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 5, 60, 3600, 17 * 3600]),
                          min_size=n, max_size=n))
    return np.cumsum(np.asarray(steps, dtype=np.int64) * S) + 1_700_000_000 * S


def _assert_no_leak(ts: np.ndarray, folds: list, purge: int, embargo: int) -> None:
    holdout = [f for f in folds if f.is_holdout]
    hold_start = holdout[0].test_start if holdout else None
    for f in folds:
        test_start = int(ts[f.test].min())
        # Every row used to fit or select (train, val) has its label window closed
        # (plus embargo) before the fold's test period starts ...
        for part in (f.train, f.val):
            assert np.all(ts[part] + purge + embargo < test_start)
        # ... and train labels end before validation starts.
        if len(f.val):
            assert np.all(ts[f.train] + purge + embargo < int(ts[f.val].min()))
        assert not set(f.train) & set(f.val)
        assert not set(f.train) & set(f.test) and not set(f.val) & set(f.test)
        if hold_start is not None and not f.is_holdout:
            # Walk-forward folds never touch the holdout, not even through a label window.
            for part in (f.train, f.val, f.test):
                assert np.all(ts[part] + purge < hold_start)


@settings(max_examples=40, deadline=None)
@given(ts=timestamps(), n_folds=st.integers(1, 5), purge_s=st.integers(0, 120),
       embargo_s=st.integers(0, 60), mode=st.sampled_from(["rolling", "expanding"]),
       hold=st.sampled_from([0.0, 0.1, 0.2]))
def test_auto_folds_never_leak_the_future(ts: np.ndarray, n_folds: int, purge_s: int,
                                          embargo_s: int, mode: str, hold: float) -> None:
    try:
        folds = walk_forward_auto(ts, n_folds, purge_ns=purge_s * S, embargo_ns=embargo_s * S,
                                  mode=mode, holdout_fraction=hold)
    except ConfigError:
        return  # too short for these settings: a clear error is the right answer
    _assert_no_leak(ts, folds, purge_s * S, embargo_s * S)


@settings(max_examples=40, deadline=None)
@given(ts=timestamps(), train_h=st.integers(1, 48), val_h=st.integers(1, 12),
       test_h=st.integers(1, 12), purge_s=st.integers(0, 300), embargo_s=st.integers(0, 60),
       mode=st.sampled_from(["rolling", "expanding"]), hold_h=st.integers(0, 24))
def test_duration_folds_never_leak_the_future(ts: np.ndarray, train_h: int, val_h: int,
                                              test_h: int, purge_s: int, embargo_s: int,
                                              mode: str, hold_h: int) -> None:
    cfg = WalkForwardConfig(train_ns=train_h * 3600 * S, val_ns=val_h * 3600 * S,
                            test_ns=test_h * 3600 * S, purge_ns=purge_s * S,
                            embargo_ns=embargo_s * S, holdout_ns=hold_h * 3600 * S, mode=mode)
    try:
        folds = walk_forward(ts, cfg)
    except ConfigError:
        return
    _assert_no_leak(ts, folds, purge_s * S, embargo_s * S)
    wf = [f for f in folds if not f.is_holdout]
    # Test periods move forward in time and do not overlap.
    for a, b in zip(wf, wf[1:]):
        assert a.test_end <= b.test_start
        if mode == "expanding":
            assert a.train_start == b.train_start


def test_rolling_and_expanding_geometry() -> None:
    ts = np.arange(0, 20 * NS_PER_DAY, 60 * S, dtype=np.int64)
    cfg = dict(train_ns=5 * NS_PER_DAY, val_ns=NS_PER_DAY, test_ns=2 * NS_PER_DAY,
               purge_ns=60 * S, holdout_ns=3 * NS_PER_DAY)
    roll = walk_forward(ts, WalkForwardConfig(**cfg, mode="rolling"))
    exp = walk_forward(ts, WalkForwardConfig(**cfg, mode="expanding"))
    assert roll[-1].is_holdout and exp[-1].is_holdout
    assert roll[1].train_start - roll[0].train_start == 2 * NS_PER_DAY
    assert exp[1].train_start == exp[0].train_start
    assert len(exp[2].train) > len(exp[0].train)
    # Purge: the last training row's label ends before validation starts.
    assert ts[roll[0].train[-1]] + 60 * S < roll[0].val_start


def test_too_short_data_is_a_clear_error() -> None:
    ts = np.arange(0, 100 * S, S, dtype=np.int64)
    with pytest.raises(ConfigError, match="too short"):
        walk_forward(ts, WalkForwardConfig(train_ns=NS_PER_DAY, val_ns=NS_PER_DAY, test_ns=NS_PER_DAY))
    with pytest.raises(ConfigError, match="folds must be"):
        walk_forward_auto(ts, 0, purge_ns=0)
    with pytest.raises(ConfigError, match="sorted"):
        walk_forward_auto(ts[::-1], 2, purge_ns=0)
    with pytest.raises(ConfigError, match="positive"):
        WalkForwardConfig(train_ns=0, val_ns=1, test_ns=1)
