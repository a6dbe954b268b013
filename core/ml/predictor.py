"""Live inference: one bar in, one :class:`~core.domain.Prediction` out, O(1) per bar.

Streaming features (``core.features.FeatureStream``, the same numbers as training) feed the
model's single-row path (LightGBM ``Booster.predict`` on a preallocated row; nets keep a
ring buffer of the last W rows) and the calibrator's in-place single-row path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.domain import Prediction
from core.features.selection import column_index
from core.ml.artifacts import Bundle, load_artifact
from core.strategy.signals import direction_of_row


class StreamingPredictor:
    """Turns bars into calibrated predictions with a loaded model bundle.

    Args:
        bundle: A loaded model directory, or its path.
    """

    def __init__(self, bundle: Bundle | Path | str) -> None:
        from core.features import FeatureStream

        self.bundle = bundle if isinstance(bundle, Bundle) else load_artifact(Path(bundle))
        cfg = self.bundle.config
        self.stream = FeatureStream(cfg["feature_set"])
        # A model trained with `--features` reads its own columns of the full row.
        self._cols = column_index(self.stream.names, cfg["feature_names"],
                                  subset=bool(cfg.get("feature_subset")),
                                  where=str(self.bundle.path))
        # FeatureStream.update returns float32; pick the columns into a buffer, no per-bar alloc.
        self._row = None if self._cols is None else np.empty(len(self._cols), dtype=np.float32)
        self._out = np.empty(len(self.bundle.classes), dtype=np.float64)
        self._moves = np.asarray(cfg["class_moves"]["mean"], dtype=np.float64)
        self._abs = np.asarray(cfg["class_moves"]["abs"], dtype=np.float64)
        self.ready = False  #: False while any feature is still warming up

    def warm_up(self, frame: Any) -> None:
        """Consume history at batch speed before streaming (engine start-up)."""
        self.stream.warm_up(frame)

    def update(self, ts_ns: int, o: float, h: float, l: float, c: float, v: float) -> Prediction:
        """Predict from the bar that just closed (its start time is ``ts_ns``)."""
        row = self.stream.update(ts_ns, o, h, l, c, v)
        if self._cols is not None:
            row = np.take(row, self._cols, out=self._row)
        self.ready = not bool(np.isnan(row).any())
        p = self.bundle.calibrator.apply_row(self.bundle.model.predict_row(row), self._out)
        # The one probabilities → direction rule (core.strategy.signals): a row still warming
        # up carries no signal, exactly as in the backtest's batch signals.
        direction, confidence, _k = direction_of_row(p, self.bundle.classes, self.ready)
        return Prediction(ts=int(ts_ns), direction=direction, confidence=confidence,
                          predicted_move=float(p @ self._moves), volatility=float(p @ self._abs),
                          probabilities=tuple(p.tolist()))
