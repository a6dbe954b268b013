"""LightGBM, the default learner (requirements §6: trees beat nets on this data).

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

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 200,  # scalping data is noisy: big leaves, few spurious splits
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,  # coarse histograms: faster, and finer bins only fit noise here
}


class LightGBMModel:
    """Gradient-boosted trees (multi-class softmax or binary)."""

    kind = "lightgbm"

    def __init__(self, *, params: dict[str, Any] | None = None, num_boost_round: int = 400,
                 early_stopping_rounds: int = 30, seed: int = 7, num_threads: int = 1,
                 balanced: bool = True, init_model: LightGBMModel | None = None) -> None:
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.num_boost_round = int(num_boost_round)
        self.early_stopping_rounds = int(early_stopping_rounds)
        self.seed = int(seed)
        self.num_threads = int(num_threads)
        self.balanced = balanced
        self.init_model = init_model
        self.booster: lgb.Booster | None = None
        self.classes = np.empty(0, dtype=np.int64)
        self._row = np.empty((1, 0), dtype=np.float64)

    # ------------------------------------------------------------------ training
    def _lgb_params(self, n_classes: int) -> dict[str, Any]:
        p = dict(self.params)
        if n_classes == 2:
            p.update(objective="binary", metric="binary_logloss")
        else:
            p.update(objective="multiclass", num_class=n_classes, metric="multi_logloss")
        p.update(seed=self.seed, num_threads=self.num_threads, deterministic=True,
                 force_row_wise=True, verbosity=-1)
        return p

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *,
            progress: Progress = None) -> FitInfo:
        """Train with early stopping on the validation set (class-balanced weights)."""
        check_xy(X, y, "lightgbm fit")
        check_xy(X_val, y_val, "lightgbm validation")
        cmap = ClassMap.from_labels(y) if self.init_model is None else \
            ClassMap(tuple(int(c) for c in self.init_model.classes))
        self.classes = np.asarray(cmap.values, dtype=np.int64)
        yi, yvi = cmap.to_index(y), cmap.to_index(y_val)
        w = class_weights(yi, cmap.n)[yi] if self.balanced else None
        wv = class_weights(yvi, cmap.n)[yvi] if self.balanced else None
        dtrain = lgb.Dataset(X, label=yi, weight=w, free_raw_data=True,
                             params={"max_bin": self.params["max_bin"], "verbosity": -1})
        dval = lgb.Dataset(X_val, label=yvi, weight=wv, reference=dtrain)
        history: list[float] = []
        total = self.num_boost_round

        def _record(env: lgb.callback.CallbackEnv) -> None:
            if env.evaluation_result_list:
                history.append(float(env.evaluation_result_list[-1][2]))
            if progress is not None and env.iteration % 10 == 0:
                progress(min(1.0, env.iteration / total))

        try:
            self.booster = lgb.train(
                self._lgb_params(cmap.n), dtrain, num_boost_round=total, valid_sets=[dval],
                valid_names=["val"],
                init_model=self.init_model.booster if self.init_model is not None else None,
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                           _record])
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"LightGBM training failed: {exc}") from None
        best = int(self.booster.best_iteration or self.booster.current_iteration())
        self._row = np.empty((1, X.shape[1]), dtype=np.float64)
        return FitInfo(best_iteration=best, iterations=len(history),
                       best_val_loss=min(history) if history else float("nan"),
                       history=history)

    # ------------------------------------------------------------------ inference
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities n×K (binary models return two columns too)."""
        if self.booster is None:
            raise ModelError("LightGBM model is not trained")
        p = self.booster.predict(X, num_iteration=self.booster.best_iteration or None,
                                 num_threads=self.num_threads)
        if p.ndim == 1:
            p = np.column_stack([1.0 - p, p])
        return p

    def predict_row(self, x: np.ndarray) -> np.ndarray:
        """One row through a preallocated buffer (the live hot path, single thread)."""
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
            "classes": self.classes.tolist(), "best_iteration": self.booster.best_iteration,
            "num_features": self.booster.num_feature()})

    @classmethod
    def load(cls, directory: Path) -> LightGBMModel:
        """Inverse of :meth:`save`."""
        directory = Path(directory)
        cfg = read_json(directory / "model_config.json")
        m = cls(params=cfg["params"], num_boost_round=cfg["num_boost_round"],
                early_stopping_rounds=cfg["early_stopping_rounds"], seed=cfg["seed"],
                num_threads=cfg["num_threads"], balanced=cfg["balanced"])
        path = directory / "model.txt"
        if not path.is_file():
            raise ModelError(f"{path}: missing", hint="retrain the model with `scalpdesk train`")
        m.booster = lgb.Booster(model_file=str(path))
        m.booster.best_iteration = int(cfg.get("best_iteration") or 0)
        m.classes = np.asarray(cfg["classes"], dtype=np.int64)
        m._row = np.empty((1, m.booster.num_feature()), dtype=np.float64)
        return m
