"""Cost-aware trading evaluation of a signal under the profile's bracket (requirements §8, §10).

Until a walk-forward run can call the full backtester, each fold's test signals are traded
with the same geometry the strategy uses, one position at a time:

* signal on bar i (its close is known) → market entry at bar i+1's **open** plus slippage;
* fixed bracket around the fill: stop ``stop_ticks`` away (a stop-market: slippage, and a gap
  through the stop fills at the worse open), target ``target_ticks`` away (a limit: no slippage);
* stop and target inside the same bar → the **stop** (pessimistic);
* time stop after ``time_stop_ns`` → market exit at the next bar's open plus slippage;
* never across a session break or the end of the period: exit at the last close (slippage);
* each round trip pays ``commission_round_trip``; slippage is the profile's RTH figure inside
  09:30–16:00 ET and its ETH figure outside.

The random baseline trades the **same bars** with coin-flip directions and identical exits, so
the difference to the model isolates directional skill from timing and costs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np

#: A fold's trading metrics count only with at least this many trades (requirements §6).
MIN_TRADES = 100


@dataclass(frozen=True)
class BracketSpec:
    """Exit geometry and costs, in ticks and dollars per contract."""

    stop_ticks: float
    target_ticks: float
    time_stop_ns: int
    tick_size: float
    tick_value: float
    commission: float
    slippage_rth: float
    slippage_eth: float


@dataclass
class TradingMetrics:
    """What trading the fold's test signals would have earned (1 contract)."""

    trades: int
    counts: bool  #: at least MIN_TRADES trades
    win_rate: float
    expectancy: float  #: $ per trade after costs
    expectancy_gross: float  #: $ per trade before costs
    expectancy_se: float  #: standard error of ``expectancy``
    profit_factor: float
    net_pnl: float
    costs: float
    baseline_expectancy: float  #: random directions, same bars and exits
    by_exit: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


EXIT_NAMES = ("target", "stop", "time", "session_end")


@numba.njit(cache=True)
def _simulate(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
              ts: np.ndarray, seg: np.ndarray, rth: np.ndarray, sig: np.ndarray,
              stop_t: float, target_t: float, time_stop: int, tick: float,
              slip_rth: float, slip_eth: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns per-trade (gross ticks, slippage ticks, exit reason, entry bar)."""
    n = len(sig)
    gross = np.empty(n)
    slips = np.empty(n)
    reason = np.empty(n, dtype=np.int8)
    entry_bar = np.empty(n, dtype=np.int64)
    k = 0
    i = 0
    while i < n - 1:
        d = sig[i]
        e = i + 1
        if d == 0 or seg[e] != seg[i]:
            i += 1
            continue
        s_in = slip_rth if rth[e] else slip_eth
        entry = open_[e] + d * s_in * tick
        stop = entry - d * stop_t * tick
        target = entry + d * target_t * tick
        j = e
        while True:
            if j > e and (seg[j] != seg[e]):
                j -= 1  # exit at the last close of the session
                s_out = slip_rth if rth[j] else slip_eth
                px = close[j]
                r = 3
                break
            if j > e and ts[j] - ts[e] >= time_stop:
                s_out = slip_rth if rth[j] else slip_eth
                px = open_[j]
                r = 2
                break
            s_out = slip_rth if rth[j] else slip_eth
            if d > 0:
                hit_stop = low[j] <= stop
                hit_target = high[j] >= target
            else:
                hit_stop = high[j] >= stop
                hit_target = low[j] <= target
            if hit_stop:
                # A gap through the stop fills at the (worse) open, then slippage.
                base = stop
                if j > e and ((d > 0 and open_[j] < stop) or (d < 0 and open_[j] > stop)):
                    base = open_[j]
                px = base
                r = 1
                break
            if hit_target:
                px = target
                s_out = 0.0
                r = 0
                break
            if j == n - 1:
                px = close[j]
                r = 3
                break
            j += 1
        gross[k] = d * (px - open_[e]) / tick  # before slippage (charged via slips)
        slips[k] = s_in + s_out
        reason[k] = r
        entry_bar[k] = e
        k += 1
        i = max(j, i + 1)
    return gross[:k], slips[:k], reason[:k], entry_bar[:k]


def simulate_trades(bars: dict[str, np.ndarray], sig: np.ndarray, spec: BracketSpec
                    ) -> dict[str, np.ndarray]:
    """Trade ``sig`` (−1/0/+1 per bar) over ``bars`` (open, high, low, close, ts, seg, rth).

    Returns arrays per trade: ``net`` and ``gross`` ($, 1 contract), ``cost`` ($),
    ``reason`` (index into :data:`EXIT_NAMES`), ``entry_bar``.
    """
    g, s, r, eb = _simulate(bars["open"], bars["high"], bars["low"], bars["close"], bars["ts"],
                            bars["seg"], bars["rth"], np.asarray(sig, dtype=np.int64),
                            float(spec.stop_ticks), float(spec.target_ticks),
                            int(spec.time_stop_ns), float(spec.tick_size),
                            float(spec.slippage_rth), float(spec.slippage_eth))
    gross = g * spec.tick_value
    cost = s * spec.tick_value + spec.commission
    return {"gross": gross, "cost": cost, "net": gross - cost, "reason": r, "entry_bar": eb}


def trading_metrics(bars: dict[str, np.ndarray], sig: np.ndarray, spec: BracketSpec, *,
                    seed: int = 0, baseline_runs: int = 5) -> TradingMetrics:
    """Trade the signal and a random-direction baseline on the same bars."""
    t = simulate_trades(bars, sig, spec)
    net, gross = t["net"], t["gross"]
    n = len(net)
    rng = np.random.default_rng(seed)
    base = []
    for _ in range(baseline_runs):
        rnd = np.where(sig != 0, rng.choice(np.array([-1, 1]), size=len(sig)), 0)
        b = simulate_trades(bars, rnd, spec)["net"]
        if len(b):
            base.append(b.mean())
    wins, losses = net[net > 0].sum(), -net[net < 0].sum()
    return TradingMetrics(
        trades=n, counts=n >= MIN_TRADES,
        win_rate=float((net > 0).mean()) if n else float("nan"),
        expectancy=float(net.mean()) if n else float("nan"),
        expectancy_gross=float(gross.mean()) if n else float("nan"),
        expectancy_se=float(net.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        profit_factor=float(wins / losses) if losses > 0 else (float("inf") if wins > 0 else float("nan")),
        net_pnl=float(net.sum()), costs=float(t["cost"].sum()),
        baseline_expectancy=float(np.mean(base)) if base else float("nan"),
        by_exit={EXIT_NAMES[k]: int((t["reason"] == k).sum()) for k in range(len(EXIT_NAMES))})


def signals_from_proba(proba: np.ndarray, classes: np.ndarray, min_confidence: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Direction (−1/0/+1) and confidence per row; below ``min_confidence`` → 0 (no trade).

    Delegates to the one rule, :func:`core.strategy.signals.direction_from_proba`.
    """
    from core.strategy.signals import direction_from_proba

    direction, conf, _ = direction_from_proba(proba, classes, min_confidence=min_confidence)
    return direction.astype(np.int64), conf
