"""Per-feature standardisation for neural networks, fitted on training folds ONLY.

Fit it on the rows of a walk-forward fold's *training* slice, store it with the model
(``to_dict``), and apply the stored one to validation, test and live rows: fitting on all
rows would leak the future's mean and scale into training.

NaN (a feature still warming up) becomes 0 after scaling, i.e. the training mean, and values
are clipped to ``±clip`` standard deviations so one bad bar cannot saturate a layer.
Statistics are accumulated in float64 over row chunks, so fitting a multi-GB float32 matrix
needs no float64 copy of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import ModelError

_CHUNK = 1 << 18


class Normalizer:
    """Standardise features: ``(x - mean) / std``, NaN -> 0, clipped.

    Args:
        clip: Clip scaled values to ``[-clip, clip]``.
    """

    def __init__(self, clip: float = 10.0) -> None:
        self.clip = float(clip)
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.names: list[str] | None = None
        self.n_fit: int = 0

    @property
    def fitted(self) -> bool:
        """True once :meth:`fit` or :meth:`from_dict` has set the statistics."""
        return self.mean is not None

    def fit(self, X_train: np.ndarray, names: list[str] | None = None) -> Normalizer:
        """Fit on training rows only (NaN ignored; constant or empty columns get std 1).

        Args:
            X_train: ``(n_rows, n_features)`` training matrix of ONE fold.
            names: Optional column names, checked again by :meth:`transform` users.

        Returns:
            self
        """
        X = np.asarray(X_train)
        if X.ndim != 2:
            raise ModelError(f"Normalizer.fit expects a 2-D matrix, got shape {X.shape}",
                             hint="pass the (rows x features) training matrix")
        nf = X.shape[1]
        s1 = np.zeros(nf)
        cnt = np.zeros(nf)
        for a in range(0, X.shape[0], _CHUNK):
            blk = X[a:a + _CHUNK].astype(np.float64)
            ok = np.isfinite(blk)
            s1 += np.where(ok, blk, 0.0).sum(axis=0)
            cnt += ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(cnt > 0, s1 / np.maximum(cnt, 1), 0.0)
        s2 = np.zeros(nf)  # second pass around the mean: no catastrophic cancellation
        for a in range(0, X.shape[0], _CHUNK):
            blk = X[a:a + _CHUNK].astype(np.float64) - mean
            s2 += np.where(np.isfinite(blk), blk * blk, 0.0).sum(axis=0)
        std = np.sqrt(s2 / np.maximum(cnt, 1))
        self.mean = mean
        self.std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
        self.names = list(names) if names is not None else None
        self.n_fit = int(X.shape[0])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scaled float32 copy of ``X`` (1-D row or 2-D matrix)."""
        if self.mean is None or self.std is None:
            raise ModelError("Normalizer.transform called before fit",
                             hint="fit it on the training fold (or load it with from_dict)")
        A = np.asarray(X, dtype=np.float64)
        if A.shape[-1] != self.mean.shape[0]:
            raise ModelError(f"Normalizer was fitted on {self.mean.shape[0]} features, "
                             f"got {A.shape[-1]}",
                             hint="use the same feature set as at training time")
        Z = (A - self.mean) / self.std
        Z = np.nan_to_num(Z, nan=0.0, posinf=self.clip, neginf=-self.clip)
        return np.clip(Z, -self.clip, self.clip).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        if self.mean is None or self.std is None:
            raise ModelError("cannot save an unfitted Normalizer", hint="call fit first")
        return {"kind": "standard", "clip": self.clip, "mean": self.mean.tolist(),
                "std": self.std.tolist(), "names": self.names, "n_fit": self.n_fit}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        try:
            obj = cls(clip=float(d.get("clip", 10.0)))
            obj.mean = np.asarray(d["mean"], dtype=np.float64)
            obj.std = np.asarray(d["std"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"bad Normalizer state: {exc}",
                             hint="the artifact's scaler entry is damaged; retrain") from exc
        if obj.mean.shape != obj.std.shape:
            raise ModelError("bad Normalizer state: mean and std lengths differ",
                             hint="the artifact's scaler entry is damaged; retrain")
        obj.names = d.get("names")
        obj.n_fit = int(d.get("n_fit", 0))
        return obj
