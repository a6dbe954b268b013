"""The model protocol every learner implements, plus the small helpers they share.

A model maps a feature matrix ``X`` (float32, n×k, NaN allowed where a feature is still
warming up) to class probabilities. Class *values* are the label values (``-1, 0, +1`` for
3-class direction, ``-1, +1`` for binary); models work internally with class *indices*
``0..K-1`` in ascending value order, and :class:`ClassMap` converts between the two.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.errors import ModelError

Progress = Callable[[float], None] | None

#: Model kinds the product knows (the CLI's ``--model`` choices).
MODEL_KINDS: tuple[str, ...] = ("lightgbm", "ff", "lstm", "tcn", "transformer")
#: Kinds that look at a window of past rows rather than one row.
SEQUENCE_KINDS: tuple[str, ...] = ("lstm", "tcn", "transformer")


@runtime_checkable
class Model(Protocol):
    """What the training loop and the live predictor need from a learner."""

    kind: str
    classes: np.ndarray  #: label values in index order, e.g. ``[-1, 0, 1]``

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *,
            progress: Progress = None) -> FitInfo:
        """Train on ``(X, y)``; stop early on ``(X_val, y_val)``. ``y`` holds class values."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated probabilities, n×K, columns in :attr:`classes` order."""
        ...

    def save(self, directory: Path) -> None:
        """Write weights and config into ``directory`` (which exists and is empty)."""
        ...


@dataclass
class FitInfo:
    """What a fit did: iterations/epochs run, the best one, and the loss curve."""

    best_iteration: int
    iterations: int
    best_val_loss: float
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class ClassMap:
    """Maps label values (``-1, 0, 1``) to contiguous indices and back."""

    values: tuple[int, ...]

    @classmethod
    def from_labels(cls, *ys: np.ndarray) -> ClassMap:
        """The sorted set of values seen in any of ``ys``."""
        vals = sorted({int(v) for y in ys for v in np.unique(np.asarray(y))})
        if len(vals) < 2:
            raise ModelError(
                f"the labels hold only one class ({vals}); nothing to learn",
                hint="use more data, a shorter lookahead or a smaller threshold")
        return cls(tuple(vals))

    def to_index(self, y: np.ndarray) -> np.ndarray:
        """Class values → indices (unknown values raise)."""
        arr = np.asarray(y).astype(np.int64)
        try:
            return _vector_index(arr, self.values)
        except KeyError as exc:
            raise ModelError(f"label value {exc.args[0]} is not one of the model's classes "
                             f"{self.values}") from None

    @property
    def n(self) -> int:
        """Number of classes."""
        return len(self.values)


def _vector_index(arr: np.ndarray, values: tuple[int, ...]) -> np.ndarray:
    vals = np.asarray(values, dtype=np.int64)
    idx = np.searchsorted(vals, arr)
    idx = np.clip(idx, 0, len(vals) - 1)
    bad = vals[idx] != arr
    if bad.any():
        raise KeyError(int(arr[np.argmax(bad)]))
    return idx.astype(np.int64)


def class_weights(y_idx: np.ndarray, n_classes: int) -> np.ndarray:
    """Balanced class weights ``n / (K · count)`` (absent classes get weight 0)."""
    counts = np.bincount(y_idx, minlength=n_classes).astype(np.float64)
    w = np.zeros(n_classes)
    nz = counts > 0
    w[nz] = len(y_idx) / (nz.sum() * counts[nz])
    return w


def check_xy(X: np.ndarray, y: np.ndarray, what: str) -> None:
    """Shape checks with a clear error (the most common misuse of a model API)."""
    if X.ndim != 2:
        raise ModelError(f"{what}: X must be 2-D (rows × features), got shape {X.shape}")
    if len(X) != len(y):
        raise ModelError(f"{what}: X has {len(X)} rows but y has {len(y)}")
    if len(X) == 0:
        raise ModelError(f"{what}: no rows to train on",
                         hint="use a longer data span or shorter warm-up/label horizon")


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (temp file in the same directory, then ``os.replace``)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, sort_keys=True, default=_json_default)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    """Read a JSON file, turning a missing/corrupt file into a ModelError."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing", hint="the model directory is incomplete; "
                         "retrain it with `scalpdesk train`") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})",
                         hint="the artifact is corrupt; retrain the model") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def atomic_dir(final: Path, fill: Callable[[Path], None], *, replace: bool = True) -> None:
    """Build a directory in a temp sibling via ``fill(tmp)``, then rename it into place.

    Nothing half-written is ever visible at ``final``: on failure the temp dir is removed;
    on success an existing ``final`` is swapped out (renamed aside, then deleted).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists() and not replace:
        raise ModelError(f"{final} already exists", hint="pick another --name or pass --force")
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.tmp-"))
    try:
        fill(tmp)
        if final.exists():
            old = final.parent / f".{final.name}.old-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
