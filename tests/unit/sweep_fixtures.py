"""Small synthetic markets and profiles for the sweep tests (no shared data needed).

* :func:`noise_bars` — a driftless random walk: no strategy has an edge.
* :func:`cycle_bars` — the same walk plus a planted sine wave (±6 points, 90-bar period):
  an SMA cross of the right speed rides every swing, in every fold.
* :func:`frictionless` — the demo profile with zero costs and the account limits out of
  reach, so every trial's P&L is only its entries and exits (on noise: pure luck, since
  costs would otherwise rank slow strategies above fast ones on noise too).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core.backtest.engine import with_strategy
from core.backtest.synthetic import random_walk_bars
from core.config import Profile, load_profile
from core.sweep.space import Space, parse_space


def noise_bars(n: int = 12_000, seed: int = 0) -> pd.DataFrame:
    """1-minute bars of a driftless random walk on real Globex sessions."""
    return random_walk_bars(n, seed=seed, bar_seconds=60, rth_only=False, sigma_ticks=2.0)


def cycle_bars(n: int = 12_000, seed: int = 0, amp_ticks: int = 24, period: int = 90
               ) -> pd.DataFrame:
    """:func:`noise_bars`-like walk plus a planted sine wave (see the module docstring)."""
    b = random_walk_bars(n, seed=seed, bar_seconds=60, rth_only=False, sigma_ticks=1.0)
    wave = np.rint(amp_ticks * np.sin(2 * np.pi * np.arange(n) / period)) * 0.25
    for c in ("open", "high", "low", "close"):
        b[c] = b[c] + wave
    b["high"] = b[["open", "high", "low", "close"]].max(axis=1)
    b["low"] = b[["open", "high", "low", "close"]].min(axis=1)
    return b


def frictionless() -> Profile:
    """Demo rules without costs or account-ending limits; always in the market on a cross."""
    p = load_profile("demo")
    r = dataclasses.replace(p.risk, starting_balance=1e6, max_daily_loss=1e5,
                            max_daily_drawdown=1e5, account_drawdown_stop=1e6,
                            kill_switch_loss=1e6, min_balance=0.0, max_risk_per_trade=1e4)
    c = dataclasses.replace(p.costs, commission_round_trip=0.0, slippage_ticks=0.0,
                            slippage_ticks_eth=0.0, slippage_ticks_volatile=0.0)
    s = dataclasses.replace(p.schedule, rth_only=False, entries_resume_at=None)
    p = dataclasses.replace(p, risk=r, costs=c, schedule=s)
    return with_strategy(p, on_opposite="reverse", time_stop_minutes=None, stop_ticks=40,
                         target_ticks=80, slippage_model="fixed")


def sma_space(extra: dict | None = None) -> Space:
    """A 5 × 5 grid of SMA speeds (plus ``extra`` parameters)."""
    params = {"signal.fast": {"values": [2, 3, 5, 8, 13]},
              "signal.slow": {"values": [10, 20, 40, 80, 160]}, **(extra or {})}
    return parse_space({"params": params}, source="test-space")
