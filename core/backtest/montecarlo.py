"""Monte-Carlo estimate of passing a Topstep Trading Combine.

A block bootstrap of the strategy's daily P&L (blocks of consecutive days keep streaks and
volatility clusters together) draws many possible futures. Each path trades day by day under
the profile's rules (topstepx-gateway.md §9.1): it passes when the balance reaches the profit
target *and* the consistency rule holds (best day ≤ pct of total profit — breaking it is not
a failure, it just raises the bar); it fails when the balance touches the trailing Maximum
Loss Limit (highest end-of-day balance − MLL, locked once it reaches the starting balance).
An optional daily loss limit caps a day's loss (a forced break, not a failure).

Limitation, stated in every report: with daily P&L only, the MLL is checked at the day's close
unless intraday lows are supplied (``daily_low``), which understates intraday breaches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CombineRules:
    """The Combine numbers a path is judged by (from the profile's [topstep] table)."""

    starting_balance: float
    profit_target: float
    max_loss_limit: float
    daily_loss_limit: float | None = None
    consistency_pct: float | None = None


@dataclass(frozen=True)
class CombineOutcome:
    """Share of simulated paths that passed, failed or were still open at the horizon."""

    p_pass: float
    p_fail: float
    p_open: float
    median_days_to_pass: float | None
    paths: int
    horizon_days: int
    block_days: int
    intraday_checked: bool


def combine_pass_probability(daily_pnl: np.ndarray, rules: CombineRules, *,
                             daily_low: np.ndarray | None = None, n_paths: int = 10_000,
                             horizon_days: int = 60, block_days: int = 5,
                             seed: int = 0) -> CombineOutcome:
    """Estimate P(pass) of a Combine by block-bootstrapping daily P&L.

    Args:
        daily_pnl: Net P&L per trading day of the backtest ($), in time order.
        rules: Combine rules.
        daily_low: Optional intraday minimum of cumulative P&L per day (≤ 0), paired with
            ``daily_pnl`` so the MLL is also checked intraday.
        n_paths: Simulated paths.
        horizon_days: Trading days each path may take before it counts as still open.
        block_days: Length of the bootstrap blocks.
        seed: Random seed.
    """
    pnl = np.asarray(daily_pnl, dtype=float)
    if pnl.size == 0:
        return CombineOutcome(0.0, 0.0, 1.0, None, 0, horizon_days, block_days, daily_low is not None)
    low = np.asarray(daily_low, dtype=float) if daily_low is not None else np.minimum(pnl, 0.0)
    rng = np.random.default_rng(seed)
    b = max(1, min(block_days, pnl.size))
    n_blocks = math.ceil(horizon_days / b)
    starts = rng.integers(0, pnl.size - b + 1, size=(n_paths, n_blocks))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_paths, -1)[:, :horizon_days]
    day_pnl, day_low = pnl[idx], low[idx]
    if rules.daily_loss_limit is not None:
        # A forced break: the day stops at the limit (approximation: its close is the limit).
        cap = -abs(rules.daily_loss_limit)
        day_pnl = np.maximum(day_pnl, cap)
        day_low = np.maximum(day_low, cap)

    start, mll = rules.starting_balance, rules.max_loss_limit
    balance = np.full(n_paths, start)
    eod_high = np.full(n_paths, start)
    best_day = np.zeros(n_paths)
    state = np.zeros(n_paths, dtype=np.int8)  # 0 open, 1 passed, -1 failed
    days_to_pass = np.full(n_paths, -1)
    for d in range(day_pnl.shape[1]):
        live = state == 0
        if not live.any():
            break
        floor = np.minimum(eod_high - mll, start)
        intraday = balance + (day_low[:, d] if daily_low is not None else np.minimum(day_pnl[:, d], 0.0))
        breached = live & ((intraday <= floor) | (balance + day_pnl[:, d] <= floor))
        state[breached] = -1
        live &= ~breached
        balance = np.where(live, balance + day_pnl[:, d], balance)
        eod_high = np.where(live, np.maximum(eod_high, balance), eod_high)
        best_day = np.where(live, np.maximum(best_day, day_pnl[:, d]), best_day)
        profit = balance - start
        ok = live & (profit >= rules.profit_target)
        if rules.consistency_pct is not None:
            ok &= best_day <= rules.consistency_pct * profit
        state[ok] = 1
        days_to_pass[ok] = d + 1
    passed = state == 1
    return CombineOutcome(
        p_pass=float(passed.mean()), p_fail=float((state == -1).mean()),
        p_open=float((state == 0).mean()),
        median_days_to_pass=float(np.median(days_to_pass[passed])) if passed.any() else None,
        paths=n_paths, horizon_days=horizon_days, block_days=b,
        intraday_checked=daily_low is not None,
    )
