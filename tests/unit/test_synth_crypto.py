"""The synthetic crypto generator: 24/7 bars, percentage moves, fractional volume on the lot grid,
an optional planted pattern, and the Binance kline layout for the import path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.datasets.readers import read_bars
from core.datasets.synth_crypto import generate_crypto, write_binance_klines
from core.datasets.validate import validate
from core.errors import ConfigError


def test_bars_are_24_7_valid_and_fractional() -> None:
    f = generate_crypto(9, seed=3, start="2024-03-08")       # spans a weekend
    assert len(f) == 9 * 1440
    assert np.all(np.diff(f["timestamp"].to_numpy()) == 60 * 10**9)
    rep = validate(f, source="synth", bar_seconds=60)
    assert rep.ok and rep.gaps == 0 and not rep.warnings, rep.summary_lines()
    v = f["volume"].to_numpy()
    assert v.dtype == np.float64 and (v % 1 != 0).mean() > 0.9
    lots = v / 1e-5
    assert np.abs(lots - np.round(lots)).max() < 1e-6           # on BTCUSDT's lot grid
    r = np.diff(np.log(f["close"].to_numpy()))
    assert 0.015 < r.std() * np.sqrt(1440) < 0.035              # ≈ 2.5 % a day


def test_same_seed_same_bars_other_pairs_their_own_grid() -> None:
    a, b = generate_crypto(2, seed=5), generate_crypto(2, seed=5)
    assert a.equals(b)
    sol = generate_crypto(2, seed=5, symbol="SOLUSDT")
    assert sol["symbol"].iloc[0] == "SOLUSDT" and 30 < sol["close"].median() < 300
    assert np.abs(sol["volume"] / 1e-3 - np.round(sol["volume"] / 1e-3)).max() < 1e-6
    with pytest.raises(ConfigError, match="not a 24/7 crypto pair"):
        generate_crypto(2, symbol="MES")


def _drift_after_triggers(f) -> float:  # noqa: ANN001
    """Mean signed 10-minute forward log return after a 1-minute move of 2+ sigma."""
    c = np.log(f["close"].to_numpy())
    r = np.r_[0.0, np.diff(c)]
    z = r / r.std()
    v = f["volume"].to_numpy()
    rel = v / np.convolve(v, np.ones(60) / 60, mode="same")
    idx = np.flatnonzero((np.abs(z) >= 2.5) & (rel >= 1.5))
    idx = idx[idx + 10 < len(c)]
    return float(np.mean(np.sign(r[idx]) * (c[idx + 10] - c[idx])))


def test_the_planted_pattern_is_there_and_noise_has_none() -> None:
    planted = _drift_after_triggers(generate_crypto(20, seed=11, planted=True))
    noise = _drift_after_triggers(generate_crypto(20, seed=11))
    assert planted > 0.001          # ≈ +0.2 % over the window at strength 1
    assert abs(noise) < 0.0004


@pytest.mark.parametrize("unit,suffix", [("ms", ".zip"), ("us", ".csv")])
def test_binance_layout_round_trips(tmp_path: Path, unit: str, suffix: str) -> None:
    f = generate_crypto(2, seed=1, symbol="ETHUSDT")
    p = write_binance_klines(f, tmp_path / f"ETHUSDT-1m-2024-01{suffix}", unit=unit)
    [r] = read_bars(p)
    assert r.format == "binance" and r.root == "ETHUSDT" and r.bar_seconds == 60
    np.testing.assert_array_equal(r.frame["timestamp"], f["timestamp"])
    np.testing.assert_allclose(r.frame[["open", "high", "low", "close"]], f[["open", "high",
                                                                               "low", "close"]])
    np.testing.assert_allclose(r.frame["volume"], f["volume"], atol=1e-9)
    first = (p.read_text().splitlines() if suffix == ".csv" else None)
    if first:
        assert len(first[0].split(",")) == 12 and first[0].split(",")[0].isdigit()
        assert len(first[0].split(",")[0]) == 16                 # microseconds
