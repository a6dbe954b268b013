"""Signals from a trained model: batch features → calibrated probabilities → Signals.

The same feature definitions and calibrated model the live engine streams bar by bar
(core.ml.predictor), computed here in batch form (causal: row i uses bars ≤ i). Rows still
warming up (any NaN feature) carry no signal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from core.backtest.engine import Signals
from core.errors import ModelError

_CHUNK = 1 << 20


def model_signals(bars: pd.DataFrame, model: str | Path, *,
                  progress: Callable[[float], None] | None = None) -> Signals:
    """Predict every bar with the model ``model`` (a name under models/ or a directory).

    Returns:
        Signals with direction = sign of the most probable class, confidence = its calibrated
        probability and predicted_class = that class.

    Raises:
        ModelError: Unknown model, or its feature set changed since training.
    """
    from core.features import compute_features
    from core.ml.artifacts import default_models_dir, load_artifact

    path = Path(model)
    if not path.is_dir():
        path = default_models_dir() / str(model)
    bundle = load_artifact(path)
    X, names = compute_features(bars, bundle.config["feature_set"])
    if list(names) != list(bundle.config["feature_names"]):
        raise ModelError(f"{path}: the feature set {bundle.config['feature_set']!r} changed since "
                         "this model was trained", hint="retrain it with `scalpdesk train`")
    n = len(X)
    classes = np.asarray(bundle.classes)
    direction = np.zeros(n, dtype=np.int8)
    conf = np.zeros(n, dtype=np.float64)
    pclass = np.zeros(n, dtype=np.int8)
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        proba = bundle.predict_proba(X[a:b])
        k = proba.argmax(axis=1)
        ok = ~np.isnan(X[a:b]).any(axis=1)
        direction[a:b] = np.where(ok, np.sign(classes[k]), 0).astype(np.int8)
        conf[a:b] = np.where(ok, proba[np.arange(b - a), k], 0.0)
        pclass[a:b] = classes[k].astype(np.int8)
        if progress is not None:
            progress(b / n)
    return Signals(direction=direction, confidence=conf, predicted_class=pclass,
                   name=f"model {path.name}")
