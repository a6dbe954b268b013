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

from core.strategy.signals import Signals, direction_from_proba
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
    from core.features.selection import column_index
    from core.ml.artifacts import default_models_dir, load_artifact

    path = Path(model)
    if not path.is_dir():
        path = default_models_dir() / str(model)
    bundle = load_artifact(path)
    X, names = compute_features(bars, bundle.config["feature_set"])
    cols = column_index(names, bundle.config["feature_names"],
                        subset=bool(bundle.config.get("feature_subset")), where=str(path))
    if cols is not None:        # trained with --features: its own columns only
        X = X[:, cols]
    n = len(X)
    classes = np.asarray(bundle.classes)
    direction = np.zeros(n, dtype=np.int8)
    conf = np.zeros(n, dtype=np.float64)
    pclass = np.zeros(n, dtype=np.int8)
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        proba = bundle.predict_proba(X[a:b])
        ok = ~np.isnan(X[a:b]).any(axis=1)
        direction[a:b], conf[a:b], pclass[a:b] = direction_from_proba(proba, classes, ok)
        if progress is not None:
            progress(b / n)
    return Signals(direction=direction, confidence=conf, predicted_class=pclass,
                   name=f"model {path.name}")


def model_training_span(model: str | Path) -> tuple[int, int]:
    """The span of bars the saved model has seen: ``[start_ns, out_of_sample_from_ns)``.

    The saved model is the walk-forward run's final-holdout model: it was fitted, stopped
    and calibrated on data before the holdout's start, so only bars from that instant on are
    out of sample for it. A card without fold information counts its whole data span.

    Raises:
        ModelError: If the model or its card is missing or unreadable.
    """
    import json

    from core.ml.artifacts import default_models_dir

    path = Path(model)
    if not path.is_dir():
        path = default_models_dir() / str(model)
    card_path = path / "model_card.json"
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        data = card["data"]
        start, end = int(data["start_ns"]), int(data["end_ns"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{card_path}: cannot read the model card ({exc})",
                         hint="retrain the model with `scalpdesk train`") from None
    holdouts = [f for f in card.get("walk_forward", {}).get("folds", []) if f.get("holdout")]
    oos = int(holdouts[-1]["test_start_ns"]) if holdouts else end + 1
    return start, oos


def in_sample_mask(bars: pd.DataFrame, span: tuple[int, int]) -> np.ndarray:
    """Bars that fall inside a model's training span (their backtest would be in-sample)."""
    ts = bars["timestamp"].to_numpy(np.int64)
    return (ts >= span[0]) & (ts < span[1])


def drop_in_sample(signals: Signals, mask: np.ndarray) -> Signals:
    """Signals with every in-sample bar silenced (no entries and no flat/exit signals)."""
    direction = signals.direction.copy()
    confidence = signals.confidence.copy()
    direction[mask] = 0
    confidence[mask] = 0.0
    return Signals(direction=direction, confidence=confidence,
                   predicted_class=signals.predicted_class, atr=signals.atr,
                   name=f"{signals.name} (out of sample only)")
