"""Lookahead detector: a feature value at bar t must not change when later bars change.

:func:`check_causal` recomputes a feature function on altered copies of a frame and compares
the rows at and before each cut point with the original:

* ``truncate``: every bar after the cut is removed;
* ``perturb``: the prices of every bar after the cut are scaled by random factors (OHLC stay
  consistent) and volumes are redrawn;
* ``drop``: a random half of the bars after the cut is removed (catches features that look
  at future *timestamps*, e.g. "time until the next bar").

A causal feature gives identical rows ``0..cut`` in all three; anything else is a violation.
The function is generic: it checks any ``frame -> matrix`` callable, including
:func:`core.features.compute_features` and labels-as-features mistakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_PRICE = ("open", "high", "low", "close")
MODES: tuple[str, ...] = ("truncate", "perturb", "drop")


@dataclass(frozen=True)
class Violation:
    """One feature value that changed when only later bars changed."""

    feature: str
    row: int
    cut: int
    mode: str
    original: float
    altered: float

    def __str__(self) -> str:
        return (f"{self.feature}: row {self.row} changed from {self.original!r} to "
                f"{self.altered!r} when bars after row {self.cut} were {self.mode}d")


def _take(frame: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a DataFrame or a mapping of equal-length arrays."""
    if hasattr(frame, "iloc"):
        return frame.iloc[idx].reset_index(drop=True)
    return {k: np.asarray(v)[idx] for k, v in frame.items()}


def _with_columns(frame: Any, cols: Mapping[str, np.ndarray]) -> Any:
    """Copy of ``frame`` with some columns replaced."""
    if hasattr(frame, "iloc"):
        out = frame.copy()
        for k, v in cols.items():
            out[k] = v.astype(out[k].dtype, copy=False)
        return out
    out = {k: np.array(v, copy=True) for k, v in frame.items()}
    out.update(cols)
    return out


def _matrix(res: Any) -> tuple[np.ndarray, list[str] | None]:
    if isinstance(res, tuple):
        X, names = res[0], list(res[1])
    else:
        X, names = res, None
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    return X, names


def _compare(base: np.ndarray, alt: np.ndarray, cut: int, mode: str, names: list[str],
             rtol: float, atol: float, out: list[Violation], limit: int) -> None:
    a = base[:cut + 1]
    b = alt[:cut + 1]
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        close = np.abs(a - b) <= atol + rtol * np.abs(a)
    bad = ~(both_nan | close)
    for r, j in zip(*np.nonzero(bad)):
        if len(out) >= limit:
            return
        out.append(Violation(names[j], int(r), cut, mode, float(a[r, j]), float(b[r, j])))


def check_causal(feature_fn: Callable[[Any], Any], frame: Any, *,
                 cuts: Sequence[int] | None = None, n_cuts: int = 4,
                 modes: Sequence[str] = MODES, seed: int = 0, rtol: float = 1e-9,
                 atol: float = 0.0, max_violations: int = 1000) -> list[Violation]:
    """Find feature values that depend on bars after their own bar.

    Args:
        feature_fn: ``frame -> X`` or ``frame -> (X, names)``; ``X`` has one row per bar.
        frame: Canonical bar frame (DataFrame) or a mapping of its column arrays.
        cuts: Row indices to cut after; default ``n_cuts`` random rows (seeded).
        n_cuts: How many random cut points when ``cuts`` is not given.
        modes: Subset of ``("truncate", "perturb", "drop")``.
        seed: Random seed of cut points and perturbations (results are reproducible).
        rtol: Relative tolerance of "unchanged" (NaN equals NaN).
        atol: Absolute tolerance of "unchanged".
        max_violations: Stop collecting after this many.

    Returns:
        Every violation found (empty list: no lookahead detected).
    """
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown causality modes {sorted(unknown)}; use {MODES}")
    rng = np.random.default_rng(seed)
    n = len(frame["close"])
    if n < 3:
        return []
    base, names = _matrix(feature_fn(frame))
    if names is None:
        names = [f"col{j}" for j in range(base.shape[1])]
    if cuts is None:
        lo = max(1, n // 10)
        cuts = sorted(set(rng.integers(lo, n - 1, size=n_cuts).tolist()))
    out: list[Violation] = []
    prices = {k: np.asarray(frame[k], dtype=np.float64) for k in _PRICE}
    vol = np.asarray(frame["volume"])
    for cut in cuts:
        cut = int(cut)
        if not 0 <= cut < n - 1:
            continue
        for mode in modes:
            if mode == "truncate":
                alt_frame = _take(frame, np.arange(cut + 1))
            elif mode == "drop":
                later = np.arange(cut + 1, n)
                keep = later[rng.random(later.size) < 0.5]
                alt_frame = _take(frame, np.concatenate([np.arange(cut + 1), keep]))
            else:
                m = n - cut - 1
                # One positive factor per later bar keeps low <= open, close <= high.
                f = np.exp(rng.normal(0.0, 0.01, m).cumsum())
                cols = {}
                for k in _PRICE:
                    p = prices[k].copy()
                    p[cut + 1:] *= f
                    cols[k] = p
                v = vol.copy()
                v[cut + 1:] = rng.integers(1, 1000, m).astype(v.dtype)
                cols["volume"] = v
                alt_frame = _with_columns(frame, cols)
            alt, _ = _matrix(feature_fn(alt_frame))
            _compare(base, alt, cut, mode, names, rtol, atol, out, max_violations)
            if len(out) >= max_violations:
                return out
    return out
