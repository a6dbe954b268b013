"""What every trial shares: the bars, the base profile, the signal source and the folds.

Built once on the client and sent to every Dask worker once (``scatter(broadcast=True)``).

Time layout (rows, time flows right)::

    [ validation fold 1 | fold 2 | … | fold K ] [ held-out test ]
      parameters are chosen here only             scored once, after the sweep

* Fixed signals (``sma-cross``, ``random``, a saved ``--model``): the bars before the
  held-out test are cut into K equal-row folds, each traded as a fresh account.
* ``--retrain``: :func:`core.training.splits.walk_forward_auto` folds (purged by the label
  horizon, expanding train window); a trial fits its model on each fold's train rows
  (early-stopped and calibrated on the fold's val rows) and trades the fold's test rows —
  those test windows are the sweep's validation folds. The held-out test is the walk-forward
  holdout: no trial ever sees it.

P&L is also bucketed for the overfitting statistics: per trading day (the Sharpe objective,
the deflated Sharpe) and in T equal-row buckets of the validation bars (CSCV rows; T is the
number of validation days, at least 64 and at most 1024).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.config import Profile
from core.errors import ConfigError, DataError
from core.strategy.signals import Signals

SOURCES = ("sma-cross", "random", "model", "retrain")
MIN_BUCKETS = 64
MAX_BUCKETS = 1024


@dataclass(frozen=True)
class SweepSettings:
    """The choices that define a sweep (stored in its manifest; a resume must match)."""

    method: str = "random"
    trials: int = 50
    folds: int = 6
    seed: int = 7
    objective: str = "sharpe"
    min_trades: int = 30
    holdout: float = 0.2
    source: str = "sma-cross"  #: sma-cross | random | model | retrain
    model: str | None = None  #: a saved model (source "model")
    model_kind: str = "lightgbm"  #: the learner refitted per fold (source "retrain")

    def identity(self) -> dict[str, Any]:
        """The fields a resumed sweep must share (``trials`` may grow)."""
        d = asdict(self)
        d.pop("trials")
        return d


@dataclass(frozen=True)
class Span:
    """Rows ``[lo, hi)`` of the bars traded as one fresh account."""

    fold: int  #: validation fold number, or -1 for the held-out test
    lo: int
    hi: int
    start_ns: int
    end_ns: int


@dataclass
class SweepContext:
    """Everything a trial reads (see the module docstring)."""

    settings: SweepSettings
    profile: Profile
    token: str  #: identifies (data, settings, profile): keys the per-process caches
    bars: pd.DataFrame  #: every bar (built-in strategies compute causally over all of them)
    frames: list[pd.DataFrame]  #: bars of each validation span, then the test span
    spans: list[Span]  #: validation spans
    test: Span
    bucket_of_bar: np.ndarray  #: int32 per bar: CSCV bucket of a validation bar, else -1
    n_buckets: int
    day_of_bar: np.ndarray  #: int32 per bar: index of its trading day within its role
    n_val_days: int
    n_test_days: int
    signals: Signals | None = None  #: fixed signals of a saved model (source "model")
    dataset: Any = None  #: core.training.dataset.Dataset (source "retrain")
    wf_folds: list[Any] = field(default_factory=list)  #: training folds (source "retrain")
    bar_seconds: float = 60.0
    notes: list[str] = field(default_factory=list)

    @property
    def n_bars(self) -> int:
        """Bars in the whole data."""
        return len(self.bucket_of_bar)


def _equal_spans(ts: np.ndarray, k: int, end: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, end, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _retrain_layout(bars: pd.DataFrame, bar_seconds: int, profile: Profile,
                    st: SweepSettings, notes: list[str]) -> tuple[Any, list[Any]]:
    """Dataset (features + labels from the profile's [label]) and purged walk-forward folds."""
    from core.domain import get_instrument, root_of
    from core.features.registry import feature_set_for
    from core.training.dataset import build_dataset, purge_ns
    from core.training.pipeline import TrainRequest, label_session, label_spec
    from core.training.splits import walk_forward_auto

    root = root_of(str(bars["symbol"].iloc[0])) if "symbol" in bars.columns else profile.instrument
    try:
        inst = get_instrument(root)
    except KeyError:
        inst = get_instrument(profile.instrument)
    label = label_spec(TrainRequest(profile=profile), bar_seconds, notes,
                       label_session(bars, inst.exchange))
    data = build_dataset(bars, label=label, tick_size=inst.tick_size, bar_seconds=bar_seconds,
                         feature_set=feature_set_for(bar_seconds, sessions=not inst.continuous))
    folds = walk_forward_auto(data.ts, st.folds, purge_ns=purge_ns(label, bar_seconds),
                              holdout_fraction=st.holdout)
    if not any(f.is_holdout for f in folds):
        raise ConfigError("no held-out test period could be formed",
                          hint="use more data or a larger holdout in the space's [sweep]")
    return data, folds


def _model_signals(bars: pd.DataFrame, model: str, notes: list[str]) -> Signals:
    """A saved model's signals with its training bars silenced (never trade in-sample)."""
    from core.strategy.model import (drop_in_sample, in_sample_mask, model_signals,
                                     model_training_span)

    sig = model_signals(bars, model)
    mask = in_sample_mask(bars, model_training_span(model))
    if mask.all():
        raise ConfigError(f"every bar of --data lies in model {model}'s training data: a sweep "
                          "there would tune on in-sample predictions",
                          hint="sweep on bars after the model's holdout start, or use --retrain")
    if mask.any():
        notes.append(f"{int(mask.sum()):,} of {len(bars):,} bars lie in model {model}'s training "
                     "data and carry no signals")
        sig = drop_in_sample(sig, mask)
    return sig


def build_context(bars: pd.DataFrame, bar_seconds: float, profile: Profile,
                  st: SweepSettings) -> SweepContext:
    """Lay out folds, the held-out test and the P&L buckets; prepare the signal source.

    Raises:
        ConfigError: Too little data for the folds, an unknown source, an in-sample model.
        DataError: Unsorted bars.
    """
    if st.source not in SOURCES:
        raise ConfigError(f"unknown signal source {st.source!r}",
                          hint="use --strategy sma-cross|random, --model NAME or --retrain")
    ts = bars["timestamp"].to_numpy(np.int64)
    n = len(ts)
    if n < 200 * (st.folds + 1):
        raise DataError(f"{n:,} bars are too few for {st.folds} validation folds and a "
                        "held-out test (each needs a few hundred bars)",
                        hint="use more data or fewer --folds")
    if np.any(np.diff(ts) <= 0):
        raise DataError("bars are not strictly increasing in time",
                        hint="run `scalpdesk data validate` on the file")
    notes: list[str] = []
    signals, data, wf = None, None, []
    if st.source == "retrain":
        data, wf = _retrain_layout(bars, int(round(bar_seconds)), profile, st, notes)
        val = [(int(f.test.min()), int(f.test.max()) + 1) for f in wf if not f.is_holdout]
        hold = next(f for f in wf if f.is_holdout)
        test = (int(hold.test.min()), int(hold.test.max()) + 1)
        if len(val) < st.folds:
            notes.append(f"only {len(val)} of {st.folds} walk-forward folds had rows to use")
    else:
        h = n - int(round(n * st.holdout))
        val = _equal_spans(ts, st.folds, h)
        test = (h, n)
        if st.source == "model":
            if not st.model:
                raise ConfigError("signal source 'model' needs a model name", hint="--model NAME")
            signals = _model_signals(bars, st.model, notes)
    spans = [Span(i, a, b, int(ts[a]), int(ts[b - 1])) for i, (a, b) in enumerate(val)]
    tspan = Span(-1, test[0], test[1], int(ts[test[0]]), int(ts[test[1] - 1]))
    frames = [bars.iloc[s.lo:s.hi].reset_index(drop=True) for s in (*spans, tspan)]
    bucket, n_buckets, day, n_val_days, n_test_days = _buckets(ts, spans, tspan, profile)
    token = _token(bars, profile, st)
    return SweepContext(settings=st, profile=profile, token=token, bars=bars, frames=frames, spans=spans, test=tspan,
                        bucket_of_bar=bucket, n_buckets=n_buckets, day_of_bar=day,
                        n_val_days=n_val_days, n_test_days=n_test_days, signals=signals,
                        dataset=data, wf_folds=wf, bar_seconds=float(bar_seconds), notes=notes)


def data_fingerprint(bars: pd.DataFrame) -> str:
    """SHA-256 (16 hex digits) of every timestamp and price: the data's identity."""
    import hashlib

    h = hashlib.sha256()
    for col in ("timestamp", "open", "high", "low", "close"):
        h.update(np.ascontiguousarray(bars[col].to_numpy()).tobytes())
    return h.hexdigest()[:16]


def _token(bars: pd.DataFrame, profile: Profile, st: SweepSettings) -> str:
    import hashlib
    import json

    from core.sweep.apply import profile_raw

    text = json.dumps([data_fingerprint(bars), asdict(st), profile_raw(profile)],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _buckets(ts: np.ndarray, spans: list[Span], test: Span, profile: Profile
             ) -> tuple[np.ndarray, int, np.ndarray, int, int]:
    """CSCV buckets over the validation bars and trading-day indices per role."""
    from core.daycut import DayRule

    n = len(ts)
    rule = DayRule.of(profile)
    day_ids = rule.days(ts)
    day = np.full(n, -1, np.int32)
    val_rows = np.concatenate([np.arange(s.lo, s.hi) for s in spans])
    uniq, inv = np.unique(day_ids[val_rows], return_inverse=True)
    day[val_rows] = inv
    t_rows = np.arange(test.lo, test.hi)
    t_uniq, t_inv = np.unique(day_ids[t_rows], return_inverse=True)
    day[t_rows] = t_inv
    n_buckets = int(min(MAX_BUCKETS, max(MIN_BUCKETS, len(uniq)), max(1, len(val_rows) // 10)))
    bucket = np.full(n, -1, np.int32)
    bucket[val_rows] = (np.arange(len(val_rows)) * n_buckets // len(val_rows)).astype(np.int32)
    return bucket, n_buckets, day, len(uniq), len(t_uniq)
