"""Capital scaling: the same signals and rules at several starting capitals, in one table.

How does a result scale from $100 to $100,000? Small accounts run into the exchange's minimum
order size (trades skipped) and fixed costs; large accounts pay market impact (their orders
are a bigger share of each bar's volume). :func:`capital_table` runs the real backtester once
per capital — same bars, same signals, same profile — with only the starting balance changed:

* a profile with ``risk.limits_unit = "percent"`` (the crypto profiles) keeps its limits, which
  are already % of equity;
* a dollar profile has every dollar amount scaled by ``capital ÷ starting_balance`` (daily
  loss, drawdowns, risk per trade, kill switch, minimum balance, size tiers' thresholds) —
  contract caps stay whole contracts, so small futures accounts often cannot trade at all;
* Topstep profiles are refused: their account size is the program's, not a free choice.

Per capital: trades taken, entries skipped for minimum size ("size rounds to zero" and "below
the minimum notional"), other refusals, fees, slippage (and its market-impact part), net P&L,
return, maximum drawdown and the verdict — from the bootstrap expectancy interval and profit
factor only (no random baseline or deflated Sharpe per row; the main run has those).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.config import Profile
from core.errors import ConfigError

#: Denial reasons that mean "the account is too small for one order of this instrument".
MIN_SIZE_REASONS = ("size rounds to zero", "below the minimum notional")
COLUMNS = ("capital", "trades", "skipped_min_size", "refused_other", "fees", "slippage",
           "impact", "net_pnl", "return_pct", "max_drawdown_pct", "verdict")


def parse_capitals(text: str) -> list[float]:
    """``"100,1000,10k,1e5"`` → ``[100.0, 1000.0, 10000.0, 100000.0]`` (ascending, unique).

    Raises:
        ConfigError: Empty list, a value that is not a positive finite amount, or > 1e9.
    """
    out: list[float] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        mult = 1.0
        if part[-1:].lower() in ("k", "m"):
            mult = 1e3 if part[-1:].lower() == "k" else 1e6
            part = part[:-1]
        try:
            v = float(part.replace("_", "")) * mult
        except ValueError:
            raise ConfigError(f"--capital: {part!r} is not an amount",
                              hint="give dollar amounts separated by commas, e.g. "
                                   "--capital 100,1000,10000,100000") from None
        if not (math.isfinite(v) and 0 < v <= 1e9):
            raise ConfigError(f"--capital: {v:g} is not a starting capital between 0 and 1e9",
                              hint="e.g. --capital 100,1000,10000,100000")
        out.append(v)
    if not out:
        raise ConfigError("--capital: no amounts given", hint="e.g. --capital 100,1000,10000")
    return sorted(set(out))


def scale_profile(profile: Profile, capital: float) -> Profile:
    """``profile`` with starting balance ``capital`` (see the module docstring for the rule).

    Raises:
        ConfigError: A Topstep profile (its account size is fixed by the program).
    """
    if profile.topstep is not None:
        raise ConfigError(f"profile {profile.name} is a Topstep {profile.topstep.program}: its "
                          f"account size ({profile.topstep.account_size:,}) is the program's",
                          hint="compare capitals with account_1k, demo or a crypto profile "
                               "(crypto_spot_1k)")
    r = profile.risk
    if r.limits_unit == "percent":
        return replace(profile, risk=replace(r, starting_balance=float(capital)))
    k = float(capital) / r.starting_balance
    tiers = tuple(replace(t, min_balance=t.min_balance * k) for t in r.size_tiers)
    return replace(profile, risk=replace(
        r, starting_balance=float(capital), max_daily_loss=r.max_daily_loss * k,
        max_daily_drawdown=r.max_daily_drawdown * k, max_risk_per_trade=r.max_risk_per_trade * k,
        account_drawdown_stop=r.account_drawdown_stop * k, kill_switch_loss=r.kill_switch_loss * k,
        min_balance=r.min_balance * k, size_tiers=tiers))


@dataclass(frozen=True)
class CapitalTable:
    """One row per capital (``frame``, columns :data:`COLUMNS`) and notes on how it was made."""

    frame: pd.DataFrame
    notes: tuple[str, ...]


def capital_table(bars: pd.DataFrame, signals: Any, profile: Profile,
                  capitals: list[float], *, seed: int = 0) -> CapitalTable:
    """Backtest ``signals`` on ``bars`` at each capital (the real backtester, fresh account).

    Args:
        bars: Canonical bar frame.
        signals: :class:`core.strategy.signals.Signals` aligned with ``bars``.
        profile: The profile; only its starting balance (and $ limits) change per row.
        capitals: Starting capitals in $.
        seed: Seeds the bootstrap intervals behind each verdict.
    """
    from core.backtest.bootstrap import bootstrap_expectancy, bootstrap_profit_factor
    from core.backtest.engine import run_backtest
    from core.backtest.stats import compute_stats
    from core.backtest.verdict import make_verdict
    from core.daycut import DayRule

    rows = []
    for cap in capitals:
        prof = scale_profile(profile, cap)
        res = run_backtest(bars, signals, profile=prof, seed=seed)
        t = res.trades
        den = res.params.get("denials", {})
        small = sum(int(den.get(k, 0)) for k in MIN_SIZE_REASONS)
        other = sum(int(v) for k, v in den.items() if k not in MIN_SIZE_REASONS)
        stats = compute_stats(t, res.equity, starting_balance=cap, day_rule=DayRule.of(prof))
        net = t["net_pnl"].to_numpy(float)
        verdict = make_verdict(stats, bootstrap_expectancy(net, seed=seed),
                               pf_ci=bootstrap_profit_factor(net, seed=seed) if len(net) else None,
                               ambiguity=(res.ambiguity.pessimistic_pnl,
                                          res.ambiguity.optimistic_pnl,
                                          res.ambiguity.share_affected))
        dd = stats.max_drawdown.depth_pct
        rows.append({
            "capital": float(cap), "trades": len(t), "skipped_min_size": small,
            "refused_other": other, "fees": float(t["commission"].sum()) if len(t) else 0.0,
            "slippage": float(t["slippage"].sum()) if len(t) else 0.0,
            "impact": float(t["impact"].sum()) if len(t) else 0.0,
            "net_pnl": float(res.net_pnl), "return_pct": 100.0 * res.net_pnl / cap,
            "max_drawdown_pct": 100.0 * dd if dd == dd else 0.0, "verdict": verdict.label})
    unit = ("limits in % of equity: only the starting balance changes" if
            profile.risk.limits_unit == "percent" else
            "dollar limits and size-tier thresholds scaled with the capital; contract caps "
            "unchanged")
    notes = (f"same bars, signals and profile {profile.name} at each capital ({unit}); each "
             "capital a fresh account",
             "skipped for minimum size = entries refused as 'size rounds to zero' or 'below the "
             "minimum notional'; slippage includes the market-impact part shown",
             "verdict per row from the expectancy and profit-factor intervals only (no random "
             "baseline or deflated Sharpe)")
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["trades"] = frame["trades"].astype(np.int64)
    return CapitalTable(frame=frame, notes=notes)


#: Row labels of :func:`display_table` (one column per capital).
ROW_LABELS = ("trades", "skipped: min size", "other refusals", "fees", "slippage",
              "  of which impact", "net P&L", "return", "max drawdown", "verdict")


def display_table(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """(headings, rows) with one COLUMN per capital: narrow enough for an 80-column terminal,
    and the same text in the terminal and the HTML report."""
    from core.money import MINUS, money

    def pct(x: float, signed: bool = False) -> str:
        return (f"{x:+.2f} %" if signed else f"{x:.2f} %").replace("-", MINUS)

    head = ["capital"] + [money(c, cents=False) for c in frame["capital"]]
    cols = [[f"{int(r.trades):,}", f"{int(r.skipped_min_size):,}", f"{int(r.refused_other):,}",
             money(r.fees), money(r.slippage), money(r.impact), money(r.net_pnl),
             pct(r.return_pct, True), pct(r.max_drawdown_pct), str(r.verdict)]
            for r in frame.itertuples()]
    rows = [[label] + [c[k] for c in cols] for k, label in enumerate(ROW_LABELS)]
    return head, rows
