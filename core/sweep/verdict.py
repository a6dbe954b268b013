"""The sweep's verdict in words: are the best parameters trustworthy?

Four independent checks, each of which can only lower the verdict:

1. **edge** — the best trial must make money on the validation folds after costs;
2. **selection** — PBO (CSCV) below 0.25 and a deflated Sharpe ratio of at least 0.95 over
   every trial in the ledger on this data (PBO above 0.5 or DSR below 0.5: the best is
   what trying many things produces on noise);
3. **held-out test** — the best parameters, scored once on the period no trial saw, must
   make money and keep at least half their validation expectancy per trade;
4. **stability** — the best point's nearest neighbours must keep at least half of its
   objective, and most of them must be positive (a lone spike is luck).

``trustworthy`` needs every check to pass; any failed check makes it ``not trustworthy``;
otherwise (a borderline check) it is ``fragile``. A best trial that loses money on validation
is ``no edge``; no trial with enough trades is ``not enough evidence``. Every check is listed
in the reasons whatever the label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.sweep.pbo import PBOResult
from core.sweep.stability import Neighbourhood
from core.sweep.trial import TrialResult


@dataclass(frozen=True)
class SweepVerdict:
    """Label, one-line headline, the reasons and the warnings."""

    label: str  #: trustworthy | fragile | not trustworthy | no edge | not enough evidence
    headline: str
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        """Plain text for the terminal."""
        lines = [f"VERDICT: {self.label} — {self.headline}"]
        lines += [f"  - {r}" for r in self.reasons]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _num(x: float, fmt: str = "{:.2f}") -> str:
    return fmt.format(x) if isinstance(x, (int, float)) and math.isfinite(x) else "n/a"


def make_verdict(best: TrialResult | None, test: TrialResult | None, pbo: PBOResult | None,
                 dsr: float, n_trials: int, neigh: Neighbourhood | None, *, objective: str,
                 min_trades: int, ok_trials: int, eligible_trials: int) -> SweepVerdict:
    """Judge the best parameters (see the module docstring for the rules).

    Args:
        best: The best eligible trial on validation (None: no eligible trial).
        test: That trial scored on the held-out test.
        pbo: CSCV over every completed trial of this sweep.
        dsr: Deflated Sharpe ratio of the best's daily validation P&L over ``n_trials``.
        n_trials: Trials counted for the deflation (the project's ledger on this data).
        neigh: The best's neighbourhood in parameter space.
        objective: Name of the optimised objective.
        min_trades: Validation trades a trial needed to be eligible.
        ok_trials: Trials that completed.
        eligible_trials: Completed trials with at least ``min_trades`` trades.
    """
    warnings: list[str] = []
    if best is None:
        return SweepVerdict(
            "not enough evidence",
            f"no trial reached {min_trades} validation trades ({ok_trials} completed)",
            ("with fewer trades no statistic can tell skill from luck",),
            ("loosen the risk rules or the confidence floor, or use more data",))
    m = best.metrics
    bad: list[str] = []
    soft: list[str] = []
    good: list[str] = []
    val = (f"best on validation: {objective} {_num(best.objective, '{:.3f}')}, net "
           f"${m['net_pnl']:,.2f} on {m['trades']:,} trades, Sharpe/day {_num(m['sharpe'])}")
    no_edge = m["net_pnl"] <= 0 or m["sharpe"] <= 0
    (bad if no_edge else good).append(val)
    # --- selection bias
    if pbo is None or not math.isfinite(pbo.pbo):
        soft.append("PBO not computed (fewer than two completed trials)")
    else:
        txt = (f"PBO {pbo.pbo:.2f}: the in-sample best ranks at or below the median out of "
               f"sample in {pbo.pbo:.0%} of {pbo.n_splits:,} CSCV splits")
        (bad if pbo.pbo > 0.5 else soft if pbo.pbo >= 0.25 else good).append(txt)
    if not math.isfinite(dsr):
        soft.append("deflated Sharpe not computed (fewer than 3 validation days)")
    else:
        txt = f"deflated Sharpe {dsr:.2f} after {n_trials:,} trials on this data (needs ≥ 0.95)"
        (bad if dsr < 0.5 else soft if dsr < 0.95 else good).append(txt)
    # --- held-out test
    if test is None or test.status != "ok":
        soft.append("held-out test not scored" + (f" ({test.message})" if test else ""))
    else:
        tm = test.metrics
        txt = (f"held-out test: net ${tm['net_pnl']:,.2f} on {tm['trades']:,} trades, "
               f"${tm['expectancy']:,.2f} per trade (validation ${m['expectancy']:,.2f})")
        # Per-trade expectancy, not the Sharpe ratio: a test period of a few days has too
        # few daily returns for a Sharpe ratio to mean anything.
        if tm["net_pnl"] <= 0:
            bad.append(txt)
        elif tm["expectancy"] < 0.5 * m["expectancy"]:
            soft.append(txt + " — less than half the validation expectancy")
        else:
            good.append(txt)
        expected = min_trades * test.metrics.get("days", 0) / max(1, m.get("days", 1))
        if tm["trades"] < max(10, expected):
            warnings.append(f"only {tm['trades']} trades in the held-out test: it can refute "
                            "but hardly confirm")
    # --- stability
    if neigh is not None and neigh.k > 0 and math.isfinite(neigh.ratio):
        txt = (f"stability: the {neigh.k} nearest parameter sets score a median "
               f"{_num(neigh.median, '{:.3f}')} vs the best's {_num(neigh.best, '{:.3f}')} "
               f"({neigh.ratio:.0%}); {neigh.share_positive:.0%} of them positive")
        (soft if neigh.ratio < 0.5 or neigh.share_positive < 0.5 else good).append(
            txt + (" — an isolated peak" if neigh.ratio < 0.5 else ""))
    if eligible_trials < 10:
        warnings.append(f"only {eligible_trials} trials had ≥ {min_trades} trades")
    if no_edge:
        label = "no edge"
        headline = "even the best parameters lose money on the validation folds after costs"
    elif bad:
        label = "not trustworthy"
        headline = "the best parameters look like selection luck: " + bad[0].split(":")[0]
    elif soft:
        label = "fragile"
        headline = "an edge on validation, but not a robust one: " + soft[0].split(":")[0]
    else:
        label = "trustworthy"
        headline = ("the best parameters survive selection (PBO, deflated Sharpe), the "
                    "held-out test and their neighbourhood")
    return SweepVerdict(label, headline, tuple(bad + soft + good), tuple(warnings))
