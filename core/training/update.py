"""Incremental update: continue a saved model on a sliding window; keep the better one.

The newest period of the new data is the judge. The candidate continues from the saved
model (LightGBM adds trees to the saved booster; nets start from the saved weights and
scaler), is trained on the window before it, early-stopped and re-calibrated on the
validation period just before the newest period. It replaces the saved model only when
its calibrated log loss on the newest period is not worse than the saved model's;
otherwise the saved model stays untouched and the outcome says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.config import Profile
from core.errors import ModelError
from core.ml.artifacts import code_revision, library_versions, load_artifact, save_artifact
from core.ml.base import ClassMap
from core.training.dataset import build_dataset, purge_ns
from core.training.metrics import ClassificationMetrics
from core.training.runner import FoldResult, TrainSpec, run_fold, score_period
from core.training.splits import make_folds
from core.training.trading import TradingMetrics


@dataclass
class UpdateOutcome:
    """What the update did and why."""

    replaced: bool
    message: str
    old: ClassificationMetrics
    new: ClassificationMetrics
    old_trading: TradingMetrics | None
    new_trading: TradingMetrics | None
    candidate: FoldResult


def _warm_model(bundle: Any, spec: TrainSpec) -> Any:
    from core.ml.registry import make_model
    kind = bundle.config["kind"]
    if kind == "lightgbm":
        from core.ml.lgbm import LightGBMModel
        old = bundle.model
        return LightGBMModel(params=old.params, num_boost_round=old.num_boost_round,
                             early_stopping_rounds=old.early_stopping_rounds, seed=spec.seed,
                             num_threads=spec.num_threads, balanced=old.balanced, init_model=old)
    model = make_model(kind, params=bundle.config.get("params") or {}, seed=spec.seed,
                       num_threads=spec.num_threads, device=spec.device)
    model.init_from = bundle.model
    return model


def update_model(path: Path, frame: pd.DataFrame, bar_seconds: int, *, profile: Profile,
                 min_confidence: float | None = None, seed: int = 7, num_threads: int = 1,
                 created: str | None = None, source: str = "") -> UpdateOutcome:
    """Continue the model at ``path`` on ``frame``'s most recent window (see module doc).

    Both models' trading on the newest period is backtested under ``profile`` (reported,
    not used to decide).

    Raises:
        ModelError: The artifact cannot be loaded or the data does not match it.
    """
    from core.labels import LabelSpec

    bundle = load_artifact(path)
    cfg, card = bundle.config, bundle.card
    if int(cfg["bar_seconds"]) != int(bar_seconds):
        raise ModelError(f"{path.name} was trained on {cfg['bar_seconds']} s bars, the new data "
                         f"has {bar_seconds} s bars", hint="update with bars of the same size")
    label = LabelSpec.from_dict(cfg["label"])
    from core.features.registry import feature_names as set_names
    from core.features.selection import column_index
    subset = bool(cfg.get("feature_subset"))
    column_index(set_names(cfg["feature_set"]), cfg["feature_names"], subset=subset,
                 where=path.name)   # raises when the set changed since training
    data = build_dataset(frame, label=label, tick_size=cfg["tick_size"], bar_seconds=bar_seconds,
                         feature_set=cfg["feature_set"],
                         features=cfg["feature_names"] if subset else None)
    hold = next((f for f in card["walk_forward"]["folds"] if f["holdout"]), None)
    if hold is None:
        raise ModelError(f"{path.name}: the model card has no holdout fold geometry",
                         hint="retrain from scratch with `scalpdesk train`")
    train_len = hold["val_start_ns"] - hold["train_start_ns"]
    val_len = hold["test_start_ns"] - hold["val_start_ns"]
    test_len = hold["test_end_ns"] - hold["test_start_ns"]
    end = int(data.ts[-1]) + 1
    test_start = max(int(data.ts[0]), end - test_len)
    val_start = test_start - val_len
    bounds = [(max(int(data.ts[0]), val_start - train_len), val_start, test_start, end)]
    fold = make_folds(data.ts, bounds, None, purge_ns=purge_ns(label, bar_seconds),
                      embargo_ns=int(card["walk_forward"].get("embargo_seconds", 0) * 1e9),
                      describe="the newest train/val/test window")[0]
    min_conf = float(min_confidence if min_confidence is not None else cfg["min_confidence"])
    spec = TrainSpec(model_kind=cfg["kind"], model_params=cfg.get("params") or {}, seed=seed,
                     num_threads=num_threads, min_confidence=min_conf, profile=profile)
    # The saved model on the newest period (its own calibrator, fitted back then).
    cmap = ClassMap(tuple(int(c) for c in bundle.classes))
    prior = np.bincount(cmap.to_index(data.y[fold.train[data.valid[fold.train]]]),
                        minlength=cmap.n).astype(np.float64)
    prior /= max(prior.sum(), 1.0)
    old_m, old_t, _ = score_period(bundle.model, bundle.calibrator, data, fold.test, spec, prior,
                                seed=seed)
    cand = run_fold(fold, data, spec, keep_model=True, model=_warm_model(bundle, spec))
    new_m, new_t = cand.metrics, cand.trading
    replaced = bool(new_m.log_loss <= old_m.log_loss)
    verdict = (f"newest period ({new_m.n:,} rows): log loss saved {old_m.log_loss:.4f} vs "
               f"candidate {new_m.log_loss:.4f}, directional AUC {old_m.auc:.3f} vs {new_m.auc:.3f}")
    if replaced:
        from core.features import Normalizer
        tr = fold.train[data.valid[fold.train]]
        history = list(card.get("updates", [])) + [{
            "created": created, "source": source, "old_log_loss": old_m.log_loss,
            "new_log_loss": new_m.log_loss, "old_auc": old_m.auc, "new_auc": new_m.auc,
            "rows": data.meta["rows"], "data_hash": data.meta["data_hash"]}]
        new_card = {**card, "updated": created, "updates": history,
                    "libraries": library_versions(), "code_revision": code_revision()}
        new_cfg = {**cfg, "class_moves": cand.class_moves}
        new_cfg.pop("artifact_version", None)
        report = (path / "report.txt").read_text(encoding="utf-8") if (path / "report.txt").is_file() else ""
        save_artifact(path, model=cand.model, calibrator=cand.calibrator,
                      scaler=Normalizer().fit(data.X[tr], data.feature_names), config=new_cfg,
                      card=_clean(new_card), report=report + f"\nUPDATE: replaced — {verdict}")
        message = f"replaced {path.name}: the candidate is not worse — {verdict}"
    else:
        message = f"kept {path.name} unchanged: the candidate is worse on the newest period — {verdict}"
    return UpdateOutcome(replaced, message, old_m, new_m, old_t, new_t, cand)


def _clean(obj: Any) -> Any:
    from core.training.pipeline import _clean as clean
    return clean(obj)
