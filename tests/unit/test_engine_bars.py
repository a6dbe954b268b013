"""The live bar builder aggregates exactly like the resampler (the bars the model trained on)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.backtest.synthetic import random_walk_bars
from core.config import load_profile
from core.datasets.resample import resample
from core.engine.bars import BarBuilder, SessionIndex
from tests.unit.backtest_fixtures import profile

NS = 1_000_000_000


def _prints(one_s: pd.DataFrame, rng: np.random.Generator, jitter: bool) -> list[tuple]:
    """Four prints per 1-s bar (open, then high/low in random order, close), volume split."""
    out = []
    for r in one_s.itertuples(index=False):
        t0 = int(r.timestamp)
        mids = [r.high, r.low] if rng.random() < 0.5 else [r.low, r.high]
        v = int(r.volume)
        vols = [v // 4, v // 4, v // 4, v - 3 * (v // 4)]
        pts = [(t0, r.open), (t0 + 200_000_000, mids[0]), (t0 + 500_000_000, mids[1]),
               (t0 + 900_000_000, r.close)]
        out += [(t, p, q) for (t, p), q in zip(pts, vols)]
    if jitter:    # swap a few neighbouring prints inside a second (late arrival)
        for k in range(1, len(out) - 1, 7):
            if out[k][0] // NS == out[k + 1][0] // NS:
                out[k], out[k + 1] = out[k + 1], out[k]
    return out


def _build(prints: list[tuple], bar_s: int, prof) -> pd.DataFrame:  # noqa: ANN001
    bb = BarBuilder(bar_s, SessionIndex(prof))
    bars = []
    for t, p, q in prints:
        bars += bb.on_trade(t, p, q)
    bars += bb.flush()
    return pd.DataFrame([(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in bars],
                        columns=["timestamp", "open", "high", "low", "close", "volume"])


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 1000), bar_s=st.sampled_from([5, 15, 60, 300]),
       rth=st.booleans(), jitter=st.booleans())
def test_live_bars_equal_resampled_bars(seed: int, bar_s: int, rth: bool, jitter: bool) -> None:
    one_s = random_walk_bars(3000, seed=seed, bar_seconds=1, rth_only=rth, start="2024-03-08",
                             sigma_ticks=2)
    stride = np.random.default_rng(seed).random(len(one_s)) < 0.6      # gaps: quiet seconds
    one_s = one_s[stride].reset_index(drop=True)
    want = resample(one_s, bar_s)
    got = _build(_prints(one_s, np.random.default_rng(seed), jitter), bar_s,
                 profile("account_1k", schedule=dict(rth_only=rth)))
    cols = ["timestamp", "open", "high", "low", "close", "volume"]
    np.testing.assert_array_equal(got[cols].to_numpy(float), want[cols].to_numpy(float))


def test_bar_closes_on_the_clock_and_late_prints_are_counted() -> None:
    prof = load_profile("account_1k")
    t0 = pd.Timestamp("2025-07-15 10:00", tz="America/New_York").value
    bb = BarBuilder(60, SessionIndex(prof))
    assert bb.on_trade(t0 + 5 * NS, 5000.0, 1) == []
    assert bb.on_time(t0 + 60 * NS) == []                     # not before end + grace
    (bar,) = bb.on_time(t0 + 60 * NS + bb.grace_ns)            # the decision time of the bar
    assert bar.ts == t0 and bar.close == 5000.0
    assert bb.on_trade(t0 + 59 * NS, 5001.0, 1) == []          # its bin already closed
    assert bb.late_prints == 1


def test_a_bin_never_spans_a_session_break() -> None:
    prof = profile("account_1k", schedule=dict(rth_only=False))
    close = pd.Timestamp("2025-07-15 16:59:30", tz="America/New_York").value   # CME halt at 17:00
    reopen = pd.Timestamp("2025-07-15 18:00:10", tz="America/New_York").value
    bb = BarBuilder(3600, SessionIndex(prof))
    bb.on_trade(close, 5000.0, 1)
    halt = reopen - 10 * NS - 3600 * NS + 60 * NS                   # 17:01 ET: no session
    (first,) = bb.on_trade(halt, 4999.0, 1)        # ignored, and its time closes the bar
    assert first.close == 5000.0 and first.volume == 1 and bb.outside_session == 1
    assert bb.on_trade(reopen, 5010.0, 1) == []
    (second,) = bb.flush()
    assert second.open == second.close == 5010.0
