"""Every model kind trains and predicts at tiny sizes; artifacts round-trip; torch resumes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelError
from core.ml import Calibrator, ClassMap, load_model, make_model
from core.ml.calibration import expected_calibration_error

ROOT = Path(__file__).resolve().parents[2]


def _toy(n: int = 1200, k: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Direction labels driven by feature 0 (learnable), with NaN warm-up rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)).astype(np.float32)
    z = X[:, 0] + 0.5 * rng.normal(size=n)
    y = np.where(z > 0.6, 1, np.where(z < -0.6, -1, 0)).astype(np.int64)
    X[:5, 1] = np.nan  # warm-up
    return X, y


TORCH_FAST = {"epochs": 3, "batch_size": 128, "window": 8}


@pytest.mark.parametrize("kind", ["lightgbm", "ff", "lstm", "tcn", "transformer"])
def test_every_kind_fits_predicts_and_round_trips(kind: str, tmp_path: Path) -> None:
    X, y = _toy()
    params = {"num_boost_round": 60} if kind == "lightgbm" else dict(TORCH_FAST)
    m = make_model(kind, params=params, seed=3)
    info = m.fit(X[:800], y[:800], X[800:1000], y[800:1000])
    assert info.iterations >= 1 and np.isfinite(info.best_val_loss)
    p = m.predict_proba(X[1000:])
    assert p.shape == (200, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert list(m.classes) == [-1, 0, 1]
    m.save(tmp_path)
    again = load_model(tmp_path)
    np.testing.assert_allclose(again.predict_proba(X[1000:]), p, atol=1e-5)
    # Single-row (streaming) inference agrees with the batch for a row with full context.
    if kind == "lightgbm":
        np.testing.assert_allclose(again.predict_row(X[1100]), p[100], atol=1e-9)
    else:
        window = getattr(again, "window", 1)
        for i in range(1100 - window + 1, 1101):
            row = again.predict_row(X[i])
        np.testing.assert_allclose(row, p[100], atol=1e-4)


def test_lightgbm_learns_and_is_deterministic() -> None:
    X, y = _toy(3000)
    a = make_model("lightgbm", params={"num_boost_round": 80}, seed=5)
    b = make_model("lightgbm", params={"num_boost_round": 80}, seed=5)
    a.fit(X[:2000], y[:2000], X[2000:2500], y[2000:2500])
    b.fit(X[:2000], y[:2000], X[2000:2500], y[2000:2500])
    pa, pb = a.predict_proba(X[2500:]), b.predict_proba(X[2500:])
    np.testing.assert_array_equal(pa, pb)
    idx = ClassMap((-1, 0, 1)).to_index(y[2500:])
    assert (pa.argmax(1) == idx).mean() > 0.6


def test_torch_checkpoint_resume_equals_unbroken_run(tmp_path: Path) -> None:
    X, y = _toy(600)
    kw = dict(batch_size=100, patience=50)
    full = make_model("ff", params={**kw, "epochs": 4}, seed=11)
    full.fit(X[:400], y[:400], X[400:500], y[400:500])
    first = make_model("ff", params={**kw, "epochs": 2}, seed=11, checkpoint_dir=tmp_path)
    first.fit(X[:400], y[:400], X[400:500], y[400:500])
    assert (tmp_path / "checkpoint.pt").is_file()
    resumed = make_model("ff", params={**kw, "epochs": 4}, seed=11, checkpoint_dir=tmp_path,
                         resume=True)
    info = resumed.fit(X[:400], y[:400], X[400:500], y[400:500])
    assert info.iterations == 4 and len(info.history) == 4
    np.testing.assert_allclose(resumed.predict_proba(X[500:]), full.predict_proba(X[500:]),
                               atol=1e-5)


def test_resume_without_checkpoint_dir_and_cuda_without_gpu_are_clear_errors() -> None:
    X, y = _toy(200)
    with pytest.raises(ModelError, match="checkpoint_dir"):
        make_model("ff", params={"epochs": 1}, resume=True).fit(X[:100], y[:100], X[100:], y[100:])
    import torch
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="CUDA is not available"):
            make_model("ff", params={"epochs": 1}, device="cuda").fit(X[:100], y[:100], X[100:], y[100:])


def test_bad_inputs_fail_clearly() -> None:
    X, y = _toy(100)
    with pytest.raises(ModelError, match="unknown model kind"):
        make_model("xgboost")
    with pytest.raises(ModelError, match="unknown parameter"):
        make_model("ff", params={"epochz": 3})
    with pytest.raises(ModelError, match="only one class"):
        make_model("lightgbm").fit(X, np.zeros(100, dtype=int), X, y)
    with pytest.raises(ModelError, match="rows but y has"):
        make_model("lightgbm").fit(X, y[:50], X, y)
    with pytest.raises(ModelError, match="missing"):
        load_model(Path("/nonexistent/model"))


def test_calibration_fixes_overconfident_and_prior_shifted_probabilities() -> None:
    rng = np.random.default_rng(0)
    n = 6000
    y = rng.choice(3, size=n, p=[0.2, 0.6, 0.2])
    logits = rng.normal(size=(n, 3)) * 0.5
    logits[np.arange(n), y] += 0.8
    logits *= 4.0  # overconfident
    logits[:, 0] += 1.0  # prior shift toward class 0 (like class-balanced training)
    raw = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    for method in ("temperature", "isotonic"):
        cal = Calibrator.fit(raw[:3000], y[:3000], method)
        p = cal.apply(raw[3000:])
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-9)
        assert expected_calibration_error(p, y[3000:]) < expected_calibration_error(raw[3000:], y[3000:]) / 2
        again = Calibrator.from_dict(cal.to_dict())
        np.testing.assert_allclose(again.apply(raw[3000:]), p)
    cal = Calibrator.fit(raw[:3000], y[:3000])
    out = np.empty(3)
    np.testing.assert_allclose(cal.apply_row(raw[3001], out), cal.apply(raw[3001:3002])[0])


def test_core_ml_imports_without_torch() -> None:
    code = ("import sys; import core.ml, core.training.pipeline, core.ml.artifacts; "
            "print(any(m.split('.')[0] == 'torch' for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert out.stdout.strip() == "False"
