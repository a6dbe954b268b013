"""Per-bar signals and THE one mapping from class probabilities to a trade direction.

Every caller that turns a model's probabilities into a direction — the backtest's model
signals (core/strategy/model.py), training's per-fold trading evaluation, and the live
predictor — goes through :func:`direction_from_proba` (batch) or :func:`direction_of_row`
(one bar). Both apply the same three rules, in this order:

1. a row still warming up (any NaN feature, ``valid`` False) carries **no signal**:
   direction 0 and confidence 0 (never "FLAT with confidence");
2. the direction is the sign of the most probable class (ties go to the first class);
3. the confidence is that class's (calibrated) probability; whether it is high enough to
   act on is the risk kernel's decision (``risk.min_confidence``), not this function's,
   unless a ``min_confidence`` is given, in which case rows below it carry no signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataError


@dataclass(frozen=True)
class Signals:
    """Per-bar model output aligned with the bars (same length, same order).

    Attributes:
        direction: int8 −1 short / 0 none-or-flat / +1 long.
        confidence: Probability of the predicted class (0..1). A 0 direction with confidence
            ≥ the profile's minimum is a FLAT signal (exit); below it, nothing.
        predicted_class: The model's class per bar (defaults to ``direction``).
        atr: Optional per-bar ATR in price units (else computed causally, Wilder).
        name: Label for reports.
    """

    direction: np.ndarray
    confidence: np.ndarray
    predicted_class: np.ndarray | None = None
    atr: np.ndarray | None = None
    name: str = "signals"

    @classmethod
    def from_frame(cls, bars: pd.DataFrame, frame: pd.DataFrame, *, name: str = "file") -> Signals:
        """Align a (timestamp, direction, confidence[, predicted_class]) table to ``bars``.

        Bars without a row get no signal. Timestamps may be int64 ns or datetimes.

        Raises:
            DataError: Missing columns, directions other than -1/0/1, or confidences
                outside [0, 1] (naming the first bad row).
        """
        missing = [c for c in ("timestamp", "direction", "confidence") if c not in frame.columns]
        if missing:
            raise DataError(f"signals: missing column(s) {', '.join(missing)}",
                            hint="a signals file needs timestamp, direction (-1/0/1), confidence")
        ts = ns_of(frame["timestamp"])
        bts = ns_of(bars["timestamp"])
        idx = np.searchsorted(bts, ts)
        ok = (idx < len(bts)) & (bts[np.minimum(idx, len(bts) - 1)] == ts)
        d = np.zeros(len(bts), np.int8)
        cf = np.zeros(len(bts), np.float64)
        dirs = frame["direction"].to_numpy()
        if not np.isin(dirs, (-1, 0, 1)).all():
            raise DataError("signals: direction must be -1, 0 or 1",
                            hint="encode short as -1, none/flat as 0, long as 1")
        conf = frame["confidence"].to_numpy(np.float64)
        bad = ~((conf >= 0.0) & (conf <= 1.0))
        if bad.any():
            k = int(np.argmax(bad))
            raise DataError(f"signals: confidence {conf[k]!r} at data row {k + 1} is not in [0, 1]",
                            hint="confidence is the predicted class's probability (0..1)")
        d[idx[ok]] = dirs[ok].astype(np.int8)
        cf[idx[ok]] = conf[ok]
        pc = None
        if "predicted_class" in frame.columns:
            pc = np.zeros(len(bts), np.int8)
            pc[idx[ok]] = frame["predicted_class"].to_numpy()[ok].astype(np.int8)
        return cls(direction=d, confidence=cf, predicted_class=pc, name=name)


def ns_of(col: object) -> np.ndarray:
    """int64 UTC nanoseconds of a timestamp column (int64, naive or tz-aware datetimes)."""
    a = col.to_numpy() if hasattr(col, "to_numpy") else np.asarray(col)
    if a.dtype.kind == "M":
        if getattr(col, "dt", None) is not None and col.dt.tz is not None:  # type: ignore[attr-defined]
            a = col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()  # type: ignore[attr-defined]
        return a.astype("datetime64[ns]").view(np.int64)
    return a.astype(np.int64, copy=False)


def direction_from_proba(proba: np.ndarray, classes: np.ndarray,
                         valid: np.ndarray | None = None, *,
                         min_confidence: float | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direction, confidence and predicted class of every row (see the module rules).

    Args:
        proba: (rows, classes) probabilities (calibrated).
        classes: The class labels (e.g. ``[-1, 0, 1]`` or ``[-1, 1]``).
        valid: Rows whose features are complete; others carry no signal. None: all valid.
        min_confidence: Optional floor: rows below it carry no signal.

    Returns:
        (direction int8, confidence float64, predicted_class int8).
    """
    proba = np.asarray(proba, dtype=np.float64)
    cls = np.asarray(classes)
    n = len(proba)
    if n == 0:
        return np.zeros(0, np.int8), np.zeros(0), np.zeros(0, np.int8)
    k = proba.argmax(axis=1)
    conf = proba[np.arange(n), k]
    pclass = cls[k].astype(np.int8)
    ok = np.isfinite(conf)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    if min_confidence is not None:
        ok &= conf >= min_confidence - 1e-12
    direction = np.where(ok, np.sign(cls[k]), 0).astype(np.int8)
    conf = np.where(ok, conf, 0.0)
    return direction, conf, pclass


def direction_of_row(p: np.ndarray, classes: np.ndarray, valid: bool) -> tuple[int, float, int]:
    """:func:`direction_from_proba` for one row (the live path): (direction, confidence, class)."""
    d, c, k = direction_from_proba(np.asarray(p, dtype=np.float64).reshape(1, -1), classes,
                                   np.array([valid]))
    return int(d[0]), float(c[0]), int(k[0])
