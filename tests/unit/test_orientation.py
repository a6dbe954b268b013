"""Mirror orientation (core/ml/orientation.py): the parity of every default feature is measured —
features of mirrored bars equal the mirrored features of the real bars — and a model trained in
mirror orientation predicts UP and DOWN consistently with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.datasets import synth
from core.datasets.resample import resample
from core.features import compute_features
from core.ml.lgbm import LightGBMModel
from core.ml.orientation import mirror_map, orient, unorient


def _mirror_bars(frame: pd.DataFrame) -> pd.DataFrame:
    k = 2.0 * float(frame["close"].iloc[0])
    out = frame.copy()
    out["open"], out["close"] = k - frame["open"], k - frame["close"]
    out["high"], out["low"] = k - frame["low"], k - frame["high"]
    return out


@pytest.fixture(scope="module")
def bars_1m() -> pd.DataFrame:
    return resample(synth.generate(6, seed=2, rth_only=True), 60)


@pytest.mark.parametrize("feature_set", ["default_1m", "default"])
def test_mirrored_bars_give_mirrored_features(feature_set: str, bars_1m: pd.DataFrame) -> None:
    frame = bars_1m if feature_set == "default_1m" else synth.generate(1, seed=2, rth_only=True)
    X, names = compute_features(frame, feature_set)
    Xm, _ = compute_features(_mirror_bars(frame), feature_set)
    m = mirror_map(names)
    assert m is not None, "a default feature has no known parity: add it to core/ml/orientation"
    # Mirror every row (reference forced down), then compare with the mirrored bars' features.
    r_all = -np.ones(len(X))
    expect = X.copy()
    expect[:, m.odd] = -X[:, m.odd]
    expect[:, m.comp_idx] = m.comp_val - X[:, m.comp_idx]
    expect[:, m.swap_from] = X[:, m.swap_to]
    ok = np.isfinite(expect) & np.isfinite(Xm)
    scale = np.nanmean(np.abs(X), axis=0) + 1e-12
    err = np.array([np.abs(expect[ok[:, j], j] - Xm[ok[:, j], j]).mean() / scale[j]
                    for j in range(X.shape[1])])
    # Relative features differ by the price level only (K - p vs p): about 1 %.
    bad = [names[j] for j in np.flatnonzero(err > 0.03)]
    assert not bad, bad
    assert r_all.size == len(X)


def test_unknown_feature_names_turn_orientation_off() -> None:
    assert mirror_map(["ret_1m", "bar_dir", "my_secret_signal"]) is None
    assert mirror_map(["ret_1m", "volume_rel_1h"]) is None       # no bar_dir reference


def test_oriented_model_maps_predictions_back(bars_1m: pd.DataFrame) -> None:
    X, names = compute_features(bars_1m, "default_1m")
    X = np.nan_to_num(X).astype(np.float32)
    rng = np.random.default_rng(0)
    y = rng.choice(np.array([-1, 1]), size=len(X))
    n = len(X) * 3 // 4
    m = LightGBMModel(feature_names=names, num_boost_round=20)
    m.fit(X[:n], y[:n], X[n:], y[n:])
    assert m._mirror is not None
    p = m.predict_proba(X[n:])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    # Row path and batch path agree (the live hot path uses predict_row).
    np.testing.assert_allclose(m.predict_row(X[n]), p[0], atol=1e-9)
    # unorient swaps UP/DOWN exactly where the reference was down.
    mm = mirror_map(names)
    _, r = orient(X[n:], mm)
    q = unorient(p, r, m.classes)
    np.testing.assert_allclose(q[r > 0], p[r > 0])
    np.testing.assert_allclose(q[r < 0][:, [1, 0]], p[r < 0])


def test_orientation_survives_save_and_load(tmp_path, bars_1m: pd.DataFrame) -> None:  # noqa: ANN001
    X, names = compute_features(bars_1m, "default_1m")
    X = np.nan_to_num(X)
    y = np.where(np.arange(len(X)) % 3 == 0, 1, -1)
    m = LightGBMModel(feature_names=names, num_boost_round=10)
    m.fit(X[:1500], y[:1500], X[1500:], y[1500:])
    m.save(tmp_path)
    back = LightGBMModel.load(tmp_path)
    np.testing.assert_allclose(back.predict_proba(X[1500:]), m.predict_proba(X[1500:]))
