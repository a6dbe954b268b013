"""Fold runner: fit, calibrate and score each walk-forward fold, locally or on Dask.

:func:`run_fold` is a pure function of (fold, dataset, spec) — seeded, fixed thread count —
so a fold gives the same numbers in this process, in a LocalCluster worker or on a remote
scheduler's worker. Dask is imported only when asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.config import Profile
from core.errors import ConfigError, ModelError
from core.ml.base import SEQUENCE_KINDS, ClassMap, FitInfo, Model
from core.ml.calibration import Calibrator
from core.ml.registry import make_model
from core.strategy.signals import direction_from_proba
from core.training.dataset import Dataset
from core.training.floor import FloorChoice, choose_floor
from core.training.metrics import ClassificationMetrics, classification_metrics
from core.training.splits import Fold
from core.training.trading import (TradingMetrics, bar_frame, decile_table, period_signals,
                                    round_trip_cost, traded_subset,
                                    trading_metrics, training_profile)

Progress = Callable[[float], None] | None


@dataclass(frozen=True)
class TrainSpec:
    """How to train and score each fold."""

    model_kind: str = "lightgbm"
    model_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 7
    num_threads: int = 1
    device: str = "cpu"
    calibration: str = "temperature"
    min_confidence: float = 0.60
    #: Each fold's test period is backtested under this profile, with ``min_confidence`` as
    #: its confidence floor (None: classification metrics only).
    profile: Profile | None = None
    shuffle_labels: bool = False  #: destroy the signal on purpose (a sanity check)
    #: Choose each fold's confidence floor on its validation bars (core.training.floor)
    #: instead of ``min_confidence``; needs a profile (its costs value the signals).
    auto_floor: bool = False
    #: The label horizon (s): signal bars closer than this share one coin flip in the
    #: random-direction baseline (core.training.trading.signal_clusters); 0: one per bar.
    horizon_seconds: float = 0.0


@dataclass
class FoldResult:
    """Everything measured on one fold (the model only when asked for)."""

    number: int
    is_holdout: bool
    spans: dict[str, int]
    rows: dict[str, int]
    fit: FitInfo
    val_metrics: ClassificationMetrics
    metrics: ClassificationMetrics
    trading: TradingMetrics | None
    class_moves: dict[str, list[float]]
    seconds: float
    model: Model | None = None
    calibrator: Calibrator | None = None
    #: Out-of-sample arrays for the training report (calibration, confidence deciles);
    #: never written to the model card.
    diagnostics: dict[str, np.ndarray] | None = None
    #: Per confidence decile of the UP/DOWN predictions, held for the label horizon: bars,
    #: precision, ticks, $ after costs and the random-direction baseline on the same bars
    #: (:func:`core.training.trading.decile_table`).
    deciles: list[dict[str, float]] = field(default_factory=list)
    #: The same for the predictions at or above the confidence floor (the traded subset
    #: before the profile's exits and risk rules; :func:`~core.training.trading.traded_subset`).
    traded: dict[str, float] | None = None
    #: The confidence floor this fold traded at (``spec.min_confidence`` unless chosen on
    #: validation; then see ``floor_choice``).
    floor: float = float("nan")
    floor_choice: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready (no model)."""
        return {"fold": self.number, "holdout": self.is_holdout, "spans": self.spans,
                "rows": self.rows, "best_iteration": self.fit.best_iteration,
                "iterations": self.fit.iterations, "val": self.val_metrics.to_dict(),
                "test": self.metrics.to_dict(),
                "trading": self.trading.to_dict() if self.trading else None,
                "traded_at_horizon": self.traded, "deciles": self.deciles,
                "floor": self.floor, "floor_choice": self.floor_choice,
                "seconds": round(self.seconds, 3)}


def mirror_tie(model: Model) -> tuple[int, int] | None:
    """(DOWN, UP) column indices when ``model`` is a binary DOWN/UP model that learned in
    mirror orientation (their calibration biases are tied, so no bias:
    core.ml.calibration.Calibrator.fit), else None.

    Binary only: measured there (the sparse-edge research runs on binary labels). A
    three-class model keeps free biases — with FLAT the bias also undoes the class-balanced
    weights' prior shift, and tying UP to DOWN changed which bars leave FLAT on real data.
    """
    if getattr(model, "_mirror", None) is None:
        return None
    vals = [int(c) for c in model.classes]
    return (0, 1) if sorted(vals) == [-1, 1] and len(vals) == 2 else None


def predict_rows(model: Model, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Probabilities for ``rows``; sequence models get their preceding rows as context.

    Context rows lie *before* each predicted row (features are causal), so this is what a
    live run would have seen — it only avoids repeat-padding at the start of a period.
    """
    if len(rows) == 0:
        return np.empty((0, len(model.classes)))
    lo, hi = int(rows.min()), int(rows.max()) + 1
    ctx = 0
    if getattr(model, "kind", "") in SEQUENCE_KINDS:
        ctx = min(lo, int(getattr(model, "window", 1)) - 1)
    p = model.predict_proba(X[lo - ctx: hi])[ctx:]
    return p[rows - lo]


def class_moves(data: Dataset, rows: np.ndarray, classes: np.ndarray) -> dict[str, list[float]]:
    """Mean signed and mean absolute move (ticks) per class on ``rows`` (training rows)."""
    mv = data.move_ticks[rows]
    y = data.y[rows]
    mean, absm = [], []
    for c in classes:
        m = mv[(y == c) & np.isfinite(mv)]
        mean.append(float(m.mean()) if len(m) else 0.0)
        absm.append(float(np.abs(m).mean()) if len(m) else 0.0)
    return {"mean": mean, "abs": absm}


def run_fold(fold: Fold, data: Dataset, spec: TrainSpec, *, keep_model: bool = False,
             model: Model | None = None, progress: Progress = None) -> FoldResult:
    """Fit on the fold's train rows, early-stop and calibrate on val, score on test.

    ``model`` overrides the fresh model of ``spec`` (e.g. a warm-started one for updates).
    """
    started = time.perf_counter()
    tr = fold.train[data.valid[fold.train]]
    va = fold.val[data.valid[fold.val]]
    te = fold.test[data.valid[fold.test]]
    if min(len(tr), len(va), len(te)) == 0:
        raise ModelError(f"fold {fold.number}: no usable rows (train {len(tr)}, val {len(va)}, "
                         f"test {len(te)}) after warm-up and label horizon",
                         hint="use longer periods (fewer --folds) or more data")
    y_tr = data.y[tr]
    if spec.shuffle_labels:
        y_tr = np.random.default_rng(spec.seed + fold.number).permutation(y_tr)
    if model is None:
        model = make_model(spec.model_kind, params=spec.model_params, seed=spec.seed,
                           num_threads=spec.num_threads, device=spec.device)
    extra = {}
    if getattr(model, "kind", "") == "lightgbm":
        if getattr(model, "feature_names", None) is None:
            model.feature_names = list(data.feature_names)  # for the mirror orientation
        # Stop on what the traded bars would earn on validation, not the overall log loss
        # (core.ml.lgbm: rare events are invisible in a loss averaged over every bar).
        extra["val_moves"] = data.move_ticks[va]
    info = model.fit(data.X[tr], y_tr, data.X[va], data.y[va], progress=progress, **extra)
    cmap = ClassMap(tuple(int(c) for c in model.classes))
    raw_val = predict_rows(model, data.X, va)
    yv = cmap.to_index(data.y[va])
    cal = Calibrator.fit(raw_val, yv, spec.calibration, tie=mirror_tie(model))
    prior = np.bincount(cmap.to_index(y_tr), minlength=cmap.n) / len(y_tr)
    val_p = cal.apply(raw_val)
    val_m = classification_metrics(val_p, yv, model.classes, prior)
    choice = None
    if spec.auto_floor:
        # Validation bars only (already used for stopping and calibration): the test fold
        # is scored at a floor it had no say in.
        choice = validation_floor(val_p, np.asarray(model.classes), yv, data.move_ticks[va], spec)
        if choice is not None:
            spec = replace(spec, min_confidence=choice.floor)
    test_m, trading, diag = score_period(model, cal, data, fold.test, spec, prior,
                                         seed=spec.seed + fold.number)
    deciles, traded = horizon_tables(diag, spec, seed=spec.seed + fold.number)
    return FoldResult(
        number=fold.number, is_holdout=fold.is_holdout,
        spans={"train_start": fold.train_start, "val_start": fold.val_start,
               "test_start": fold.test_start, "test_end": fold.test_end},
        rows={"train": int(len(tr)), "val": int(len(va)), "test": int(len(te))},
        fit=info, val_metrics=val_m, metrics=test_m, trading=trading,
        class_moves=class_moves(data, tr, model.classes),
        seconds=time.perf_counter() - started,
        model=model if keep_model else None, calibrator=cal if keep_model else None,
        diagnostics=diag, deciles=deciles, traded=traded, floor=float(spec.min_confidence),
        floor_choice=choice.to_dict() if choice is not None else None)


def validation_floor(val_proba: np.ndarray, classes: np.ndarray, y_index: np.ndarray,
                     val_moves: np.ndarray, spec: TrainSpec) -> FloorChoice | None:
    """The fold's floor chosen on its calibrated validation predictions (None without a
    profile to price them: the fixed ``spec.min_confidence`` stays)."""
    priced = pricing(spec)
    if priced is None:
        return None
    tv, cost = priced
    d = diagnostics(val_proba, classes, y_index, val_moves)
    return choose_floor(d["dir_confidence"], d["dir_move_ticks"], tick_value=tv,
                        cost_per_contract=cost)


def pricing(spec: TrainSpec) -> tuple[float, float] | None:
    """($ per tick, round-trip cost per contract) of the profile's instrument, or None."""
    if spec.profile is None:
        return None
    from core.domain import get_instrument
    try:
        tv = float(get_instrument(spec.profile.instrument).tick_value)
    except KeyError:
        return None
    return tv, round_trip_cost(spec.profile, tv)


def horizon_tables(diag: dict[str, np.ndarray], spec: TrainSpec, *, seed: int
                   ) -> tuple[list[dict[str, float]], dict[str, float] | None]:
    """Decile table and traded subset of a fold's UP/DOWN predictions (empty without a profile).

    Priced as the profile's instrument with its RTH round-trip costs, like the backtester.
    """
    priced = pricing(spec)
    if priced is None:
        return [], None
    tv, cost = priced
    conf, move = diag["dir_confidence"], diag["dir_move_ticks"]
    # Coin flips per cluster of overlapping label horizons (core.training.trading.horizon_row).
    ts, hz = diag.get("dir_ts"), int(spec.horizon_seconds * 1e9)
    return (decile_table(conf, move, tick_value=tv, cost_per_contract=cost, seed=seed,
                         ts=ts, horizon_ns=hz),
            traded_subset(conf, move, spec.min_confidence, tick_value=tv,
                          cost_per_contract=cost, seed=seed, ts=ts, horizon_ns=hz))


def diagnostics(proba: np.ndarray, classes: np.ndarray, y_index: np.ndarray,
                move_ticks: np.ndarray, ts: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per scored bar: the top class's calibrated confidence, whether it was right, and for
    bars whose top class is UP or DOWN the move that followed in the predicted direction
    (ticks over the label horizon). Feeds the calibration curve and the expectancy by
    confidence decile of the training report."""
    top = proba.argmax(axis=1)
    conf = proba[np.arange(len(top)), top]
    sign = np.sign(np.asarray(classes)[top])
    directional = sign != 0
    out = {"confidence": conf.astype(np.float32), "hit": (top == y_index),
           "dir_confidence": conf[directional].astype(np.float32),
           "dir_move_ticks": (move_ticks[directional] * sign[directional]).astype(np.float32)}
    if ts is not None:   # bar times of the UP/DOWN rows: clusters for the coin flips
        out["dir_ts"] = np.asarray(ts, np.int64)[directional]
    return out


def score_period(model: Model, cal: Calibrator, data: Dataset, rows: np.ndarray,
                 spec: TrainSpec, prior: np.ndarray | None, *, seed: int
                 ) -> tuple[ClassificationMetrics, TradingMetrics | None, dict[str, np.ndarray]]:
    """Classification and trading metrics of a fitted model over a test period ``rows``,
    and the per-bar :func:`diagnostics` of its predictions."""
    te = rows[data.valid[rows]]
    cmap = ClassMap(tuple(int(c) for c in model.classes))
    proba = cal.apply(predict_rows(model, data.X, te))
    y_index = cmap.to_index(data.y[te])
    metrics = classification_metrics(proba, y_index, model.classes, prior)
    diag = diagnostics(proba, np.asarray(model.classes), y_index, data.move_ticks[te],
                       ts=data.ts[te])
    trading = None
    if spec.profile is not None:
        # The whole period goes to the backtester (exits may happen on any of its bars);
        # only scored bars carry signals.
        lo, hi = int(rows.min()), int(rows.max()) + 1
        sig = period_signals(proba, model.classes, te - lo, hi - lo, spec.min_confidence)
        profile = training_profile(spec.profile, spec.min_confidence)
        trading = trading_metrics(bar_frame(data.bars, lo, hi), sig, profile, seed=seed)
        # Why a fold took no trades is the first question a trader asks: keep the answer.
        d_all, c_all, _ = direction_from_proba(proba, np.asarray(model.classes))
        directional = c_all[d_all != 0]
        trading = replace(trading, signal_bars=int(np.count_nonzero(sig.direction)),
                          top_confidence=float(directional.max()) if directional.size
                          else float("nan"))
    return metrics, trading, diag


def run_folds(folds: list[Fold], data: Dataset, spec: TrainSpec, *, workers: int | None = None,
              cluster: str | None = None, keep_holdout_model: bool = True,
              progress: Progress = None) -> list[FoldResult]:
    """Run every fold: in this process by default, on Dask with ``workers``/``cluster``.

    Args:
        folds: From :func:`core.training.splits.walk_forward`.
        data: The dataset (scattered once to every worker when on Dask).
        spec: Training spec (seeded; results do not depend on where a fold runs).
        workers: Start a LocalCluster with this many worker processes.
        cluster: Address of an existing scheduler (``tcp://host:8786``).
        keep_holdout_model: Return the holdout fold's fitted model (the one to save).
        progress: Called with the fraction of folds done.
    """
    keep = [f.is_holdout and keep_holdout_model for f in folds]
    if not workers and not cluster:
        out = []
        for i, (f, k) in enumerate(zip(folds, keep)):
            out.append(run_fold(f, data, spec, keep_model=k))
            if progress:
                progress((i + 1) / len(folds))
        return out
    return _run_on_dask(folds, keep, data, spec, workers, cluster, progress)


def _run_on_dask(folds: list[Fold], keep: list[bool], data: Dataset, spec: TrainSpec,
                 workers: int | None, cluster: str | None, progress: Progress) -> list[FoldResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("Dask is not installed", hint="pip install 'scalpdesk[cluster]' "
                          "or run without --workers/--cluster") from None
    local = None
    try:
        if cluster:
            try:
                client = Client(cluster, timeout="5s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {cluster}: {exc}",
                                  hint="start one with `dask scheduler` and pass its "
                                       "tcp://host:port address") from None
        else:
            # One thread per worker process: each fold controls its own thread count.
            local = LocalCluster(n_workers=int(workers or 1), threads_per_worker=1,
                                 processes=True, dashboard_address=None)
            client = Client(local)
        with client:
            shared = client.scatter(data, broadcast=True)
            futs = {client.submit(run_fold, f, shared, spec, keep_model=k, pure=False): i
                    for i, (f, k) in enumerate(zip(folds, keep))}
            results: list[FoldResult | None] = [None] * len(folds)
            for done, fut in enumerate(as_completed(list(futs)), start=1):
                results[futs[fut]] = fut.result()
                if progress:
                    progress(done / len(folds))
        return [r for r in results if r is not None]
    finally:
        if local is not None:
            local.close()
