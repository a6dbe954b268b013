"""One trial: a walk-forward backtest of one parameter set through the real backtester.

:func:`evaluate` is a pure function of (context, parameters): the same numbers in this
process, in a LocalCluster worker or on a remote scheduler's worker. Every fold is a fresh
account traded by :func:`core.backtest.run_backtest` — the same fills, costs, sizing, risk
rules and end-of-day schedule as ``scalpdesk backtest``; with ``--retrain`` the fold's model
is fitted by :func:`core.training.runner.run_fold` first (training's own fold runner).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.backtest import run_backtest
from core.errors import ConfigError, CoreError
from core.strategy.signals import Signals
from core.sweep.apply import apply_profile, split_params
from core.sweep.context import Span, SweepContext

#: Profit factor is capped here so a trial without a loss stays a finite number.
PF_CAP = 100.0


@dataclass
class TrialResult:
    """What one trial measured (JSON-ready via :meth:`to_dict`)."""

    number: int
    params: dict[str, Any]
    status: str  #: ok | invalid (a refused parameter combination) | error
    role: str = "validation"  #: validation | test
    message: str = ""
    objective: float = float("nan")
    eligible: bool = False  #: enough validation trades to be called "best"
    metrics: dict[str, float] = field(default_factory=dict)
    folds: list[dict[str, Any]] = field(default_factory=list)
    bucket_pnl: list[float] = field(default_factory=list)  #: CSCV rows (validation only)
    daily_pnl: list[float] = field(default_factory=list)  #: every trading day of the role
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN stays NaN: the ledger writes it as the JSON extension NaN)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialResult:
        """Inverse of :meth:`to_dict` (unknown keys ignored)."""
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in keys})


def sharpe(daily: np.ndarray) -> float:
    """Per-day Sharpe ratio (mean / sample sd); 0 when it is undefined (no variation)."""
    d = np.asarray(daily, dtype=float)
    if d.size < 2:
        return 0.0
    sd = float(d.std(ddof=1))
    return float(d.mean() / sd) if sd > 0 else 0.0


def objective_value(name: str, m: dict[str, float]) -> float:
    """The value a sweep maximises (see ``core.sweep.space.OBJECTIVES``)."""
    if name == "sharpe":
        return float(m["sharpe"])
    if name == "net_pnl":
        return float(m["net_pnl"])
    if name == "expectancy":
        return float(m["expectancy"]) if m["trades"] else 0.0
    if name == "profit_factor":
        return float(m["profit_factor"]) if m["trades"] else 0.0
    raise CoreError(f"unknown objective {name!r}")


# --------------------------------------------------------------------------- signals
_SIGNAL_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_SIZE = 64


def _cached(key: str, make: Any) -> Any:
    """A small per-process cache: trials that differ only in exits reuse signals and fits."""
    if key in _SIGNAL_CACHE:
        _SIGNAL_CACHE.move_to_end(key)
        return _SIGNAL_CACHE[key]
    value = make()
    _SIGNAL_CACHE[key] = value
    if len(_SIGNAL_CACHE) > _CACHE_SIZE:
        _SIGNAL_CACHE.popitem(last=False)
    return value


def _slice(sig: Signals, lo: int, hi: int) -> Signals:
    return Signals(direction=sig.direction[lo:hi], confidence=sig.confidence[lo:hi],
                   predicted_class=None if sig.predicted_class is None else sig.predicted_class[lo:hi],
                   atr=None if sig.atr is None else sig.atr[lo:hi], name=sig.name)


def _builtin(ctx: SweepContext, knobs: dict[str, Any]) -> Signals:
    """Signals of the built-in strategy over all bars (causal), cached per knob values."""
    from core.strategy.builtin import random_signals, sma_cross_signals

    src = ctx.settings.source
    key = f"{ctx.token}:{src}:{json.dumps(knobs, sort_keys=True)}"

    def make() -> Signals:
        if src == "sma-cross":
            return sma_cross_signals(ctx.bars, fast=int(knobs.get("fast", 20)),
                                     slow=int(knobs.get("slow", 100)))
        rate = float(knobs.get("rate", 0.01))
        if not 0.0 < rate <= 1.0:
            raise ConfigError(f"signal.rate must be in (0, 1], got {rate}",
                              hint="give the share of bars that carry an entry, e.g. 0.01")
        return random_signals(ctx.n_bars, seed=ctx.settings.seed, rate=rate)

    return _cached(key, make)


#: LightGBMModel's own constructor arguments; every other model.* key is a booster parameter.
_LGBM_KWARGS = ("num_boost_round", "early_stopping_rounds", "balanced")


def model_kwargs(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """``model.*`` values as ``make_model`` keyword arguments for ``kind``."""
    if kind != "lightgbm":
        return dict(params)
    out: dict[str, Any] = {k: v for k, v in params.items() if k in _LGBM_KWARGS}
    booster = {k: v for k, v in params.items() if k not in _LGBM_KWARGS}
    if booster:
        out["params"] = booster
    return out


def _retrain_signals(ctx: SweepContext, span: Span, model_params: dict[str, Any],
                     min_conf: float) -> Signals:
    """Fit the fold's model (train rows; early stop + calibration on val) and predict its test."""
    from core.training.runner import TrainSpec, predict_rows, run_fold
    from core.training.trading import period_signals

    fold = ctx.wf_folds[span.fold] if span.fold >= 0 else next(
        f for f in ctx.wf_folds if f.is_holdout)
    data = ctx.dataset
    st = ctx.settings
    key = f"{ctx.token}:fit:{fold.number}:{st.model_kind}:{json.dumps(model_params, sort_keys=True)}"

    def fit() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        spec = TrainSpec(model_kind=st.model_kind, model_params=model_kwargs(st.model_kind,
                                                                             model_params),
                         seed=st.seed, num_threads=1, profile=None)
        res = run_fold(fold, data, spec, keep_model=True)
        te = fold.test[data.valid[fold.test]]
        proba = res.calibrator.apply(predict_rows(res.model, data.X, te))
        return proba, np.asarray(res.model.classes), te

    proba, classes, te = _cached(key, fit)
    return period_signals(proba, classes, te - span.lo, span.hi - span.lo, min_conf,
                          name=f"{st.model_kind} refitted per fold")


def _signals_for(ctx: SweepContext, span: Span, knobs: dict[str, Any],
                 model_params: dict[str, Any], min_conf: float) -> Signals:
    src = ctx.settings.source
    if src == "retrain":
        return _retrain_signals(ctx, span, model_params, min_conf)
    if src == "model":
        return _slice(ctx.signals, span.lo, span.hi)  # type: ignore[arg-type]
    return _slice(_builtin(ctx, knobs), span.lo, span.hi)


# --------------------------------------------------------------------------- evaluation
def evaluate(ctx: SweepContext, number: int, params: dict[str, Any], *,
             role: str = "validation") -> TrialResult:
    """Backtest ``params`` on every validation fold (or on the held-out test with
    ``role="test"``); a refused parameter combination is a result, not an exception.

    Args:
        ctx: The shared context (:func:`core.sweep.context.build_context`).
        number: The trial's number (its identity in the ledger).
        params: Dotted parameter values, e.g. ``{"strategy.stop_ticks": 10}``.
        role: ``"validation"`` (what the sweep optimises) or ``"test"``.

    Returns:
        :class:`TrialResult`; ``status`` is ``ok``, or ``invalid`` with the reason.
    """
    started = time.perf_counter()
    prof_vals, knobs, model_params = split_params(params)
    try:
        profile = apply_profile(ctx.profile, prof_vals, source=f"sweep trial {number}")
        spans = ctx.spans if role == "validation" else [ctx.test]
        frames = ctx.frames[: len(ctx.spans)] if role == "validation" else [ctx.frames[-1]]
        n_days = ctx.n_val_days if role == "validation" else ctx.n_test_days
        daily = np.zeros(n_days)
        buckets = np.zeros(ctx.n_buckets if role == "validation" else 0)
        folds, nets, costs = [], [], 0.0
        min_conf = float(profile.risk.min_confidence)
        for span, frame in zip(spans, frames):
            sig = _signals_for(ctx, span, knobs, model_params, min_conf)
            res = run_backtest(frame, sig, profile=profile, seed=ctx.settings.seed,
                               record_equity=False)
            t = res.trades
            net = t["net_pnl"].to_numpy(np.float64)
            bar = span.lo + t["exit_bar"].to_numpy(np.int64)
            np.add.at(daily, ctx.day_of_bar[bar], net)
            if role == "validation":
                np.add.at(buckets, ctx.bucket_of_bar[bar], net)
            nets.append(net)
            costs += float((t["commission"] + t["slippage"]).sum())
            folds.append({"fold": span.fold, "trades": int(len(net)),
                          "net_pnl": float(net.sum()),
                          "refused": int(sum(res.params.get("denials", {}).values()))})
    except CoreError as exc:
        # The profile loader lists its problems; the first names the key and the rule.
        why = (getattr(exc, "problems", None) or [exc.message])[0]
        return TrialResult(number=number, params=params, status="invalid", role=role,
                           message=why, seconds=time.perf_counter() - started)
    allnet = np.concatenate(nets) if nets else np.zeros(0)
    m = summarize(allnet, daily, costs)
    st = ctx.settings
    return TrialResult(number=number, params=params, status="ok", role=role,
                       objective=objective_value(st.objective, m),
                       eligible=m["trades"] >= st.min_trades, metrics=m, folds=folds,
                       bucket_pnl=[float(x) for x in buckets],
                       daily_pnl=[float(x) for x in daily],
                       seconds=time.perf_counter() - started)


def summarize(net: np.ndarray, daily: np.ndarray, costs: float) -> dict[str, float]:
    """Trades, net P&L, per-day Sharpe, expectancy, profit factor, win rate, costs."""
    wins, losses = float(net[net > 0].sum()), float(-net[net < 0].sum())
    pf = wins / losses if losses > 0 else (PF_CAP if wins > 0 else 0.0)
    n = int(len(net))
    return {"trades": n, "net_pnl": float(net.sum()), "sharpe": sharpe(daily),
            "expectancy": float(net.mean()) if n else 0.0,
            "profit_factor": float(min(pf, PF_CAP)),
            "win_rate": float((net > 0).mean()) if n else 0.0, "costs": float(costs),
            "days": int(len(daily)),
            "best_day": float(daily.max()) if len(daily) else 0.0,
            "worst_day": float(daily.min()) if len(daily) else 0.0}

