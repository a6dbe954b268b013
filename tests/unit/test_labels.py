"""Labels: time lookahead on irregular bars, validity masks, triple barrier vs a slow reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import calendar as cal
from core.datasets.schema import make_frame
from core.errors import ConfigError, DataError
from core.labels import (
    LabelSpec,
    binary_labels,
    direction_labels,
    horizon_ns,
    make_labels,
    triple_barrier_labels,
    volatility_labels,
)

NS = 1_000_000_000
TICK = 0.25
# 2024-03-05 (Tuesday) 10:00 ET = 15:00 UTC: well inside RTH.
T0 = int(pd.Timestamp("2024-03-05 15:00", tz="UTC").value)


def bars(ts_s: np.ndarray, ticks: np.ndarray, *, wick: np.ndarray | None = None,
         t0: int = T0) -> pd.DataFrame:
    """Bars at ``t0 + ts_s`` seconds with closes on the tick grid and open = previous close."""
    c = 5000.0 + np.asarray(ticks, dtype=np.float64) * TICK
    o = np.r_[c[0], c[:-1]]
    w = np.zeros(len(c)) if wick is None else np.asarray(wick, dtype=np.float64) * TICK
    h = np.maximum(o, c) + w
    lo = np.minimum(o, c) - w
    ts = t0 + np.asarray(ts_s, dtype=np.int64) * NS
    return make_frame(ts, o, h, lo, c, np.ones(len(c), dtype=np.int64), "MES")


@st.composite
def random_bars(draw: st.DrawFn, max_n: int = 120) -> pd.DataFrame:
    n = draw(st.integers(2, max_n))
    gaps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 3, 5, 11, 40]), min_size=n, max_size=n))
    steps = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    wick = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return bars(np.cumsum(gaps), np.cumsum(steps), wick=np.array(wick))


# ----------------------------------------------------------------------------- direction
def test_direction_uses_time_not_rows_on_irregular_bars() -> None:
    # Bars at 0, 1, 2, 40, 41 s. From t=0 with L=30 s the future bar is t=2 (last <= 30 s).
    f = bars(np.array([0, 1, 2, 40, 41, 100]), np.array([0, 1, 5, 9, 0, 0]))
    lab, valid = make_labels(f, LabelSpec(lookahead_seconds=30, threshold_ticks=3.0), TICK)
    assert lab[0] == 1            # +5 ticks by t=2 s, the last bar within 30 s
    assert lab[1] == 1            # 1 -> 5 = +4 ticks
    assert lab[2] == 0            # no bar in (2, 32]: price unchanged -> FLAT
    assert lab[3] == -1           # 9 -> 0 at t=41
    assert valid[:5].all()
    assert not valid[5]           # t + 30 s is past the last bar (t = 100 s)


def test_threshold_is_at_least_n_ticks_and_pct_mode() -> None:
    f = bars(np.arange(6) * 10, np.array([0, 3, 0, -2, 0, 0]))
    lab = direction_labels(f, lookahead_seconds=10, threshold_ticks=3, tick_size=TICK)
    assert lab[:4].tolist() == [1, -1, 0, 0]   # +2 ticks is below 3
    # 0.01 % of 5000 = 0.5 points = 2 ticks.
    lab_pct = direction_labels(f, lookahead_seconds=10, threshold_pct=0.01)
    assert lab_pct[:4].tolist() == [1, -1, -1, 1]


def test_session_break_and_data_end_are_invalid() -> None:
    # Last RTH minute of 2024-03-05 then the next morning: windows crossing 17:00 ET are invalid.
    close_ns = cal.local_time_ns("2024-03-05", "17:00", cal.ET)
    ts = np.r_[close_ns - 20 * NS + np.arange(20) * NS,
               cal.local_time_ns("2024-03-06", "09:30", cal.ET) + np.arange(60) * NS]
    f = bars((ts - T0) // NS, np.arange(80) % 7)
    lab, valid = make_labels(f, LabelSpec(lookahead_seconds=30), TICK)
    assert not valid[:20].any()                  # 16:59:40.. + 30 s is in the daily halt
    assert valid[20:50].all()                    # next morning, window fully observed
    assert not valid[51:].any()                  # runs past the data end
    assert (lab[~valid] == 0).all()
    # session=None (24/7 markets): only the data end matters.
    _, v_none = make_labels(f, LabelSpec(lookahead_seconds=30, session=None), TICK)
    assert v_none[:20].all()


def test_rth_rule_for_rth_filtered_data() -> None:
    rth_close = cal.local_time_ns("2024-03-05", "16:00", cal.ET)
    ts = rth_close - 60 * NS + np.arange(60) * NS
    f = bars((ts - T0) // NS, np.zeros(60, dtype=int))
    extra = bars(np.array([(rth_close + 3600 * NS - T0) // NS]), np.zeros(1, dtype=int))
    f = pd.concat([f, extra], ignore_index=True)
    _, v_cme = make_labels(f, LabelSpec(lookahead_seconds=30), TICK)
    _, v_rth = make_labels(f, LabelSpec(lookahead_seconds=30, session="rth"), TICK)
    assert v_cme[:60].all()                      # Globex still open after 16:00 ET
    assert v_rth[:30].all() and not v_rth[31:60].any()   # t + 30 s beyond 16:00 ET


def test_class_balance_on_synthetic_1s_rth_is_plausible() -> None:
    from core.datasets import synth

    f = synth.generate(1, seed=3, rth_only=True)
    lab, valid = make_labels(f, LabelSpec(lookahead_seconds=30, threshold_ticks=3,
                                          session="rth"), TICK)
    share = {k: float(np.mean(lab[valid] == k)) for k in (-1, 0, 1)}
    # Reference on real RTH 1-s MES: DOWN 19.7 %, FLAT 60.2 %, UP 20.1 %.
    assert 0.10 < share[-1] < 0.32 and 0.10 < share[1] < 0.32, share
    assert 0.40 < share[0] < 0.80, share
    assert valid.mean() > 0.99


@settings(max_examples=25, deadline=None)
@given(random_bars(), st.integers(0, 10_000), st.sampled_from([5, 30, 60]))
def test_label_depends_only_on_bars_in_window(f: pd.DataFrame, pick: int, look: int) -> None:
    """Changing every bar before t or after t + L never changes label t or its validity."""
    n = len(f)
    i = pick % n
    ts = f["timestamp"].to_numpy()
    outside = (ts < ts[i]) | (ts > ts[i] + look * NS)
    g = f.copy()
    for col in ("open", "high", "low", "close"):
        v = g[col].to_numpy().copy()
        v[outside] += 37 * TICK
        g[col] = v
    for spec in (LabelSpec(lookahead_seconds=look, threshold_ticks=2),
                 LabelSpec(kind="volatility", lookahead_seconds=look),
                 LabelSpec(kind="triple_barrier", stop_ticks=2, target_ticks=3,
                           time_limit_seconds=look)):
        a, va = make_labels(f, spec, TICK)
        b, vb = make_labels(g, spec, TICK)
        assert va[i] == vb[i]
        if va[i]:
            assert a[i] == b[i]


def test_binary_masks_flat_rows() -> None:
    f = bars(np.arange(5) * 10, np.array([0, 1, 1, 0, 0]))
    lab = binary_labels(f, lookahead_seconds=10)
    lab2, valid = make_labels(f, LabelSpec(kind="binary", lookahead_seconds=10,
                                           threshold_ticks=0), TICK)
    assert lab.tolist()[:4] == [1, 0, -1, 0]
    assert np.array_equal(lab, lab2)
    assert valid.tolist()[:4] == [True, False, True, False]


# ----------------------------------------------------------------------------- triple barrier
def slow_triple_barrier(f: pd.DataFrame, stop: float, target: float, tlim: int, side: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Reference: plain Python, bar by bar (session rule None)."""
    ts = f["timestamp"].to_numpy()
    h, lo, c = (f[k].to_numpy() for k in ("high", "low", "close"))
    n = len(ts)
    lab = np.zeros(n, dtype=np.int8)
    valid = np.zeros(n, dtype=bool)
    for i in range(n):
        up = c[i] + (target if side > 0 else stop) * TICK
        dn = c[i] - (stop if side > 0 else target) * TICK
        for j in range(i + 1, n):
            if ts[j] > ts[i] + tlim * NS:
                break
            hit_up, hit_dn = h[j] >= up, lo[j] <= dn
            stop_hit = hit_dn if side > 0 else hit_up
            tgt_hit = hit_up if side > 0 else hit_dn
            if stop_hit or tgt_hit:
                lab[i] = -1 if stop_hit else 1
                valid[i] = True
                break
        else:
            valid[i] = ts[i] + tlim * NS <= ts[-1]
        if not valid[i] and ts[i] + tlim * NS <= ts[-1]:
            valid[i] = True   # loop broke on the time limit without a hit
    return lab, valid


@settings(max_examples=40, deadline=None)
@given(random_bars(), st.integers(1, 4), st.integers(1, 5), st.sampled_from([10, 30, 90]),
       st.sampled_from([1, -1]))
def test_triple_barrier_matches_slow_reference(f: pd.DataFrame, stop: int, target: int,
                                               tlim: int, side: int) -> None:
    lab, valid = make_labels(f, LabelSpec(kind="triple_barrier", stop_ticks=stop,
                                          target_ticks=target, time_limit_seconds=tlim,
                                          side=side, session=None), TICK)
    ref_lab, ref_valid = slow_triple_barrier(f, stop, target, tlim, side)
    assert np.array_equal(valid, ref_valid)
    assert np.array_equal(lab[valid], ref_lab[valid])


def test_triple_barrier_is_pessimistic_when_both_hit_in_one_bar() -> None:
    f = bars(np.array([0, 1, 2, 100]), np.array([0, 0, 0, 0]), wick=np.array([0, 0, 10, 0]))
    lab = triple_barrier_labels(f, stop_ticks=4, target_ticks=4, time_limit_seconds=10,
                                tick_size=TICK)
    assert lab[0] == -1 and lab[1] == -1
    # A barrier hit before the data end is a known outcome even without the full window.
    g = bars(np.array([0, 1]), np.array([0, 9]))
    lab2, v2 = make_labels(g, LabelSpec(kind="triple_barrier", stop_ticks=4, target_ticks=4,
                                        time_limit_seconds=600), TICK)
    assert lab2[0] == 1 and v2[0] and not v2[1]


# ----------------------------------------------------------------------------- volatility
@settings(max_examples=25, deadline=None)
@given(random_bars(), st.sampled_from([3, 30]))
def test_volatility_matches_slow_reference(f: pd.DataFrame, look: int) -> None:
    out, valid = make_labels(f, LabelSpec(kind="volatility", lookahead_seconds=look,
                                          session=None), TICK)
    ts = f["timestamp"].to_numpy()
    h, lo = f["high"].to_numpy(), f["low"].to_numpy()
    for i in range(len(ts)):
        w = (ts > ts[i]) & (ts <= ts[i] + look * NS)
        ref = (h[w].max() - lo[w].min()) / TICK if w.any() else 0.0
        assert valid[i] == (ts[i] + look * NS <= ts[-1])
        if valid[i]:
            assert out[i] == pytest.approx(ref)
        else:
            assert np.isnan(out[i])
    rel = volatility_labels(f, lookahead_seconds=look, relative=True, session=None)
    np.testing.assert_allclose(rel[valid], out[valid] * TICK / f["close"].to_numpy()[valid])


# ----------------------------------------------------------------------------- spec + errors
def test_spec_roundtrip_horizon_and_classes() -> None:
    spec = LabelSpec(kind="triple_barrier", stop_ticks=8, target_ticks=12,
                     time_limit_seconds=1800)
    assert LabelSpec.from_dict(spec.to_dict()) == spec
    assert horizon_ns(spec) == 1800 * NS
    assert horizon_ns(LabelSpec()) == 30 * NS
    assert LabelSpec().classes == (-1, 0, 1)
    assert LabelSpec(kind="binary").classes == (-1, 1)
    assert LabelSpec(kind="volatility").classes == ()


@pytest.mark.parametrize("bad", [{"kind": "up"}, {"lookahead_seconds": 0},
                                 {"lookahed_seconds": 30}, {"session": "nyse"}])
def test_bad_spec_is_a_config_error(bad: dict) -> None:
    with pytest.raises(ConfigError):
        LabelSpec.from_dict(bad)


def test_bad_input_is_reported() -> None:
    f = bars(np.array([0, 2, 1]), np.array([0, 1, 2]))
    with pytest.raises(DataError, match="row 2"):
        direction_labels(f)
    with pytest.raises(ConfigError):
        direction_labels(bars(np.array([0, 1]), np.array([0, 1])), tick_size=0)
    with pytest.raises(ConfigError):
        triple_barrier_labels(bars(np.array([0, 1]), np.array([0, 1])), stop_ticks=0,
                              target_ticks=4, time_limit_seconds=30)
    with pytest.raises(ConfigError):
        make_labels(bars(np.array([0, 1]), np.array([0, 1])), {"kind": "direction"})  # type: ignore[arg-type]
    empty = bars(np.array([0]), np.array([0])).iloc[:0]
    lab, valid = make_labels(empty, LabelSpec(), TICK)
    assert lab.shape == (0,) and valid.shape == (0,)


def test_real_es_1s_labels(shared_data) -> None:
    import pyarrow.parquet as pq

    f = pq.read_table(shared_data / "es_1s_esm8_2018-05-07_from_ticks_rtrawl.parquet").to_pandas()
    lab, valid = make_labels(f, LabelSpec(lookahead_seconds=30, threshold_ticks=3), TICK)
    assert valid.mean() > 0.99 and not valid[-1]
    shares = [float(np.mean(lab[valid] == k)) for k in (-1, 0, 1)]
    assert all(s > 0.02 for s in shares) and shares[1] > 0.5   # a quiet morning: mostly FLAT
    tb, vtb = make_labels(f, LabelSpec(kind="triple_barrier", stop_ticks=8, target_ticks=8,
                                       time_limit_seconds=600), TICK)
    assert set(np.unique(tb[vtb]).tolist()) <= {-1, 0, 1} and vtb.mean() > 0.9
