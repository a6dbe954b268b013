"""The planted-pattern family (core/datasets/synth_patterns.py): causal, on the tick grid, and
each pattern's documented drift is there after its trigger (and absent at strength 0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.datasets import synth
from core.datasets import synth_patterns as sp
from core.datasets.resample import resample
from core.errors import DataError


@pytest.fixture(scope="module")
def noise_1m() -> pd.DataFrame:
    return resample(synth.generate(40, seed=4, rth_only=True), 60)


@pytest.fixture(scope="module")
def noise_1s() -> pd.DataFrame:
    return synth.generate(3, seed=4, rth_only=True)


def _noise(p: sp.Pattern, noise_1m: pd.DataFrame, noise_1s: pd.DataFrame) -> pd.DataFrame:
    return noise_1s if p.bar_seconds == 1 else noise_1m


@pytest.mark.parametrize("name", sp.pattern_names())
def test_documented_drift_follows_the_trigger(name: str, noise_1m: pd.DataFrame,
                                              noise_1s: pd.DataFrame) -> None:
    p = sp.get_pattern(name)
    frame, starts = sp.plant(_noise(p, noise_1m, noise_1s), p)
    idx = np.flatnonzero(starts)
    idx = idx[idx + p.window < len(frame)]
    assert len(idx) >= 40, f"{name}: only {len(idx)} triggers"
    # Documented density: sparse ≈ 1-2 % of the bars, dense ≥ 3 %.
    rate = np.count_nonzero(starts) / len(frame)
    assert p.rate / 3 <= rate <= 3 * p.rate, (name, rate)
    # Enter at the next open, leave at the window's close: the drift, on average.
    o = frame["open"].to_numpy() / 0.25
    c = frame["close"].to_numpy() / 0.25
    move = (c[idx + p.window] - o[idx + 1]) * starts[idx]
    se = move.std(ddof=1) / np.sqrt(len(move))
    assert abs(move.mean() - p.drift_ticks) < 4 * se + 1.0, (name, move.mean(), se)
    assert p.expected_value() == pytest.approx(p.drift_ticks * 1.25 - 3.34)


@pytest.mark.parametrize("name", ["volume_burst", "pullback", "breakout_1s"])
def test_planting_is_causal(name: str, noise_1m: pd.DataFrame, noise_1s: pd.DataFrame) -> None:
    """Bars up to t do not depend on bars after t (planting a prefix = prefix of the planted)."""
    p = sp.get_pattern(name)
    noise = _noise(p, noise_1m, noise_1s)
    full, s_full = sp.plant(noise, p)
    cut = len(noise) // 2
    part, s_part = sp.plant(noise.iloc[:cut].reset_index(drop=True), p)
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(part[col].to_numpy(), full[col].to_numpy()[:cut])
    np.testing.assert_array_equal(s_part, s_full[:cut])


def test_bars_stay_valid_and_on_the_tick_grid(noise_1m: pd.DataFrame) -> None:
    frame, _ = sp.plant(noise_1m, "range_fade", strength=3.0)
    ticks = frame[["open", "high", "low", "close"]].to_numpy() / 0.25
    assert np.array_equal(ticks, np.round(ticks))
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["volume"] == noise_1m["volume"]).all()


def test_strength_zero_is_the_noise(noise_1m: pd.DataFrame) -> None:
    frame, starts = sp.plant(noise_1m, "late_trend", strength=0.0)
    pd.testing.assert_frame_equal(frame, noise_1m)
    assert starts.any()          # the trigger still fires; it just moves nothing


def test_bad_names_and_strengths_are_refused(noise_1m: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="volume_burst"):
        sp.get_pattern("volume-burst")
    with pytest.raises(DataError, match="strength"):
        sp.plant(noise_1m, "breakout", strength=9.0)


def test_generate_pattern_uses_the_pattern_bar_size() -> None:
    f1, _ = sp.generate_pattern("breakout_1s", 1, seed=1)
    f60, _ = sp.generate_pattern("breakout", 2, seed=1)
    assert int(np.diff(f1["timestamp"].to_numpy()).min()) == 1_000_000_000
    assert int(np.diff(f60["timestamp"].to_numpy()).min()) == 60_000_000_000
    assert "expected $+4.16 per MES trade after costs" in sp.get_pattern("breakout").describe()
