"""Feature standardisation for the neural nets, fitted on training rows only.

NaN (a feature still warming up) becomes 0 after scaling — the training mean — and values
are clipped to ±10 standard deviations so one bad tick cannot saturate a layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Scaler:
    """Per-column mean and standard deviation."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Scaler:
        """Fit on training rows (NaN ignored; constant columns get std 1)."""
        with np.errstate(all="ignore"):
            X64 = np.asarray(X, dtype=np.float64)
            mean = np.nanmean(X64, axis=0) if len(X64) else np.zeros(X64.shape[1])
            std = np.nanstd(X64, axis=0) if len(X64) else np.ones(X64.shape[1])
        mean = np.where(np.isfinite(mean), mean, 0.0)
        std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
        return cls(mean, std)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardised float32 copy, NaN → 0, clipped to ±10."""
        Z = (np.asarray(X, dtype=np.float64) - self.mean) / self.std
        Z = np.nan_to_num(Z, nan=0.0, posinf=10.0, neginf=-10.0)
        return np.clip(Z, -10.0, 10.0).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scaler:
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["std"], dtype=np.float64))
