"""Signal sources for the live engine: a trained model streamed bar by bar, or fixed signals.

The model path is the backtester's: the same streaming features (bit-identical to the batch
features the model was trained on), the same calibrated model, and the one probabilities →
direction rule (core.strategy.signals.direction_of_row; warm-up bars carry no signal). The
predictions are kept (``last``) so the engine can publish them with their latency.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.domain import Bar, Prediction


class ModelSignal:
    """``signal(bar) -> (direction, confidence)`` from a saved model.

    Args:
        model: A model name under models/ or its directory.
        history: Bars before the live ones (warm-up at batch speed); may be empty.
    """

    def __init__(self, model: str | Path, history: pd.DataFrame | None = None) -> None:
        from core.ml.artifacts import default_models_dir
        from core.ml.predictor import StreamingPredictor

        path = Path(model)
        if not path.is_dir():
            path = default_models_dir() / str(model)
        self.predictor = StreamingPredictor(path)
        self.name = path.name
        self.bar_seconds = int(self.predictor.bundle.config.get("bar_seconds", 60) or 60)
        self.warm_until = -1
        if history is not None and len(history):
            self.predictor.warm_up(history)
            self.warm_until = int(history["timestamp"].iloc[-1])
        self.last: Prediction | None = None
        self.latency_us = 0.0

    def __call__(self, bar: Bar) -> tuple[int, float]:
        if bar.ts <= self.warm_until:
            return 0, 0.0      # already consumed by the warm-up (history overlaps the stream)
        t0 = time.perf_counter_ns()
        pred = self.predictor.update(bar.ts, bar.open, bar.high, bar.low, bar.close,
                                     float(bar.volume))
        self.latency_us = (time.perf_counter_ns() - t0) / 1e3
        self.last = pred
        return int(pred.direction), float(pred.confidence)


def fixed_signal(frame: pd.DataFrame) -> Callable[[Bar], tuple[int, float]]:
    """Signals from a (timestamp, direction, confidence) table keyed by bar start."""
    table: dict[int, tuple[int, float]] = {
        int(t): (int(d), float(c)) for t, d, c in
        zip(frame["timestamp"].to_numpy(np.int64), frame["direction"], frame["confidence"])}

    def signal(bar: Bar) -> tuple[int, float]:
        return table.get(int(bar.ts), (0, 0.0))
    return signal


def prediction_event(sig: Any, bar: Bar) -> dict[str, Any] | None:
    """The PredictionMade event of a model signal's last prediction (None for other sources)."""
    p = getattr(sig, "last", None)
    if p is None:
        return None
    return {"type": "PredictionMade", "ts_ns": bar.ts, "model": getattr(sig, "name", ""),
            "direction": p.direction, "confidence": p.confidence,
            "probabilities": list(p.probabilities), "predicted_move": p.predicted_move,
            "latency_us": getattr(sig, "latency_us", 0.0), "shadow": False}
