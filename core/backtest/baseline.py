"""Random-entry baseline: same exits, same sizing rules, random entries; many seeds.

The honest question about a strategy is not "is the P&L positive?" but "is it better than
entering at random with the same brackets, costs and risk rules?". This runs the compiled
loop with random entries placed like the strategy's (same number of entry signals, same
long/short mix, confidences drawn from the strategy's own so the size steps match) and
reports where the strategy's net P&L falls in that distribution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.backtest import engine as E
from core.backtest import loop as L
from core.config import Profile
from core.errors import DataError
from core.money import money


@dataclass(frozen=True)
class BaselineResult:
    """Distribution of random-entry net P&L and the strategy's place in it.

    Attributes:
        strategy_pnl: The strategy's total net P&L.
        pnls: Net P&L of each random seed.
        percentile: Share (0-100) of random seeds the strategy beat (ties count half).
        mean, p05, p50, p95: Summary of ``pnls``.
        n_entries: Entry signals placed per seed.
    """

    strategy_pnl: float
    pnls: np.ndarray
    percentile: float
    mean: float
    p05: float
    p50: float
    p95: float
    n_entries: int

    def summary(self) -> str:
        """One line for the terminal."""
        return (f"random-entry baseline ({len(self.pnls)} seeds, {self.n_entries} entries each): "
                f"median {money(self.p50)}, 5-95 % [{money(self.p05)}, {money(self.p95)}]; "
                f"strategy {money(self.strategy_pnl)} beats {self.percentile:.1f} % of them")


def random_baseline(bars: pd.DataFrame, trades_like: pd.DataFrame | E.BacktestResult,
                    profile: Profile, n_seeds: int = 200, seed: int = 0, *,
                    n_entries: int | None = None,
                    progress: Callable[[float], None] | None = None) -> BaselineResult:
    """Net P&L of ``n_seeds`` random-entry runs with the strategy's exits and sizing.

    Args:
        bars: The same bars the strategy was tested on.
        trades_like: The strategy's trade log (or its :class:`BacktestResult`).
        profile: The same profile (brackets, costs, risk rules).
        n_seeds: Number of random runs.
        seed: Base seed (seed k uses ``seed + k``); same seed → same distribution.
        n_entries: Entry signals per run (default: the strategy's number of trades).
        progress: Optional callback receiving the fraction done.

    Raises:
        DataError: When there are no bars or ``n_seeds`` < 1.
    """
    trades = trades_like.trades if isinstance(trades_like, E.BacktestResult) else trades_like
    if n_seeds < 1:
        raise DataError(f"n_seeds must be >= 1, got {n_seeds}", hint="try --baseline-seeds 200")
    pr = E.prepare(bars, profile)
    n = len(pr.arrays["ts"])
    if n == 0:
        raise DataError("random baseline: no bars", hint="load some bars first")
    k = int(n_entries if n_entries is not None else max(len(trades), 1))
    long_share = float((trades["direction"] > 0).mean()) if len(trades) else 0.5
    confs = trades["model_confidence"].to_numpy(np.float64) if len(trades) else np.array([1.0])
    confs = np.maximum(confs, profile.risk.min_confidence)
    eligible = np.flatnonzero(pr.rows >= 0)
    if len(eligible) == 0:
        eligible = np.arange(n)
    pnls = np.empty(n_seeds, dtype=np.float64)
    pcls = np.zeros(n, dtype=np.int8)
    for s in range(n_seeds):
        rng = np.random.default_rng(seed + s)
        idx = rng.choice(eligible, size=min(k, len(eligible)), replace=False)
        action = np.zeros(n, dtype=np.int8)
        action[idx] = np.where(rng.random(len(idx)) < long_share, 1, -1)
        conf = np.zeros(n, dtype=np.float64)
        conf[idx] = rng.choice(confs, size=len(idx))
        tr = E.run_prepared(pr, action, conf, pcls, record_equity=False)[0]
        pnls[s] = float(tr[:, L.T_NET].sum()) if len(tr) else 0.0
        if progress:
            progress((s + 1) / n_seeds)
    strat = float(trades["net_pnl"].sum()) if len(trades) else 0.0
    pct = 100.0 * (float((pnls < strat).sum()) + 0.5 * float((pnls == strat).sum())) / n_seeds
    return BaselineResult(strategy_pnl=strat, pnls=pnls, percentile=pct, mean=float(pnls.mean()),
                          p05=float(np.percentile(pnls, 5)), p50=float(np.median(pnls)),
                          p95=float(np.percentile(pnls, 95)), n_entries=k)
