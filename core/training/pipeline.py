"""Walk-forward training end to end: data → folds → per-fold metrics → verdict → artifact.

The saved model is the one fitted on the most recent train/validation window before the
final holdout; the holdout is scored exactly once, after everything else, and reported
separately. No fold's test data and no holdout data is ever used to fit, stop or calibrate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.domain import get_instrument, root_of
from core.errors import ConfigError, ModelError
from core.ml.artifacts import code_revision, library_versions, save_artifact
from core.training.dataset import NS, Dataset, build_dataset, purge_ns
from core.training.report import Summary, report_text, summarize
from core.training.runner import FoldResult, TrainSpec, run_folds
from core.training.splits import NS_PER_DAY, WalkForwardConfig, walk_forward, walk_forward_auto

Progress = Callable[[float], None] | None


@dataclass
class TrainRequest:
    """Everything ``scalpdesk train`` decides (the CLI fills it from options + profile)."""

    profile: Any  #: core.config.Profile
    model_kind: str = "lightgbm"
    label_kind: str | None = None  #: default: the profile's
    lookahead_seconds: int | None = None
    threshold_ticks: float | None = None
    threshold_pct: float | None = None  #: percent of the close (crypto); default: the profile's
    folds: int = 4
    train_days: float | None = None  #: explicit fold lengths override ``folds``
    val_days: float | None = None
    test_days: float | None = None
    holdout_days: float | None = None  #: default: 15 % of the span
    embargo_seconds: float = 0.0
    mode: str = "expanding"
    feature_set: str = "auto"  #: "auto": default_1m for bars ≥ 1 min, else default; crypto_1m 24/7
    #: Fit on these columns of the feature set only (names or group names; None: all).
    features: list[str] | None = None
    model_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 7
    num_threads: int = 1
    device: str = "cpu"
    calibration: str = "temperature"
    min_confidence: float | None = None  #: default: profile risk.min_confidence
    #: Choose each fold's floor on its validation bars (core.training.floor) instead of a
    #: fixed ``min_confidence``; the saved model keeps its own fold's choice.
    auto_floor: bool = False
    shuffle_labels: bool = False
    workers: int | None = None
    cluster: str | None = None
    n_trials: int = 1  #: trials on this data in the ledger, this run included (train CLI)


@dataclass
class TrainOutcome:
    """The result of a run: fold results, summary + verdict, report text, artifact path."""

    results: list[FoldResult]
    summary: Summary
    report: str
    notes: list[str]
    dataset_meta: dict[str, Any]
    label: Any
    path: Path | None = None
    feature_names: list[str] = field(default_factory=list)
    bar_seconds: int = 0
    profile: Any = None  #: the profile the trading evaluation ran under


def label_spec(req: TrainRequest, bar_seconds: int, notes: list[str],
               session: str | None = "cme") -> Any:
    """A ``core.labels.LabelSpec`` from the profile's label section and overrides."""
    from core.labels import LabelSpec

    lab = req.profile.label
    kind = req.label_kind or lab.kind
    look = int(req.lookahead_seconds or lab.lookahead_seconds)
    if look < bar_seconds:
        notes.append(f"label lookahead {look} s is shorter than one {bar_seconds} s bar; "
                     f"using one bar ({bar_seconds} s) — pass --lookahead to choose")
        look = bar_seconds
    thr = float(req.threshold_ticks if req.threshold_ticks is not None else lab.threshold_ticks)
    kw: dict[str, Any] = {"kind": kind, "lookahead_seconds": look, "threshold_ticks": thr,
                          "session": session}
    fields = getattr(LabelSpec, "__dataclass_fields__", {})
    pct = req.threshold_pct if req.threshold_pct is not None else lab.threshold_pct
    if pct is not None and req.threshold_ticks is None:
        kw["threshold_pct"] = pct
    strat = req.profile.strategy
    # The triple barrier is the trade's bracket: in % for percentage-tick instruments.
    for name, value in (("stop_ticks", strat.stop_ticks), ("target_ticks", strat.target_ticks),
                        ("stop_pct", strat.stop_pct), ("target_pct", strat.target_pct)):
        if name in fields and value is not None:
            kw[name] = value
    try:
        return LabelSpec(**kw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"label settings rejected: {exc}",
                          hint="check [label] in the profile or --label/--lookahead") from None


def label_session(frame: pd.DataFrame, exchange: str) -> str | None:
    """Session rule for labels: ``rth`` for RTH-only files, ``cme`` for Globex, None for 24/7."""
    if exchange != "CME":
        return None
    from core.calendar import rth_mask
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    return "rth" if len(ts) and rth_mask(ts).mean() > 0.99 else "cme"


def make_split(req: TrainRequest, ts: np.ndarray, purge: int) -> tuple[list[Any], dict[str, Any]]:
    """Folds from explicit day lengths when given, else ``req.folds`` folds sized by rows.

    Returns the folds and a description of the geometry for the model card.
    """
    embargo = int(req.embargo_seconds * NS)
    if req.train_days or req.val_days or req.test_days:
        if not (req.train_days and req.val_days and req.test_days):
            raise ConfigError("give all of --train-days, --val-days and --test-days, or none",
                              hint="or use --folds N to size folds automatically")
        span = int(ts[-1] - ts[0]) + 1
        hold = int((req.holdout_days or 0) * NS_PER_DAY) or int(span * 0.15)
        cfg = WalkForwardConfig(train_ns=int(req.train_days * NS_PER_DAY),
                                val_ns=int(req.val_days * NS_PER_DAY),
                                test_ns=int(req.test_days * NS_PER_DAY), purge_ns=purge,
                                embargo_ns=embargo, holdout_ns=hold, mode=req.mode,
                                max_folds=req.folds or None)
        folds = walk_forward(ts, cfg)
    else:
        hold_frac = 0.15
        if req.holdout_days:
            span = int(ts[-1] - ts[0]) + 1
            hold_frac = min(0.5, req.holdout_days * NS_PER_DAY / span)
        folds = walk_forward_auto(ts, req.folds, purge_ns=purge, embargo_ns=embargo,
                                  mode=req.mode, holdout_fraction=hold_frac)
    if not any(f.is_holdout for f in folds):
        raise ConfigError("no final holdout period could be formed",
                          hint="use more data or a shorter --holdout-days")
    geo = {"mode": req.mode, "purge_seconds": purge / NS, "embargo_seconds": embargo / NS,
           "folds": [{"fold": f.number, "holdout": f.is_holdout,
                      "train_start_ns": f.train_start, "val_start_ns": f.val_start,
                      "test_start_ns": f.test_start, "test_end_ns": f.test_end} for f in folds]}
    return folds, geo


def train(frame: pd.DataFrame, bar_seconds: int, req: TrainRequest, *, name: str | None = None,
          models_dir: Path | None = None, created: str | None = None,
          progress: Progress = None, data_source: str = "") -> TrainOutcome:
    """Run walk-forward training; save ``models_dir/name`` when ``name`` is given.

    Raises:
        DataError / ConfigError / ModelError: bad data, settings or artifact.
    """
    notes: list[str] = []
    root = root_of(str(frame["symbol"].iloc[0])) if len(frame) else req.profile.instrument
    try:
        inst = get_instrument(root)
    except KeyError:
        inst = get_instrument(req.profile.instrument)
        notes.append(f"unknown instrument {root!r} in the data; using the profile's "
                     f"{inst.symbol} tick size and value")
    from core.backtest.engine import profile_for_bars
    traded, pair_note = profile_for_bars(req.profile, frame)
    if pair_note:          # crypto: the profile's % rules on the data's own pair
        req = replace(req, profile=traded)
        notes.append(pair_note)
    if inst.symbol != req.profile.instrument:
        # The backtester prices and sizes by the profile's instrument; say so rather than
        # quietly disagree with `scalpdesk backtest` on the same bars.
        notes.append(f"data is {inst.symbol} but profile {req.profile.name!r} is for "
                     f"{req.profile.instrument}: the trading evaluation sizes and prices trades "
                     f"as {req.profile.instrument} (like `scalpdesk backtest` with this profile); "
                     f"use a profile for {inst.symbol} to trade it as {inst.symbol}")
    session = label_session(frame, inst.exchange)
    label = label_spec(req, bar_seconds, notes, session)
    feature_set = req.feature_set
    if feature_set == "auto":
        # 24/7 markets get the set without CME calendar features (NaN outside sessions).
        from core.features.registry import feature_set_for
        feature_set = feature_set_for(bar_seconds, sessions=not inst.continuous)
    chosen = None
    if req.features:
        from core.features.selection import resolve_features
        chosen = resolve_features(feature_set, req.features)
        notes.extend(subset_notes(chosen, req.model_kind))
    req = replace(req, feature_set=feature_set, features=chosen)
    data = build_dataset(frame, label=label, tick_size=inst.tick_size, bar_seconds=bar_seconds,
                         feature_set=feature_set, features=chosen)
    purge = purge_ns(label, bar_seconds)
    folds, geo = make_split(req, data.ts, purge)
    min_conf = req.min_confidence if req.min_confidence is not None else \
        req.profile.risk.min_confidence
    spec = TrainSpec(model_kind=req.model_kind, model_params=req.model_params, seed=req.seed,
                     num_threads=req.num_threads, device=req.device, calibration=req.calibration,
                     min_confidence=min_conf, profile=req.profile,
                     shuffle_labels=req.shuffle_labels, auto_floor=req.auto_floor,
                     horizon_seconds=float(label.lookahead_seconds))
    results = run_folds(folds, data, spec, workers=req.workers, cluster=req.cluster,
                        progress=progress)
    if req.auto_floor:
        notes.extend(floor_notes(results))
    summary = summarize(results, min_confidence=min_conf, n_trials=req.n_trials)
    if chosen is None and not summary.edge and len(data.feature_names) > 10:
        # Measured (README → Research): a trigger on ~1 % of bars drowns among 49 columns
        # and is found when the model sees its inputs — worth saying when nothing was found.
        notes.append(f"the model saw all {len(data.feature_names)} features; a sparse trigger "
                     "(~1 % of bars) can drown among columns that carry nothing — if you have "
                     "a hypothesis, state it with --features (e.g. ret_1m,microstructure; "
                     "README → Research); each list tried counts as a trial")
    text = report_text(results, summary)
    out = TrainOutcome(results=results, summary=summary, report=text, notes=notes,
                       dataset_meta=data.meta, label=label,
                       feature_names=list(data.feature_names), bar_seconds=int(bar_seconds),
                       profile=req.profile)
    if name:
        out.path = _save(Path(models_dir) / name if models_dir else _default_dir(name), data,
                         folds, results, summary, text, req, spec, geo, label, inst, created,
                         data_source, notes)
    return out


def subset_notes(chosen: list[str], model_kind: str) -> list[str]:
    """What fitting on a chosen subset of columns means, in words."""
    notes = [f"the model sees {len(chosen)} chosen feature(s): {', '.join(chosen)}; the "
             "feature set is still computed whole and the model reads its columns (live, "
             "backtest and --update alike). Each list tried is one more trial in the ledger"]
    if model_kind == "lightgbm":
        from core.ml.orientation import mirror_map
        if mirror_map(chosen) is None:
            notes.append("no mirror orientation: it needs bar_dir and a ret_ column among the "
                         "features (and both wicks if either), so 'continue the last bar' "
                         "patterns must be learned as two separate directions")
    return notes


def floor_notes(results: list[FoldResult]) -> list[str]:
    """What the validation-chosen floor of the saved (holdout) fold means for the model."""
    from core.money import money
    final = next((r for r in results if r.is_holdout), None)
    if final is None or final.floor_choice is None:
        return []
    c = final.floor_choice
    if final.floor >= 1.0:
        return ["the final model's validation bars held no top share of signals that paid after "
                "costs: its floor is 100 % and it will not trade (`scalpdesk backtest` applies "
                "it; --min-confidence overrides)"]
    return [f"the final model trades at {final.floor:.1%} confidence, chosen on its validation "
            f"bars only (top {c['share']:.1%} of its UP/DOWN predictions, {c['bars']:,} bars, "
            f"{money(c['dollars'], signed=True)} per contract after costs there); saved in its "
            "config, so `scalpdesk backtest` applies the same floor"]


def _default_dir(name: str) -> Path:
    from core.ml.artifacts import default_models_dir
    return default_models_dir() / name


def _save(path: Path, data: Dataset, folds: list[Any], results: list[FoldResult],
          summary: Summary, text: str, req: TrainRequest, spec: TrainSpec,
          geo: dict[str, Any], label: Any, inst: Any, created: str | None, source: str,
          notes: list[str]) -> Path:
    final = next(r for r in results if r.is_holdout)
    fold = next(f for f in folds if f.is_holdout)
    if final.model is None or final.calibrator is None:
        raise ModelError("the final model was not returned by the fold runner")
    tr = fold.train[data.valid[fold.train]]
    from core.features import Normalizer
    scaler = Normalizer().fit(data.X[tr], data.feature_names)
    versions: dict[str, Any] = {}
    try:
        from core.features import FEATURE_SET_VERSION, feature_versions
        versions = {"set_version": FEATURE_SET_VERSION,
                    "features": dict(feature_versions(req.feature_set))}
    except (ImportError, TypeError, KeyError):
        pass
    label_d = {k: getattr(label, k) for k in getattr(label, "__dataclass_fields__", {})} \
        or {"kind": label.kind, "lookahead_seconds": label.lookahead_seconds}
    config = {"kind": req.model_kind, "feature_set": req.feature_set,
              "feature_names": data.feature_names, "feature_subset": req.features is not None,
              "label": label_d,
              "bar_seconds": data.bar_seconds, "instrument": inst.symbol,
              "tick_size": inst.tick_size, "classes": [int(c) for c in final.model.classes],
              "class_moves": final.class_moves, "min_confidence": final.floor,
              "floor": _clean({"chosen_on": "validation", **final.floor_choice}
                        if final.floor_choice is not None else {"chosen_on": "fixed"}),
              "params": req.model_params, "seed": req.seed, "num_threads": req.num_threads}
    card = {
        "name": path.name, "created": created,
        "model": {"kind": req.model_kind, "params": req.model_params, "seed": req.seed,
                  "num_threads": req.num_threads, "calibration": req.calibration,
                  "best_iteration": final.fit.best_iteration},
        "data": {**data.meta, "source": source, "instrument": inst.symbol,
                 "bar_seconds": data.bar_seconds},
        "features": {"set": req.feature_set, "names": data.feature_names,
                     "chosen": req.features is not None, **versions},
        "label": label_d,
        "walk_forward": geo,
        "trading_evaluation": _trading_evaluation(spec, final),
        "folds": [r.summary() for r in results],
        "summary": _clean(summary.to_dict()), "verdict": summary.verdict, "notes": notes,
        "libraries": library_versions(), "code_revision": code_revision(),
    }
    return save_artifact(path, model=final.model, calibrator=final.calibrator, scaler=scaler,
                         config=config, card=_clean(card), report=text)


def _trading_evaluation(spec: TrainSpec, final: FoldResult) -> dict[str, Any] | None:
    """How each fold was traded, for the model card: the backtester under this profile."""
    p = spec.profile
    if p is None:
        return None
    return {"engine": "core.backtest.run_backtest", "profile": p.name,
            "instrument": p.instrument, "min_confidence": final.floor,
            "floor": "chosen on each fold's validation bars" if spec.auto_floor else "fixed",
            "strategy": asdict(p.strategy), "costs": asdict(p.costs),
            "schedule": asdict(p.schedule)}


def _clean(obj: Any) -> Any:
    """NaN/inf → None so the card is strict JSON."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
