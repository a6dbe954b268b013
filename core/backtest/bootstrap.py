"""Bootstrap confidence intervals for expectancy and profit factor.

Trades are resampled with replacement (i.i.d. bootstrap, percentile intervals). With fewer
than ~30 trades the intervals are wide by design: that width *is* the honest answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    level: float  #: e.g. 0.95

    def excludes_zero(self) -> bool:
        """True when the whole interval is above or below zero."""
        return self.low > 0 or self.high < 0

    def excludes(self, value: float) -> bool:
        """True when ``value`` lies outside the interval."""
        return value < self.low or value > self.high


def _bootstrap(x: np.ndarray, stat: Callable[[np.ndarray], np.ndarray], n_boot: int,
               seed: int) -> np.ndarray:
    """``stat`` (row-wise over a (k, n) sample matrix) of ``n_boot`` resamples of ``x``.

    Chunked so 10^5 trades × 2000 resamples never needs gigabytes at once.
    """
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    chunk = max(1, 20_000_000 // max(x.size, 1))
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        out[start:start + k] = stat(x[rng.integers(0, x.size, size=(k, x.size))])
    return out


def _profit_factors(s: np.ndarray) -> np.ndarray:
    wins = np.where(s > 0, s, 0.0).sum(axis=1)
    losses = -np.where(s < 0, s, 0.0).sum(axis=1)
    # Losses of a few 1e-300 overflow the ratio to inf, which is the right profit factor.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(losses > 0, wins / np.where(losses > 0, losses, 1.0),
                        np.where(wins > 0, np.inf, np.nan))


def bootstrap_expectancy(net_pnl: np.ndarray, *, n_boot: int = 2000, level: float = 0.95,
                         seed: int = 0) -> Interval:
    """Bootstrap CI of the mean net P&L per trade."""
    x = np.asarray(net_pnl, dtype=float)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    means = _bootstrap(x, lambda s: s.mean(axis=1), n_boot, seed)
    a = (1 - level) / 2
    return Interval(float(x.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a)), level)


def bootstrap_profit_factor(net_pnl: np.ndarray, *, n_boot: int = 2000, level: float = 0.95,
                            seed: int = 0) -> Interval:
    """Bootstrap CI of the profit factor (gross wins ÷ gross losses)."""
    x = np.asarray(net_pnl, dtype=float)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    pfs = _bootstrap(x, _profit_factors, n_boot, seed)
    wins, losses = x[x > 0].sum(), -x[x < 0].sum()
    with np.errstate(over="ignore"):   # huge wins over tiny losses: inf, as in the resamples
        est = wins / losses if losses > 0 else (math.inf if wins > 0 else math.nan)
    finite = pfs[~np.isnan(pfs)]
    if finite.size == 0:
        return Interval(float(est), math.nan, math.nan, level)
    # Order statistics instead of np.quantile: resamples without losses have PF = inf, and
    # interpolating between inf values is undefined (it warns and returns NaN).
    srt = np.sort(finite)
    a = (1 - level) / 2
    lo = srt[min(srt.size - 1, int(np.floor(a * (srt.size - 1))))]
    hi = srt[min(srt.size - 1, int(np.ceil((1 - a) * (srt.size - 1))))]
    return Interval(float(est), float(lo), float(hi), level)
