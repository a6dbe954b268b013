"""The verdict in words: the honest one-paragraph answer every backtest report ends with.

"No edge after costs" is a valid and common verdict (requirements §10). A *possible* edge
needs all of: enough trades, an expectancy interval above zero, beating the random-entry
baseline with identical exits, a deflated Sharpe that survives the number of trials, and a
result that does not hinge on how same-bar stop/target ambiguity was settled.
"""

from __future__ import annotations

import math
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


def make_verdict(stats: Stats, expectancy_ci: Interval, *, pf_ci: Interval | None = None,
                 baseline_percentile: float | None = None, deflated_sharpe: float | None = None,
                 n_trials: int = 1, ambiguity: tuple[float, float, float] | None = None,
                 min_trades: int = MIN_TRADES) -> Verdict:
    """Decide the verdict.

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
        return Verdict("too few trades", "no trades were taken, so there is nothing to judge",
                       ("check the confidence floor, the signals and the risk rules",))
    exp = f"{_money(expectancy_ci.estimate)} per trade after costs " \
          f"(95 % CI {_money(expectancy_ci.low)} to {_money(expectancy_ci.high)}) over {n:,} trades"
    if pf_ci is not None and not math.isnan(pf_ci.estimate):
        reasons.append(f"profit factor {pf_ci.estimate:.2f} (95 % CI {pf_ci.low:.2f}–{pf_ci.high:.2f})")
    reasons.append(f"win rate {stats.win_rate:.1%}" if n else "no trades")
    if baseline_percentile is not None:
        reasons.append(f"beats {baseline_percentile:.0f} % of random-entry runs with identical exits")
    if deflated_sharpe is not None and not math.isnan(deflated_sharpe):
        reasons.append(f"deflated Sharpe {deflated_sharpe:.2f} after {n_trials} trial(s) in the ledger")
    costs = stats.commission + stats.slippage
    if n:
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

    if n < min_trades:
        return Verdict("too few trades", f"{n} trades is below the minimum of {min_trades} "
                       f"needed to judge an edge; {exp}", tuple(reasons), tuple(warnings))
    if expectancy_ci.high < 0:
        return Verdict("no edge after costs", f"loses {exp}", tuple(reasons), tuple(warnings))
    strong = (expectancy_ci.low > 0
              and (baseline_percentile is None or baseline_percentile >= 95)
              and (deflated_sharpe is None or math.isnan(deflated_sharpe) or deflated_sharpe >= 0.95)
              and not ambiguous_sign)
    if strong:
        warnings.append("a backtest is not proof: paper trade it before risking money")
        return Verdict("possible edge", f"earns {exp}", tuple(reasons), tuple(warnings))
    if expectancy_ci.estimate <= 0:
        return Verdict("no edge after costs", f"{exp}; the interval includes zero",
                       tuple(reasons), tuple(warnings))
    why = []
    if expectancy_ci.low <= 0:
        why.append("the expectancy interval includes zero")
    if baseline_percentile is not None and baseline_percentile < 95:
        why.append("random entries with the same exits do as well too often")
    if deflated_sharpe is not None and not math.isnan(deflated_sharpe) and deflated_sharpe < 0.95:
        why.append("the Sharpe ratio does not survive the number of trials")
    if ambiguous_sign:
        why.append("the result hinges on same-bar ordering")
    return Verdict("inconclusive", f"{exp}, but " + "; ".join(why), tuple(reasons), tuple(warnings))
