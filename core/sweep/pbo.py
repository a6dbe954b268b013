"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting" (2015):

1. ``perf`` is a T×N matrix: the P&L of each of N trials in each of T time buckets.
2. The rows are cut into S contiguous blocks (S even). For every way of choosing S/2 blocks
   as "in sample" (the rest, the complement, is "out of sample"): find the trial with the
   best in-sample Sharpe ratio, and the relative rank ω of that same trial's out-of-sample
   Sharpe among all N (0 = worst, 1 = best); its logit is λ = ln(ω / (1 − ω)).
3. PBO is the share of splits with λ ≤ 0: how often the in-sample winner is no better than
   the median trial out of sample. Near 0.5 (or above) means choosing the best is no better
   than choosing at random — selection fitted noise; near 0 means the winner keeps winning.

Ties (trials with identical P&L, e.g. a parameter that never mattered) share their average
rank, so duplicated trials neither help nor hurt.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

#: Cap on splits × trials (memory ≈ 8 bytes × 6 × this); beyond it splits are sampled.
MAX_CELLS = 6_000_000


@dataclass(frozen=True)
class PBOResult:
    """The outcome of CSCV (see the module docstring)."""

    pbo: float  #: share of splits whose in-sample best ranks at or below the median OOS
    n_blocks: int  #: S
    n_splits: int  #: splits evaluated (all C(S, S/2), or a seeded sample of them)
    n_trials: int  #: N
    logits: np.ndarray  #: λ per split
    is_sharpe: np.ndarray  #: in-sample Sharpe of the selected trial, per split
    oos_sharpe: np.ndarray  #: its out-of-sample Sharpe, per split
    prob_oos_loss: float  #: share of splits where the selected trial loses out of sample
    slope: float  #: least-squares slope of OOS on IS Sharpe of the selected (degradation)

    def to_dict(self) -> dict[str, float | int]:
        """Scalars only (JSON-ready)."""
        return {"pbo": self.pbo, "n_blocks": self.n_blocks, "n_splits": self.n_splits,
                "n_trials": self.n_trials, "prob_oos_loss": self.prob_oos_loss,
                "slope": self.slope,
                "median_logit": float(np.median(self.logits)) if self.logits.size else math.nan}


def _sharpe(s: np.ndarray, q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sharpe from sums, sums of squares and counts (rows × trials); 0 where undefined."""
    n = n[:, None].astype(float)
    mean = s / n
    var = (q - n * mean ** 2) / np.maximum(n - 1, 1)
    sd = np.sqrt(np.where(var > 1e-18, var, np.nan))
    out = mean / sd
    return np.where(np.isfinite(out), out, 0.0)


def _avg_rank(values: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """Average rank (1..N, ties averaged) of ``values[i, pick[i]]`` within row i."""
    sel = values[np.arange(len(values)), pick][:, None]
    below = (values < sel).sum(axis=1)
    ties = (values == sel).sum(axis=1)  # includes the selected one itself
    return below + (ties + 1) / 2.0


def cscv_pbo(perf: np.ndarray, *, n_blocks: int = 16, seed: int = 0) -> PBOResult:
    """PBO of selecting the best of ``perf``'s columns by in-sample Sharpe.

    Args:
        perf: T×N per-bucket P&L (rows in time order, one column per trial); N ≥ 2.
        n_blocks: S, made even and at most T (16 is the paper's usual choice).
        seed: Seeds the sample of splits when C(S, S/2) × N exceeds :data:`MAX_CELLS`.

    Returns:
        :class:`PBOResult` (``pbo`` is NaN when there are fewer than 2 trials or 2 rows).
    """
    perf = np.asarray(perf, dtype=np.float64)
    if perf.ndim != 2 or perf.shape[1] < 2 or perf.shape[0] < 2:
        empty = np.zeros(0)
        return PBOResult(math.nan, 0, 0, int(perf.shape[1]) if perf.ndim == 2 else 0,
                         empty, empty, empty, math.nan, math.nan)
    t, n = perf.shape
    s = max(2, min(int(n_blocks), t) // 2 * 2)
    blocks = np.array_split(np.arange(t), s)
    bs = np.stack([perf[b].sum(axis=0) for b in blocks])  # S×N
    bq = np.stack([(perf[b] ** 2).sum(axis=0) for b in blocks])
    bn = np.array([len(b) for b in blocks], dtype=float)
    combos = list(itertools.combinations(range(s), s // 2))
    max_splits = max(1, MAX_CELLS // n)
    if len(combos) > max_splits:
        rng = np.random.default_rng(seed)
        combos = [combos[i] for i in sorted(rng.choice(len(combos), max_splits, replace=False))]
    mask = np.zeros((len(combos), s))
    for i, c in enumerate(combos):
        mask[i, list(c)] = 1.0
    inv = 1.0 - mask
    is_sr = _sharpe(mask @ bs, mask @ bq, mask @ bn)
    oos_sr = _sharpe(inv @ bs, inv @ bq, inv @ bn)
    best = is_sr.argmax(axis=1)
    omega = _avg_rank(oos_sr, best) / (n + 1)
    logits = np.log(omega / (1.0 - omega))
    rows = np.arange(len(combos))
    is_b, oos_b = is_sr[rows, best], oos_sr[rows, best]
    slope = math.nan
    if np.ptp(is_b) > 0:
        slope = float(np.polyfit(is_b, oos_b, 1)[0])
    return PBOResult(pbo=float(np.mean(logits <= 0)), n_blocks=s, n_splits=len(combos),
                     n_trials=n, logits=logits, is_sharpe=is_b, oos_sharpe=oos_b,
                     prob_oos_loss=float(np.mean(oos_b < 0)), slope=slope)
