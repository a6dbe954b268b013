"""Probability calibration fitted on validation data only.

Two methods, both multi-class:

* ``temperature`` (default): one scalar ``T`` divides the log-probabilities and a per-class
  bias ``b_k`` is added before a softmax (temperature scaling, Guo et al. 2017, plus the
  bias terms of "vector scaling"). The bias undoes the prior shift that class-balanced
  training weights cause (a balanced model over-predicts the rare UP/DOWN classes); K
  parameters cannot overfit a validation fold of thousands of rows.
* ``isotonic``: one isotonic regression per class (one-vs-rest), then renormalised. More
  flexible, needs more validation rows (it falls back to temperature below 1,000 rows).

A calibrator serialises to a small JSON dict (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

EPS = 1e-7


def _log_loss(p: np.ndarray, y_idx: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y_idx)), y_idx], EPS, 1.0))))


def _softmax_T(logp: np.ndarray, T: float, bias: np.ndarray | None = None) -> np.ndarray:
    z = logp / T
    if bias is not None and len(bias):
        z = z + bias
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Calibrator:
    """Maps raw model probabilities (n×K) to calibrated ones."""

    def __init__(self, method: str = "temperature", temperature: float = 1.0,
                 isotonic: list[dict[str, list[float]]] | None = None,
                 bias: list[float] | None = None) -> None:
        self.method = method
        self.temperature = float(temperature)
        self.isotonic = isotonic or []
        self.bias = np.asarray(bias if bias is not None else [], dtype=np.float64)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, proba: np.ndarray, y_idx: np.ndarray, method: str = "temperature",
            tie: tuple[int, int] | None = None) -> Calibrator:
        """Fit on validation probabilities ``proba`` and true class indices ``y_idx``.

        ``tie``: column indices of two classes that are mirror images (DOWN and UP of a model
        trained in mirror orientation, core.ml.orientation): their temperature-scaling biases
        are fitted as one. A free UP-vs-DOWN bias would import the validation window's own
        drift — a chance up/down share on a few thousand bars — and shift every signal's
        confidence one way: the most confident bars were then all UP (issue 11), and the
        floor no longer ranked the signals by the model's strength.
        """
        proba = np.asarray(proba, dtype=np.float64)
        y_idx = np.asarray(y_idx, dtype=np.int64)
        if method == "none" or len(y_idx) == 0:
            return cls("none")
        if method == "isotonic" and len(y_idx) >= 1000:
            from sklearn.isotonic import IsotonicRegression
            tables = []
            for k in range(proba.shape[1]):
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                iso.fit(proba[:, k], (y_idx == k).astype(np.float64))
                tables.append({"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
            return cls("isotonic", isotonic=tables)
        logp = np.log(np.clip(proba, EPS, 1.0))
        K = proba.shape[1]

        def biases(theta: np.ndarray) -> np.ndarray:
            bias = np.concatenate([[0.0], theta[1:]])
            if tie is not None:
                i, j = tie
                bias[j] = bias[i] = 0.0 if 0 in (i, j) else bias[i]
            return bias

        def nll(theta: np.ndarray) -> float:
            return _log_loss(_softmax_T(logp, float(np.exp(theta[0])), biases(theta)), y_idx)

        res = minimize(nll, np.zeros(K), method="L-BFGS-B",
                       bounds=[(np.log(0.05), np.log(20.0))] + [(-10.0, 10.0)] * (K - 1))
        theta = res.x if np.isfinite(res.fun) else np.zeros(K)
        return cls("temperature", temperature=float(np.exp(theta[0])),
                   bias=[float(b) for b in biases(theta)])

    # ------------------------------------------------------------------ applying
    def apply(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (rows sum to 1)."""
        proba = np.asarray(proba, dtype=np.float64)
        if self.method == "none":
            return proba
        if self.method == "temperature":
            return _softmax_T(np.log(np.clip(proba, EPS, 1.0)), self.temperature, self.bias)
        out = np.empty_like(proba)
        for k, tab in enumerate(self.isotonic):
            out[:, k] = np.interp(proba[:, k], tab["x"], tab["y"])
        out = np.clip(out, EPS, None)
        return out / out.sum(axis=1, keepdims=True)

    def apply_row(self, proba: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Single-row fast path into a preallocated ``out`` (live inference)."""
        if self.method == "temperature":
            np.log(np.maximum(proba, EPS), out=out)
            out /= self.temperature
            if len(self.bias):
                out += self.bias
            out -= out.max()
            np.exp(out, out=out)
            out /= out.sum()
            return out
        out[:] = self.apply(proba.reshape(1, -1))[0]
        return out

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"method": self.method, "temperature": self.temperature,
                "bias": self.bias.tolist(), "isotonic": self.isotonic}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        """Inverse of :meth:`to_dict`."""
        return cls(d.get("method", "none"), d.get("temperature", 1.0), d.get("isotonic"),
                   d.get("bias"))


def expected_calibration_error(proba: np.ndarray, y_idx: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: |accuracy − confidence| averaged over equal-width confidence bins."""
    if len(y_idx) == 0:
        return float("nan")
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_idx).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)
