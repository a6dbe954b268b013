"""LightGBM, the default learner (requirements §6: trees beat nets on this data).

Power for rare events (issue 11). A scalping edge usually lives on a few per cent of the bars
(a volume burst, a breakout); the rest is noise. Two defaults used to hide such edges:

* ``min_data_in_leaf`` 200 — with ~300 event bars in a fold, split between UP and DOWN, no leaf
  could isolate them. The default is now ``"auto"``: :func:`leaf_size` = 0.2 % of the training
  rows, between 20 and 200 (a pattern on 1 % of the bars still fills several leaves, and noise
  leaves stay big enough to average out). Against the extra noise splits small leaves allow:
  8 leaves per tree, ``lambda_l2`` 20 and half the features per tree (on the planted 1-minute
  breakout these kept the out-of-sample edge of the top bars steady from 25 to 400 rounds,
  where 31 leaves / ``lambda_l2`` 1 / 80 % of the features decayed after ~100).
* Early stopping on the overall log loss — dominated by the 98 % of bars without an edge, it
  stops after ~5 rounds, before any tree has looked at the rare bars. When the caller passes
  the validation rows' forward moves (``val_moves``, ticks over the label horizon), the model
  stops instead on :func:`edge_at_top`: the mean move in the predicted direction of the most
  confident 1, 2.5, 5 and 10 % of validation bars (averaged, so no single cut is tuned) — what
  the trades at a confidence floor would earn, in ticks. Validation rows only; test folds are
  never seen. The curve is smoothed over 10 rounds and at least ``min_rounds`` rounds are grown
  before it may stop.

Uses the native API (``lgb.train`` / ``lgb.Booster``), never the sklearn wrapper: the
wrapper's per-call validation costs more than the prediction itself on one row. Training is
deterministic for a given seed and ``num_threads`` (``deterministic=True``,
``force_row_wise=True``), so the same fold gives the same model locally and on Dask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from core.errors import ModelError
from core.ml.base import ClassMap, FitInfo, Progress, check_xy, class_weights, read_json, write_json
from core.ml.orientation import MirrorMap, mirror_map, orient, symmetric_classes, unorient

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 8,   # few leaves per tree: fewer noise splits for each real one
    "min_data_in_leaf": "auto",  # leaf_size(): small enough for rare events, see above
    "feature_fraction": 0.5,  # a noise feature cannot win every split of a tree
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 20.0,  # small leaves need shrinking: noise leaves stay near zero
    "max_bin": 63,  # coarse histograms: faster, and finer bins only fit noise here
}

#: Shares of the validation bars, most confident first, whose mean move :func:`edge_at_top`
#: averages (the traded subset at some confidence floor; several cuts, none tuned).
TOP_SHARES: tuple[float, ...] = (0.01, 0.025, 0.05, 0.10)


def leaf_size(n_rows: int) -> int:
    """``min_data_in_leaf`` for ``n_rows`` training rows: 0.2 % of them, clamped to 20..200.

    At 25,000 one-minute bars (a few months) this is 50, so an event on 1.4 % of the bars
    (~350 bars, ~175 per direction) can own a few leaves; at 100,000+ rows it is the old 200.
    """
    return int(min(200, max(20, round(0.002 * n_rows))))


def direction_score(proba: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """``P(UP) - P(DOWN)`` per row (None when the classes are not directions)."""
    vals = [int(c) for c in classes]
    if 1 not in vals or -1 not in vals:
        return None
    return proba[:, vals.index(1)] - proba[:, vals.index(-1)]


def edge_at_top(score: np.ndarray, moves: np.ndarray,
                shares: tuple[float, ...] = TOP_SHARES) -> float:
    """Mean move (ticks) in the predicted direction of the most confident bars.

    Args:
        score: Direction score per bar (positive = UP); ``|score|`` ranks confidence.
        moves: Forward move per bar over the label horizon (ticks; NaN ignored).
        shares: Top shares to average over.

    Returns:
        The average over ``shares`` of the mean signed move of the top share (0 if no rows).
    """
    ok = np.isfinite(moves)
    score, moves = score[ok], moves[ok]
    if len(score) == 0:
        return 0.0
    order = np.argsort(-np.abs(score), kind="stable")
    signed = (np.sign(score) * moves)[order]
    csum = np.cumsum(signed)
    vals = []
    for q in shares:
        k = max(1, int(round(q * len(score))))
        vals.append(csum[k - 1] / k)
    return float(np.mean(vals))


def _patient_stop(patience: int, min_rounds: int) -> tuple[Any, dict[str, Any]]:
    """Early stopping that maximises the last metric, never before ``min_rounds`` rounds.

    The edge of a few per cent of the validation bars is noisy round to round; growing a
    minimum number of trees first gives the rare bars a chance to be split out at all.
    """
    best = {"score": -np.inf, "iter": 0, "results": None}
    recent: list[float] = []
    smooth = 10

    def _cb(env: lgb.callback.CallbackEnv) -> None:
        if not env.evaluation_result_list:
            return
        # Trailing mean over `smooth` rounds: one round's edge on a few per cent of the
        # validation bars jumps about; the best round is chosen on the smoothed curve.
        recent.append(float(env.evaluation_result_list[-1][2]))
        score = float(np.mean(recent[-smooth:]))
        if score > best["score"]:
            best.update(score=score, iter=env.iteration, results=env.evaluation_result_list)
        if env.iteration + 1 >= min_rounds and env.iteration - best["iter"] >= patience:
            raise lgb.callback.EarlyStopException(best["iter"], best["results"])

    _cb.order = 30  # type: ignore[attr-defined]  # after recording, like lgb.early_stopping
    return _cb, best


class LightGBMModel:
    """Gradient-boosted trees (multi-class softmax or binary)."""

    kind = "lightgbm"

    def __init__(self, *, params: dict[str, Any] | None = None, num_boost_round: int = 400,
                 early_stopping_rounds: int = 30, seed: int = 7, num_threads: int = 1,
                 balanced: bool = True, init_model: LightGBMModel | None = None,
                 min_rounds: int = 60, orient: bool = True,
                 feature_names: list[str] | None = None) -> None:
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        #: Learn in the mirror orientation of each row's last bar (core.ml.orientation) when
        #: the feature names are known and the labels are directions.
        self.orient = bool(orient)
        self.feature_names = list(feature_names) if feature_names else None
        self._mirror: MirrorMap | None = None
        self.num_boost_round = int(num_boost_round)
        self.early_stopping_rounds = int(early_stopping_rounds)
        self.min_rounds = int(min_rounds)
        self.stopped_on = "log loss"  #: the metric early stopping used in the last fit
        self.seed = int(seed)
        self.num_threads = int(num_threads)
        self.balanced = balanced
        self.init_model = init_model
        self.booster: lgb.Booster | None = None
        self.classes = np.empty(0, dtype=np.int64)
        self._row = np.empty((1, 0), dtype=np.float64)

    # ------------------------------------------------------------------ training
    def _lgb_params(self, n_classes: int, n_rows: int) -> dict[str, Any]:
        p = dict(self.params)
        if p.get("min_data_in_leaf") in (None, "auto"):
            p["min_data_in_leaf"] = leaf_size(n_rows)
        if n_classes == 2:
            p.update(objective="binary", metric="binary_logloss")
        else:
            p.update(objective="multiclass", num_class=n_classes, metric="multi_logloss")
        p.update(seed=self.seed, num_threads=self.num_threads, deterministic=True,
                 force_row_wise=True, verbosity=-1)
        return p

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *,
            progress: Progress = None, val_moves: np.ndarray | None = None) -> FitInfo:
        """Train with early stopping on the validation set (class-balanced weights).

        Args:
            X, y: Training rows and class values.
            X_val, y_val: Validation rows (early stopping only).
            progress: Called with the fraction of rounds done.
            val_moves: Forward move (ticks) of each validation row over the label horizon.
                When given and the classes are directions, early stopping maximises
                :func:`edge_at_top` instead of minimising the log loss.
        """
        check_xy(X, y, "lightgbm fit")
        check_xy(X_val, y_val, "lightgbm validation")
        cmap = ClassMap.from_labels(y) if self.init_model is None else \
            ClassMap(tuple(int(c) for c in self.init_model.classes))
        self.classes = np.asarray(cmap.values, dtype=np.int64)
        if self.init_model is not None:
            self._mirror = self.init_model._mirror
        elif (self.orient and self.feature_names and len(self.feature_names) == X.shape[1]
              and symmetric_classes(self.classes)):
            self._mirror = mirror_map(self.feature_names)
        else:
            self._mirror = None
        if self._mirror is not None:
            # Every row in the orientation where its last bar went up; labels (and the
            # validation moves) flipped with it — see core.ml.orientation.
            X, r = orient(X, self._mirror)
            X_val, rv = orient(X_val, self._mirror)
            y = (np.asarray(y, np.int64) * r.astype(np.int64))
            y_val = (np.asarray(y_val, np.int64) * rv.astype(np.int64))
            if val_moves is not None and len(val_moves) == len(rv):
                val_moves = np.asarray(val_moves, np.float64) * rv
        yi, yvi = cmap.to_index(y), cmap.to_index(y_val)
        w = class_weights(yi, cmap.n)[yi] if self.balanced else None
        wv = class_weights(yvi, cmap.n)[yvi] if self.balanced else None
        dtrain = lgb.Dataset(X, label=yi, weight=w, free_raw_data=True,
                             params={"max_bin": self.params["max_bin"], "verbosity": -1})
        dval = lgb.Dataset(X_val, label=yvi, weight=wv, reference=dtrain)
        history: list[float] = []
        total = self.num_boost_round
        classes = self.classes
        use_edge = (val_moves is not None and len(val_moves) == len(y_val)
                    and direction_score(np.zeros((1, cmap.n)), classes) is not None)
        moves = np.asarray(val_moves, dtype=np.float64) if use_edge else None
        self.stopped_on = "edge of the most confident validation bars" if use_edge else "log loss"

        def _edge(preds: np.ndarray, _data: lgb.Dataset) -> tuple[str, float, bool]:
            p = preds.reshape(len(yvi), -1) if preds.ndim == 1 and cmap.n > 2 else preds
            if p.ndim == 1:
                p = np.column_stack([1.0 - p, p])
            return "edge_top", edge_at_top(direction_score(p, classes), moves), True

        def _record(env: lgb.callback.CallbackEnv) -> None:
            if env.evaluation_result_list:
                history.append(float(env.evaluation_result_list[-1][2]))
            if progress is not None and env.iteration % 10 == 0:
                progress(min(1.0, env.iteration / total))

        params = self._lgb_params(cmap.n, len(X))
        if use_edge:
            params["metric"] = "None"   # the feval below is the only (and stopping) metric
            stop, best_edge = _patient_stop(self.early_stopping_rounds, self.min_rounds)
        else:
            stop = lgb.early_stopping(self.early_stopping_rounds, verbose=False)
        try:
            self.booster = lgb.train(
                params, dtrain, num_boost_round=total, valid_sets=[dval],
                valid_names=["val"], feval=_edge if use_edge else None,
                init_model=self.init_model.booster if self.init_model is not None else None,
                callbacks=[stop, _record])
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"LightGBM training failed: {exc}") from None
        if use_edge and not self.booster.best_iteration:
            # Ran every round without stopping: still predict with the best round's trees.
            self.booster.best_iteration = int(best_edge["iter"]) + 1
        best = int(self.booster.best_iteration or self.booster.current_iteration())
        self._row = np.empty((1, X.shape[1]), dtype=np.float64)
        # best_val_loss: the stopping metric at the best round (edge: negated, lower = better).
        best_val = float("nan")
        if history:
            best_val = -max(history) if use_edge else min(history)
        return FitInfo(best_iteration=best, iterations=len(history), best_val_loss=best_val,
                       history=history)

    # ------------------------------------------------------------------ inference
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities n×K (binary models return two columns too)."""
        if self.booster is None:
            raise ModelError("LightGBM model is not trained")
        r = None
        if self._mirror is not None:
            X, r = orient(X, self._mirror)
        p = self.booster.predict(X, num_iteration=self.booster.best_iteration or None,
                                 num_threads=self.num_threads)
        if p.ndim == 1:
            p = np.column_stack([1.0 - p, p])
        return p if r is None else unorient(p, r, self.classes)

    def predict_row(self, x: np.ndarray) -> np.ndarray:
        """One row through a preallocated buffer (the live hot path, single thread)."""
        if self._mirror is not None:
            xo, r = orient(np.asarray(x, np.float64).reshape(1, -1), self._mirror)
            p = self.booster.predict(xo, num_iteration=self.booster.best_iteration or None,
                                     num_threads=1)
            p = p if p.ndim == 2 else np.array([[1.0 - p[0], p[0]]])
            return unorient(p, r, self.classes)[0]
        row = self._row
        row[0, :] = x
        p = self.booster.predict(row, num_iteration=self.booster.best_iteration or None,
                                 num_threads=1)
        if p.ndim == 2:
            return p[0]
        return np.array([1.0 - p[0], p[0]])

    # ------------------------------------------------------------------ artifacts
    def save(self, directory: Path) -> None:
        """``model.txt`` (LightGBM text format) and ``model_config.json``."""
        if self.booster is None:
            raise ModelError("cannot save an untrained LightGBM model")
        directory = Path(directory)
        self.booster.save_model(str(directory / "model.txt"))
        write_json(directory / "model_config.json", {
            "kind": self.kind, "params": self.params, "num_boost_round": self.num_boost_round,
            "early_stopping_rounds": self.early_stopping_rounds, "seed": self.seed,
            "num_threads": self.num_threads, "balanced": self.balanced,
            "min_rounds": self.min_rounds, "stopped_on": self.stopped_on,
            "orient": self.orient, "oriented": self._mirror is not None,
            "feature_names": self.feature_names,
            "classes": self.classes.tolist(), "best_iteration": self.booster.best_iteration,
            "num_features": self.booster.num_feature()})

    @classmethod
    def load(cls, directory: Path) -> LightGBMModel:
        """Inverse of :meth:`save`."""
        directory = Path(directory)
        cfg = read_json(directory / "model_config.json")
        m = cls(params=cfg["params"], num_boost_round=cfg["num_boost_round"],
                early_stopping_rounds=cfg["early_stopping_rounds"], seed=cfg["seed"],
                num_threads=cfg["num_threads"], balanced=cfg["balanced"],
                min_rounds=cfg.get("min_rounds", 60), orient=cfg.get("orient", False),
                feature_names=cfg.get("feature_names"))
        m.stopped_on = cfg.get("stopped_on", "log loss")
        if cfg.get("oriented"):
            m._mirror = mirror_map(m.feature_names or [])
            if m._mirror is None:
                raise ModelError(f"{directory}: the model was trained in mirror orientation but "
                                 "its feature names are missing or unknown",
                                 hint="retrain the model with `scalpdesk train`")
        path = directory / "model.txt"
        if not path.is_file():
            raise ModelError(f"{path}: missing", hint="retrain the model with `scalpdesk train`")
        m.booster = lgb.Booster(model_file=str(path))
        m.booster.best_iteration = int(cfg.get("best_iteration") or 0)
        m.classes = np.asarray(cfg["classes"], dtype=np.int64)
        m._row = np.empty((1, m.booster.num_feature()), dtype=np.float64)
        return m
