"""The verdict in words: the honest one-paragraph answer every backtest report ends with.

"No edge after costs" is a valid and common verdict (requirements §10). A *possible* edge
needs all of: enough trades, an expectancy interval above zero, beating the random-entry
baseline with identical exits, a deflated Sharpe that survives the number of trials, and a
result that does not hinge on how same-bar stop/target ambiguity was settled.

:func:`edge_verdict` is the one rule and wording; ``scalpdesk train`` (core/training/report.py)
and ``scalpdesk backtest`` both call it, so the same numbers get the same verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.backtest.bootstrap import Interval
from core.backtest.stats import Stats
from core.money import money

MIN_TRADES = 100


@dataclass(frozen=True)
class Verdict:
    """A short label and the sentences that justify it."""

    label: str  #: "possible edge" | "no edge after costs" | "inconclusive" | "too few trades"
    headline: str
    reasons: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """Headline, reasons and warnings as plain text."""
        lines = [f"{self.label}: {self.headline}"]
        lines += [f"  - {r}" for r in self.reasons]
        lines += [f"  ! {w}" for w in self.warnings]
        return "\n".join(lines)


def _money(x: float) -> str:
    return money(x)


def trials_low(expectancy: Interval, n_trials: int) -> float:
    """The interval's lower bound widened for ``n_trials`` tries on the same data.

    Bonferroni: each try's two-sided level becomes 5 % / n, so the half-width below the
    estimate grows from z = 1.96 to z = Φ⁻¹(1 − 0.025 / n) (2.24 at 2 trials, 2.80 at 10,
    3.48 at 100). The best of many tries must clear that wider bar to count as an edge.
    """
    from statistics import NormalDist

    if n_trials <= 1:
        return expectancy.low
    z = NormalDist().inv_cdf(1.0 - 0.025 / n_trials)
    return expectancy.estimate - (expectancy.estimate - expectancy.low) * z / 1.959964


def edge_verdict(trades: int, expectancy: Interval, *, failures: Sequence[str] = (),
                 min_trades: int = MIN_TRADES, where: str = "",
                 n_trials: int = 1) -> tuple[str, str]:
    """The one rule deciding an edge verdict: ``scalpdesk train`` and ``backtest`` both call it.

    * no trades, or fewer than ``min_trades`` with the interval straddling zero:
      "too few trades";
    * the 95 % expectancy interval wholly below zero: "no edge after costs", whatever the
      trade count (a clear loss needs no minimum sample);
    * interval wholly above zero, enough trades and no ``failures``: "possible edge";
    * estimate at or below zero: "no edge after costs" (the interval includes zero);
    * otherwise "inconclusive", naming what failed.

    Args:
        trades: Trades behind the interval.
        expectancy: Net P&L per trade after costs with its 95 % interval.
        failures: Other tests the caller's evidence failed, in words (e.g. "random entries
            with the same exits do as well too often"); any one keeps "possible edge" away.
        min_trades: Below this no edge is claimed.
        where: Appended to the trade count (e.g. " in 3 folds").
        n_trials: Trials on the same data in the ledger (training configurations, backtests,
            sweep trials), this one included: "possible edge" needs the interval's lower
            bound widened for them (:func:`trials_low`) above zero.

    Returns:
        (label, headline): the label is one of "possible edge", "no edge after costs",
        "inconclusive", "too few trades"; the headline states the numbers behind it.
    """
    if trades <= 0:
        return "too few trades", "no trades were taken, so there is nothing to judge"
    s = "s" if trades != 1 else ""
    exp = (f"{_money(expectancy.estimate)} per trade after costs (95 % CI "
           f"{_money(expectancy.low)} to {_money(expectancy.high)}) over {trades:,} trade{s}{where}")
    few = f"{trades:,} trade{s} {'is' if trades == 1 else 'are'} below the minimum of " \
          f"{min_trades} needed to judge an edge"
    # A bootstrap of one trade (or of identical ones) has no width: it says nothing yet.
    degenerate = trades < 2 or not expectancy.high > expectancy.low
    if degenerate and trades < min_trades:
        return "too few trades", f"{few}; {exp}"
    if expectancy.high < 0:
        return "no edge after costs", f"loses {exp}"
    if trades < min_trades:
        if expectancy.low > 0:  # above zero on a small sample: promising, not proven
            return "inconclusive", f"{exp}, but {few}"
        return "too few trades", f"{few}; {exp}"
    failures = list(failures)
    if expectancy.low > 0 and n_trials > 1 and trials_low(expectancy, n_trials) <= 0:
        failures.append(f"after {n_trials:,} trials on this data the interval widened for them "
                        f"reaches {_money(trials_low(expectancy, n_trials))}")
    if expectancy.low > 0 and not failures:
        return "possible edge", f"earns {exp}"
    if expectancy.estimate <= 0:
        return "no edge after costs", f"{exp}; the interval includes zero"
    why = (["the expectancy interval includes zero"] if expectancy.low <= 0 else []) + failures
    return "inconclusive", f"{exp}, but " + "; ".join(why)


def make_verdict(stats: Stats, expectancy_ci: Interval, *, pf_ci: Interval | None = None,
                 baseline_percentile: float | None = None, deflated_sharpe: float | None = None,
                 n_trials: int = 1, ambiguity: tuple[float, float, float] | None = None,
                 min_trades: int = MIN_TRADES) -> Verdict:
    """Decide a backtest's verdict (the rule itself is :func:`edge_verdict`).

    Args:
        stats: The backtest's statistics.
        expectancy_ci: Bootstrap interval of net P&L per trade.
        pf_ci: Bootstrap interval of the profit factor.
        baseline_percentile: The strategy's percentile (0–100) in the random-entry baseline.
        deflated_sharpe: Probability from :func:`core.backtest.dsr.deflated_sharpe`.
        n_trials: Trials counted in the ledger (for the message).
        ambiguity: (pessimistic net P&L, optimistic net P&L, share of trades affected).
        min_trades: Below this, no verdict on edge is given.
    """
    reasons: list[str] = []
    warnings: list[str] = []
    n = stats.trades
    if n == 0:
        label, head = edge_verdict(0, expectancy_ci, min_trades=min_trades)
        return Verdict(label, head, ("check the confidence floor, the signals and the risk rules",))
    if pf_ci is not None and not math.isnan(pf_ci.estimate):
        reasons.append(f"profit factor {pf_ci.estimate:.2f} (95 % CI {pf_ci.low:.2f}–{pf_ci.high:.2f})")
    reasons.append(f"win rate {stats.win_rate:.1%}")
    if baseline_percentile is not None:
        reasons.append(f"per trade, beats {baseline_percentile:.0f} % of random-entry runs with "
                       "identical exits and as many trades")
    if deflated_sharpe is not None and not math.isnan(deflated_sharpe):
        reasons.append(f"deflated Sharpe {deflated_sharpe:.2f} after {n_trials} trial(s) in the ledger")
    costs = stats.commission + stats.slippage
    reasons.append(f"gross {_money(stats.gross_pnl)}, costs {_money(costs)}, net {_money(stats.net_pnl)}")
    ambiguous_sign = False
    if ambiguity is not None:
        pess, opt, share = ambiguity
        if share > 0:
            warnings.append(f"{share:.1%} of trades had stop and target in the same bar: net P&L "
                            f"{_money(pess)} (pessimistic) to {_money(opt)} (optimistic)")
        ambiguous_sign = (pess < 0) != (opt < 0)
        if ambiguous_sign:
            warnings.append("the sign of the result depends on intrabar ordering; use 1-second bars")
    failures = []
    if baseline_percentile is not None and baseline_percentile < 95:
        failures.append("random entries with the same exits do as well too often")
    if deflated_sharpe is not None and not math.isnan(deflated_sharpe) and deflated_sharpe < 0.95:
        failures.append("the Sharpe ratio does not survive the number of trials")
    if ambiguous_sign:
        failures.append("the result hinges on same-bar ordering")
    label, head = edge_verdict(n, expectancy_ci, failures=failures, min_trades=min_trades,
                               n_trials=n_trials)
    if label == "possible edge":
        warnings.append("a backtest is not proof: paper trade it before risking money")
    return Verdict(label, head, tuple(reasons), tuple(warnings))
