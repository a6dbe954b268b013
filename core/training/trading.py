"""Per-fold trading evaluation: the fold's test signals run through the real backtester.

There is one fill engine in the tree, :func:`core.backtest.run_backtest`. Training hands it
the test period's bars (every bar of the period, so exits may happen on bars whose own label
is undefined) and the model's signals on the scored bars, under the profile: the same fills,
slippage, bracket, sizing, risk rules and end-of-day schedule as ``scalpdesk backtest``. So
``scalpdesk train`` and ``scalpdesk backtest`` give the same trades on the same bars.

The random baseline runs the **same bars and the same signal bars** (same confidences, hence
the same sizing) with coin-flip directions through the same backtester, so the difference to
the model isolates directional skill from timing, costs and risk rules.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.backtest import run_backtest
from core.config import Profile
from core.strategy.signals import Signals, direction_from_proba

#: A fold's trading metrics count only with at least this many trades (requirements §6).
MIN_TRADES = 100

#: Columns of the canonical bar frame the backtester reads (``Dataset.bars`` keys).
BAR_KEYS = ("ts", "open", "high", "low", "close", "volume")


@dataclass
class TradingMetrics:
    """What trading the fold's test signals earned in the backtester (profile sizing)."""

    trades: int
    counts: bool  #: at least MIN_TRADES trades
    win_rate: float
    expectancy: float  #: $ per trade after costs
    expectancy_gross: float  #: $ per trade before costs
    expectancy_se: float  #: standard error of ``expectancy``
    profit_factor: float
    net_pnl: float
    costs: float  #: commission + slippage, $
    baseline_expectancy: float  #: random directions, same bars, signal bars and rules
    by_exit: dict[str, int]  #: trades per backtester exit_reason
    denials: dict[str, int] = field(default_factory=dict)  #: entries the risk kernel refused
    signal_bars: int = 0  #: bars whose UP/DOWN confidence passed the floor
    top_confidence: float = float("nan")  #: highest UP/DOWN confidence of any scored bar

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def training_profile(profile: Profile, min_confidence: float) -> Profile:
    """``profile`` with its confidence floor set to the training run's ``min_confidence``.

    The backtester ignores signals below ``risk.min_confidence``; without this a
    ``--min-confidence`` below the profile's would silently change nothing. A floor below the
    first sizing step (``risk.confidence_steps[0]``) also moves that step down to the floor:
    sizing gives no contracts below the first step, so every entry between the two would be
    refused ("size rounds to zero") and the lower floor would still trade nothing.
    """
    floor = float(min_confidence)
    risk = profile.risk
    steps = risk.confidence_steps
    if steps and floor < float(steps[0].min_confidence):
        steps = (replace(steps[0], min_confidence=floor), *steps[1:])
    if float(risk.min_confidence) == floor and steps is risk.confidence_steps:
        return profile
    return replace(profile, risk=replace(risk, min_confidence=floor, confidence_steps=steps))


def bar_frame(bars: dict[str, np.ndarray], lo: int = 0, hi: int | None = None) -> pd.DataFrame:
    """Rows ``lo:hi`` of a dataset's bar arrays as the canonical frame ``run_backtest`` reads."""
    hi = len(bars["ts"]) if hi is None else hi
    cols = {"timestamp": bars["ts"][lo:hi]}
    for k in BAR_KEYS[1:]:
        cols[k] = bars[k][lo:hi] if k in bars else np.ones(hi - lo)
    return pd.DataFrame(cols, copy=False)


def period_signals(proba: np.ndarray, classes: np.ndarray, rows: np.ndarray, n: int,
                   min_confidence: float, *, name: str = "training fold") -> Signals:
    """Signals over an ``n``-bar period whose scored rows (0-based in the period) are ``rows``.

    Directions come from the one rule, :func:`direction_from_proba`; bars that were not
    scored carry no signal (direction 0, confidence 0).
    """
    d, c, k = direction_from_proba(proba, classes, min_confidence=min_confidence)
    direction = np.zeros(n, np.int8)
    conf = np.zeros(n, np.float64)
    pclass = np.zeros(n, np.int8)
    direction[rows], conf[rows], pclass[rows] = d, c, k
    return Signals(direction=direction, confidence=conf, predicted_class=pclass, name=name)


def metrics_from_trades(trades: pd.DataFrame, denials: dict[str, int],
                        baseline_expectancy: float) -> TradingMetrics:
    """:class:`TradingMetrics` from a backtest's ``trades`` table.

    Args:
        trades: ``BacktestResult.trades`` (net_pnl, gross_pnl, commission, slippage,
            exit_reason per trade).
        denials: ``BacktestResult.params["denials"]`` (reason → refused entries).
        baseline_expectancy: Mean $/trade of the random-direction runs (NaN if none).
    """
    net = trades["net_pnl"].to_numpy(np.float64)
    gross = trades["gross_pnl"].to_numpy(np.float64)
    cost = trades["commission"].to_numpy(np.float64) + trades["slippage"].to_numpy(np.float64)
    n = len(net)
    wins, losses = net[net > 0].sum(), -net[net < 0].sum()
    reasons = trades["exit_reason"].astype(str).value_counts()
    return TradingMetrics(
        trades=n, counts=n >= MIN_TRADES,
        win_rate=float((net > 0).mean()) if n else float("nan"),
        expectancy=float(net.mean()) if n else float("nan"),
        expectancy_gross=float(gross.mean()) if n else float("nan"),
        expectancy_se=float(net.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        profit_factor=float(wins / losses) if losses > 0 else (float("inf") if wins > 0 else float("nan")),
        net_pnl=float(net.sum()), costs=float(cost.sum()),
        baseline_expectancy=float(baseline_expectancy),
        by_exit={str(k): int(v) for k, v in reasons.items()},
        denials={str(k): int(v) for k, v in denials.items()})


def random_directions(signals: Signals, rng: np.random.Generator) -> Signals:
    """The same signal bars and confidences with coin-flip directions (flat signals kept)."""
    d = np.asarray(signals.direction)
    coin = rng.choice(np.array([-1, 1], dtype=np.int8), size=len(d))
    rnd = np.where(d != 0, coin, 0).astype(np.int8)
    return Signals(direction=rnd, confidence=signals.confidence, predicted_class=rnd,
                   atr=signals.atr, name=f"{signals.name} (random directions)")


def trading_metrics(bars: pd.DataFrame, signals: Signals, profile: Profile, *, seed: int = 0,
                    baseline_runs: int = 5) -> TradingMetrics:
    """Backtest ``signals`` on ``bars`` under ``profile``, plus a random-direction baseline.

    Args:
        bars: Canonical bar frame of the period (see :func:`bar_frame`).
        signals: One row per bar (see :func:`period_signals`).
        profile: Costs, fills, bracket, sizing, risk rules and schedule.
        seed: Seeds the baseline's coin flips (the backtest itself is deterministic).
        baseline_runs: Random-direction runs averaged for ``baseline_expectancy``.

    Returns:
        :class:`TradingMetrics` of the model's trades.
    """
    res = run_backtest(bars, signals, profile=profile, seed=seed, record_equity=False)
    rng = np.random.default_rng(seed)
    base = []
    if np.any(np.asarray(signals.direction) != 0):
        for _ in range(baseline_runs):
            b = run_backtest(bars, random_directions(signals, rng), profile=profile, seed=seed,
                             record_equity=False).trades
            if len(b):
                base.append(float(b["net_pnl"].mean()))
    return metrics_from_trades(res.trades, res.params.get("denials", {}),
                               float(np.mean(base)) if base else float("nan"))


def horizon_row(conf: np.ndarray, move: np.ndarray, *, tick_value: float,
                cost_per_contract: float, rng: np.random.Generator,
                draws: int = 200, ts: np.ndarray | None = None,
                horizon_ns: int = 0) -> dict[str, float]:
    """One group of UP/DOWN predictions held for the label horizon (see :func:`decile_table`).

    With the bars' times ``ts`` and the label horizon ``horizon_ns``, the coin flips pick one
    direction per cluster of these bars whose horizons overlap (:func:`signal_clusters`), as
    the moves inside a cluster are not independent draws; without them every bar is flipped on
    its own (a narrower band).
    """
    groups = None
    if ts is not None and horizon_ns > 0 and len(move):
        order = np.argsort(ts, kind="stable")
        groups = np.empty(len(move), np.int64)
        groups[order] = signal_clusters(np.asarray(ts)[order], horizon_ns)
    n = len(move)
    if n == 0:
        return {"from": math.nan, "to": math.nan, "bars": 0, "precision": math.nan,
                "ticks": math.nan, "dollars": math.nan, "baseline": math.nan,
                "baseline_p5": math.nan, "baseline_p95": math.nan}
    if groups is None:
        flips = rng.choice(np.array([-1.0, 1.0]), size=(draws, n))
        base = (flips * np.abs(move)).mean(axis=1) * tick_value - cost_per_contract
    else:
        # Flip the predicted direction of each cluster (issue 11: a model's signals cluster on
        # neighbouring bars, and a per-bar band is narrower than the real chance spread).
        flips = rng.choice(np.array([-1.0, 1.0]), size=(draws, int(groups.max()) + 1))[:, groups]
        base = (flips * move).mean(axis=1) * tick_value - cost_per_contract
    return {"from": float(conf.min()), "to": float(conf.max()), "bars": int(n),
            "precision": float((move > 0).mean()), "ticks": float(move.mean()),
            "dollars": float(move.mean() * tick_value - cost_per_contract),
            "baseline": float(base.mean()), "baseline_p5": float(np.percentile(base, 5)),
            "baseline_p95": float(np.percentile(base, 95))}


def signal_clusters(ts: np.ndarray, horizon_ns: int) -> np.ndarray:
    """Cluster id per signal bar (``ts`` in time order): a bar starts a new cluster unless it
    lies within ``horizon_ns`` of the previous signal bar (their label horizons overlap)."""
    ts = np.asarray(ts, np.int64)
    if len(ts) == 0:
        return np.zeros(0, np.int64)
    new = np.ones(len(ts), bool)
    new[1:] = np.diff(ts) > int(horizon_ns)
    return np.cumsum(new) - 1


def _usable(conf: np.ndarray, move_ticks: np.ndarray, ts: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    conf = np.asarray(conf, np.float64)
    move = np.asarray(move_ticks, np.float64)
    ok = np.isfinite(move) & np.isfinite(conf)
    return conf[ok], move[ok], (None if ts is None else np.asarray(ts, np.int64)[ok])


def decile_table(conf: np.ndarray, move_ticks: np.ndarray, *, tick_value: float,
                 cost_per_contract: float, seed: int = 0, ts: np.ndarray | None = None,
                 horizon_ns: int = 0) -> list[dict[str, float]]:
    """Where the trades would happen: per confidence decile of the UP/DOWN predictions.

    Each row: the decile's confidence range, bar count, precision (share of bars whose move
    over the label horizon went the predicted way), mean move in the predicted direction
    (ticks), its value per contract after a round trip's costs (enter now, exit at the horizon)
    and the **random-direction baseline on the same bars**: the mean and 5th-95th percentile
    of that value with coin-flip directions. A rare edge shows in the top deciles long before
    it moves an AUC computed over every bar.

    Args:
        conf: Calibrated confidence of each UP/DOWN prediction.
        move_ticks: The move that followed, in the predicted direction (ticks; NaN skipped).
        tick_value: $ per tick per contract.
        cost_per_contract: Round-trip costs per contract ($).
        seed: Seeds the coin flips.
        ts: Bar time of each prediction (ns) and ``horizon_ns`` the label horizon: the coin
            flips then go per cluster of overlapping horizons (:func:`horizon_row`).
        horizon_ns: See ``ts``.

    Returns:
        Ten rows, lowest confidence first (empty when fewer than 10 usable bars).
    """
    conf, move, ts = _usable(conf, move_ticks, ts)
    if conf.size < 10:
        return []
    rng = np.random.default_rng(seed)
    order = np.argsort(conf, kind="stable")
    return [horizon_row(conf[p], move[p], tick_value=tick_value,
                        cost_per_contract=cost_per_contract, rng=rng,
                        ts=None if ts is None else ts[p], horizon_ns=horizon_ns)
            for p in np.array_split(order, 10)]


def traded_subset(conf: np.ndarray, move_ticks: np.ndarray, floor: float, *, tick_value: float,
                  cost_per_contract: float, seed: int = 0, ts: np.ndarray | None = None,
                  horizon_ns: int = 0) -> dict[str, float]:
    """The UP/DOWN predictions at or above the confidence ``floor``, held for the horizon.

    The same row as one :func:`decile_table` decile (count, precision, ticks, $ after costs,
    random-direction baseline on the same bars) — before the profile's exits and risk rules,
    which the backtester applies to the same signals.
    """
    conf, move, ts = _usable(conf, move_ticks, ts)
    keep = conf >= floor
    return horizon_row(conf[keep], move[keep], tick_value=tick_value,
                       cost_per_contract=cost_per_contract, rng=np.random.default_rng(seed),
                       ts=None if ts is None else ts[keep], horizon_ns=horizon_ns)


def round_trip_cost(profile: Profile, tick_value: float) -> float:
    """One contract's round-trip costs under ``profile`` in RTH: commission + slippage both ways."""
    c = profile.costs
    return float(c.commission_round_trip) + 2.0 * float(c.slippage_ticks) * tick_value


def denial_text(denials: dict[str, int]) -> str:
    """``"12 entries skipped: size rounds to zero; 1 entry skipped: daily loss limit"``."""
    parts = [f"{n:,} {'entry' if n == 1 else 'entries'} skipped: {why}"
             for why, n in sorted(denials.items(), key=lambda kv: -kv[1]) if n]
    return "; ".join(parts)
