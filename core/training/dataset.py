"""Turn a bar frame into the arrays a walk-forward run needs: features, labels, bars.

Everything stays full-length and row-aligned with the frame: ``valid`` marks rows that may be
used to fit or score (label defined, feature warm-up over); trading evaluation still walks
every bar of a test period (exits happen on bars whose own label is undefined) and hands
them to the backtester as a canonical bar frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError, ModelError

NS = 1_000_000_000
CLASSIFICATION_LABELS = ("direction", "binary", "triple_barrier")


@dataclass
class Dataset:
    """Row-aligned arrays of one instrument's bars (see module docstring)."""

    X: np.ndarray  #: float32 n×k features (NaN during warm-up)
    y: np.ndarray  #: int64 label values (meaningless where not ``valid``)
    valid: np.ndarray  #: bool
    ts: np.ndarray  #: int64 bar start, UTC ns
    bars: dict[str, np.ndarray]  #: ts/open/high/low/close/volume for the backtester
    move_ticks: np.ndarray  #: close-to-close move over the lookahead, ticks (NaN at the end)
    feature_names: list[str]
    bar_seconds: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.ts)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of timestamps, OHLC and volume: identifies the data."""
    h = hashlib.sha256()
    for col in ("timestamp", "open", "high", "low", "close", "volume"):
        h.update(np.ascontiguousarray(frame[col].to_numpy()).tobytes())
    return h.hexdigest()[:16]


def forward_move_ticks(ts: np.ndarray, close: np.ndarray, lookahead_ns: int,
                       tick_size: float) -> np.ndarray:
    """Close at the last bar starting ≤ t + lookahead, minus close at t, in ticks."""
    j = np.searchsorted(ts, ts + lookahead_ns, side="right") - 1
    move = (close[j] - close) / tick_size
    move[ts + lookahead_ns > ts[-1]] = np.nan  # the data ends before the horizon
    return move


def build_dataset(frame: pd.DataFrame, *, label: Any, tick_size: float, bar_seconds: int,
                  feature_set: str = "default",
                  features: Sequence[str] | None = None) -> Dataset:
    """Features (``core.features``), labels (``core.labels``) and bar arrays of ``frame``.

    Args:
        frame: Canonical bar frame (``core.datasets.schema``), sorted, one instrument.
        label: A ``core.labels.LabelSpec``.
        tick_size: Instrument tick size (labels and moves are in ticks).
        bar_seconds: Bar length in seconds.
        feature_set: Name passed to ``compute_features``.
        features: Keep only these columns of the set (``train --features``; names already
            resolved by ``core.features.selection``). Warm-up is judged on them alone, as
            live inference judges it on the model's own columns.

    Raises:
        DataError: Empty or unsorted frame.
        ModelError: A label kind training cannot use.
    """
    from core.features import compute_features
    from core.labels import make_labels

    if label.kind not in CLASSIFICATION_LABELS:
        raise ModelError(
            f"label kind {label.kind!r} is a regression target; `train` fits classifiers",
            hint=f"use --label {' | '.join(CLASSIFICATION_LABELS)}")
    if len(frame) < 100:
        raise DataError(f"only {len(frame)} bars: far too few to train on",
                        hint="use at least several days of bars")
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    if np.any(np.diff(ts) <= 0):
        raise DataError("bars are not strictly increasing in time",
                        hint="run `scalpdesk data validate` on the file and fix duplicates/order")
    X, names = compute_features(frame, feature_set)
    if features is not None:
        from core.features.selection import column_index
        idx = column_index(names, features, subset=True, where=f"feature set {feature_set!r}")
        X, names = X[:, idx], [names[i] for i in idx]
    X = np.ascontiguousarray(X, dtype=np.float32)
    y, lvalid = make_labels(frame, label, tick_size)
    y = np.asarray(y)
    lvalid = np.asarray(lvalid, dtype=bool)
    # A feature that is NaN for the whole frame (e.g. aggressor volume on bar data) would
    # otherwise make every row "in warm-up": ignore such columns when judging warm-up.
    usable = ~np.all(np.isnan(X), axis=0)
    warm = ~np.any(np.isnan(X[:, usable]), axis=1)
    valid = lvalid & warm & np.isfinite(y.astype(np.float64))
    y = np.where(valid, y, 0).astype(np.int64)
    o, h, l, c, v = (frame[k].to_numpy(dtype=np.float64)
                     for k in ("open", "high", "low", "close", "volume"))
    # Sessions, RTH and the end-of-day schedule are the backtester's business (the profile).
    bars = {"ts": ts, "open": o, "high": h, "low": l, "close": c, "volume": v}
    lookahead_ns = int(label.lookahead_seconds) * NS
    meta = {
        "rows": int(len(ts)), "valid_rows": int(valid.sum()), "start_ns": int(ts[0]),
        "end_ns": int(ts[-1]), "data_hash": data_hash(frame),
        "symbols": sorted(str(s) for s in pd.unique(frame["symbol"].astype(str)))[:20],
        "unused_features": [n for n, u in zip(names, usable) if not u],
    }
    return Dataset(X=X, y=y, valid=valid, ts=ts, bars=bars,
                   move_ticks=forward_move_ticks(ts, c, lookahead_ns, tick_size),
                   feature_names=list(names), bar_seconds=int(bar_seconds), meta=meta)


def purge_ns(label: Any, bar_seconds: int) -> int:
    """How far a label looks ahead, including the bar the label's exit price closes."""
    try:
        from core.labels import horizon_ns
        h = int(horizon_ns(label))
    except (ImportError, TypeError):
        h = int(label.lookahead_seconds) * NS
    return h + int(bar_seconds) * NS
