"""Probabilistic and deflated Sharpe ratios (Bailey & López de Prado).

The deflated Sharpe ratio (DSR) is the probability that the true Sharpe ratio is above the
best Sharpe one would expect from ``n_trials`` unskilled attempts. The trial count comes from
the trial ledger (:mod:`core.backtest.ledger`): every backtest and sweep appends to it, so
trying many variants and keeping the best is paid for honestly.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_N = NormalDist()
EULER_GAMMA = 0.5772156649015329


def _moments(returns: np.ndarray) -> tuple[float, float, float]:
    """Per-period Sharpe, skewness and (non-excess) kurtosis of ``returns``."""
    r = np.asarray(returns, dtype=float)
    sd = r.std(ddof=1)
    if r.size < 3 or sd == 0:
        return math.nan, 0.0, 3.0
    z = (r - r.mean()) / r.std(ddof=0)
    return float(r.mean() / sd), float(np.mean(z ** 3)), float(np.mean(z ** 4))


def probabilistic_sharpe(returns: np.ndarray, benchmark_sr: float = 0.0) -> float:
    """P(true per-period Sharpe > ``benchmark_sr``) given skew and kurtosis of ``returns``."""
    sr, skew, kurt = _moments(returns)
    n = len(returns)
    if math.isnan(sr) or n < 3:
        return math.nan
    denom = 1 - skew * sr + (kurt - 1) / 4 * sr ** 2
    if denom <= 0:
        return math.nan
    return _N.cdf((sr - benchmark_sr) * math.sqrt(n - 1) / math.sqrt(denom))


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """Expected maximum per-period Sharpe of ``n_trials`` unskilled strategies."""
    if n_trials <= 1 or sr_variance <= 0:
        return 0.0
    a = _N.inv_cdf(1 - 1 / n_trials)
    b = _N.inv_cdf(1 - 1 / (n_trials * math.e))
    return math.sqrt(sr_variance) * ((1 - EULER_GAMMA) * a + EULER_GAMMA * b)


def deflated_sharpe(returns: np.ndarray, *, n_trials: int, sr_variance: float | None = None) -> float:
    """Deflated Sharpe ratio of per-period ``returns`` after ``n_trials`` attempts.

    Args:
        returns: Per-period (daily) returns or P&L of the selected strategy.
        n_trials: How many strategies/configurations were tried (from the ledger; ≥ 1).
        sr_variance: Variance of the per-period Sharpe ratios across the trials. When unknown,
            the variance of the Sharpe estimator itself (≈ 1/T) is used, a conservative stand-in.

    Returns:
        A probability in [0, 1]; ≥ 0.95 is the usual bar for "not explained by trying many".
    """
    r = np.asarray(returns, dtype=float)
    if r.size < 3:
        return math.nan
    var = sr_variance if sr_variance is not None and sr_variance > 0 else 1.0 / (r.size - 1)
    return probabilistic_sharpe(r, expected_max_sharpe(max(1, n_trials), var))
