"""Random-entry baseline: same exits, same sizing rules, random entries; many seeds.

The honest question about a strategy is not "is the P&L positive?" but "is it better than
entering at random with the same brackets, costs and risk rules?". This runs the compiled
loop with random entries (same long/short mix, confidences drawn from the strategy's own so
the size steps match) and reports where the strategy's **expectancy (net P&L per trade)**
falls in that distribution.

Unbiased by construction (issue 11, found 2):

* each random run *executes* as many trades as the strategy: entry signals are added until
  that many trades happened, because the risk rules (pauses, an open position, hours) refuse
  some entries — placing only as many signals as the strategy had trades made the random
  runs trade less and so lose less to costs;
* when a run executes more, the comparison draws that many of its trades at random;
* runs go through the same risk kernel, and with ``bars_1s`` they settle same-bar
  stop/target exactly as the strategy's run did (``--resolve-1s``);
* the comparison is per trade, not total P&L (a total depends on how many trades the risk
  state let through).
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


#: Rounds of adding entry signals before a run settles for fewer trades than the strategy
#: (an account stopped for good by its drawdown limit cannot trade more, whatever is added).
_MAX_ROUNDS = 8


@dataclass(frozen=True)
class BaselineResult:
    """Distribution of random-entry expectancy and the strategy's place in it.

    Attributes:
        strategy_expectancy: The strategy's net P&L per trade.
        expectancies: Net P&L per trade of each random seed (NaN: the seed never traded).
        percentile: Share (0-100) of random seeds the strategy beat (ties count half).
        mean, p05, p50, p95: Summary of ``expectancies``.
        n_trades: Trades compared per seed (the strategy's count).
        executed_median: Median trades a random run executed before the draw of
            ``n_trades`` (below ``n_trades`` only when the risk rules allowed no more).
    """

    strategy_expectancy: float
    expectancies: np.ndarray
    percentile: float
    mean: float
    p05: float
    p50: float
    p95: float
    n_trades: int
    executed_median: float

    @property
    def pnls(self) -> np.ndarray:
        """Per-trade net P&L of each seed (the report's histogram)."""
        return self.expectancies

    def summary(self) -> str:
        """One line for the terminal."""
        t = "trade" if self.n_trades == 1 else "trades"
        each = (f"each executing the strategy's {self.n_trades} {t}"
                if self.executed_median >= self.n_trades else
                f"each executing up to the strategy's {self.n_trades} {t}; median "
                f"{self.executed_median:.0f}, the risk rules allowed no more")
        return (f"random-entry baseline ({len(self.expectancies)} seeds, {each}): median {money(self.p50)} per trade, 5-95 % "
                f"[{money(self.p05)}, {money(self.p95)}]; strategy {money(self.strategy_expectancy)}"
                f" per trade beats {self.percentile:.1f} % of them")


def random_baseline(bars: pd.DataFrame, trades_like: pd.DataFrame | E.BacktestResult,
                    profile: Profile, n_seeds: int = 200, seed: int = 0, *,
                    n_trades: int | None = None, bars_1s: pd.DataFrame | None = None,
                    progress: Callable[[float], None] | None = None) -> BaselineResult:
    """Expectancy of ``n_seeds`` random-entry runs with the strategy's exits and sizing.

    Args:
        bars: The same bars the strategy was tested on.
        trades_like: The strategy's trade log (or its :class:`BacktestResult`).
        profile: The same profile (brackets, costs, risk rules, same-bar mode).
        n_seeds: Number of random runs.
        seed: Base seed (seed k uses ``seed + k``); same seed → same distribution.
        n_trades: Trades each run must execute (default: the strategy's number of trades).
        bars_1s: The 1-second bars the strategy's run settled same-bar exits with, if any.
        progress: Optional callback receiving the fraction done.

    Raises:
        DataError: When there are no bars or ``n_seeds`` < 1.
    """
    trades = trades_like.trades if isinstance(trades_like, E.BacktestResult) else trades_like
    if n_seeds < 1:
        raise DataError(f"n_seeds must be >= 1, got {n_seeds}", hint="try --baseline-seeds 200")
    pr = E.prepare(bars, profile, bars_1s=bars_1s)
    n = len(pr.arrays["ts"])
    if n == 0:
        raise DataError("random baseline: no bars", hint="load some bars first")
    k = int(n_trades if n_trades is not None else max(len(trades), 1))
    long_share = float((trades["direction"] > 0).mean()) if len(trades) else 0.5
    confs = trades["model_confidence"].to_numpy(np.float64) if len(trades) else np.array([1.0])
    confs = np.maximum(confs, profile.risk.min_confidence)
    eligible = np.flatnonzero(pr.rows >= 0)
    if len(eligible) == 0:
        eligible = np.arange(n)
    exps = np.full(n_seeds, np.nan)
    executed = np.zeros(n_seeds)
    pcls = np.zeros(n, dtype=np.int8)
    for s in range(n_seeds):
        rng = np.random.default_rng(seed + s)
        net = _run_until(pr, rng, eligible, k, long_share, confs, pcls)
        executed[s] = len(net)
        if len(net):
            pick = net if len(net) <= k else net[rng.choice(len(net), size=k, replace=False)]
            exps[s] = float(pick.mean())
        if progress:
            progress((s + 1) / n_seeds)
    strat = float(trades["net_pnl"].mean()) if len(trades) else 0.0
    ok = exps[np.isfinite(exps)]
    if len(ok) == 0:  # no random run could trade at all: nothing to compare with
        ok = np.array([0.0])
    pct = 100.0 * (float((ok < strat).sum()) + 0.5 * float((ok == strat).sum())) / len(ok)
    return BaselineResult(strategy_expectancy=strat, expectancies=exps, percentile=pct,
                          mean=float(ok.mean()), p05=float(np.percentile(ok, 5)),
                          p50=float(np.median(ok)), p95=float(np.percentile(ok, 95)),
                          n_trades=k, executed_median=float(np.median(executed)))


def _run_until(pr: E.Prepared, rng: np.random.Generator, eligible: np.ndarray, k: int,
               long_share: float, confs: np.ndarray, pcls: np.ndarray) -> np.ndarray:
    """Net P&L of each trade of one random run that executed at least ``k`` trades (or as
    many as the risk rules allowed after :data:`_MAX_ROUNDS` rounds of adding entries)."""
    n = len(pr.arrays["ts"])
    # One random order of candidate bars; each round uses a longer prefix of it, so adding
    # entries never moves the ones already placed.
    pool = min(len(eligible), max(8 * k, 256))
    order = rng.choice(eligible, size=pool, replace=False)
    side = np.where(rng.random(pool) < long_share, 1, -1).astype(np.int8)
    conf_draw = rng.choice(confs, size=pool)
    m = min(k, pool)
    net = np.zeros(0)
    for _ in range(_MAX_ROUNDS):
        idx = order[:m]
        action = np.zeros(n, dtype=np.int8)
        action[idx] = side[:m]
        conf = np.zeros(n, dtype=np.float64)
        conf[idx] = conf_draw[:m]
        tr = E.run_prepared(pr, action, conf, pcls, record_equity=False)[0]
        net = tr[:, L.T_NET].copy() if len(tr) else np.zeros(0)
        if len(net) >= k or m >= pool:
            break
        # Refused entries scale with the entries placed: ask for the shortfall in proportion.
        m = min(pool, int(np.ceil(m * 1.25 * k / max(len(net), 1))) + 1)
    return net
