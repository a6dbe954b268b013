"""After the trials: pick the best, then ask how much to believe it.

* the best trial is the highest validation objective among trials with at least
  ``min_trades`` validation trades (ties: the lower trial number);
* PBO by CSCV over the bucketed validation P&L of every completed trial;
* the deflated Sharpe ratio of the best's daily validation P&L, deflated by every trial the
  project's ledger holds on this data (this sweep's included) and their Sharpe variance;
* stability (importance, heatmap, neighbourhood) and the verdict in words.

The held-out test results come in from outside (they are scored after this selection and
never change it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.sweep.pbo import PBOResult, cscv_pbo
from core.sweep.space import Space
from core.sweep.stability import Heatmap, Neighbourhood, heatmap, heatmap_axes, importance, neighbourhood
from core.sweep.store import trials_frame
from core.sweep.trial import TrialResult
from core.sweep.verdict import SweepVerdict, make_verdict


def rank(results: list[TrialResult], k: int) -> list[TrialResult]:
    """The ``k`` best eligible completed trials by validation objective."""
    ok = [r for r in results if r.status == "ok" and r.eligible and math.isfinite(r.objective)]
    return sorted(ok, key=lambda r: (-r.objective, r.number))[:k]


@dataclass
class SweepAnalysis:
    """Everything the report and the summary show."""

    frame: pd.DataFrame
    best: TrialResult | None
    top: list[TrialResult]
    tests: list[TrialResult]
    pbo: PBOResult | None
    dsr: float
    n_trials_counted: int
    importance: dict[str, float]
    heatmap: Heatmap | None
    neighbourhood: Neighbourhood | None
    verdict: SweepVerdict
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (``summary.json``)."""
        test_of = {t.number: t for t in self.tests}
        return {
            "verdict": {"label": self.verdict.label, "headline": self.verdict.headline,
                        "reasons": list(self.verdict.reasons),
                        "warnings": list(self.verdict.warnings)},
            "best": None if self.best is None else {
                "trial": self.best.number, "params": self.best.params,
                "objective": self.best.objective, "validation": self.best.metrics,
                "test": test_of[self.best.number].metrics if self.best.number in test_of else None},
            "top": [{"trial": r.number, "params": r.params, "objective": r.objective,
                     "validation": r.metrics,
                     "test": test_of[r.number].metrics if r.number in test_of else None}
                    for r in self.top],
            "pbo": self.pbo.to_dict() if self.pbo else None,
            "deflated_sharpe": self.dsr, "trials_counted_for_deflation": self.n_trials_counted,
            "importance": self.importance,
            "neighbourhood": None if self.neighbourhood is None else vars(self.neighbourhood),
            "counts": self.counts,
        }


def analyse(results: list[TrialResult], tests: list[TrialResult], space: Space, *,
            objective: str, min_trades: int, n_trials: int, sr_variance: float | None,
            top_k: int = 5, seed: int = 0) -> SweepAnalysis:
    """Best trial, PBO, deflated Sharpe, stability and the verdict.

    Args:
        results: This sweep's finished trials (ok and invalid).
        tests: Held-out test results of the top trials (role "test").
        space: The space (parameter kinds and ranges for stability).
        objective: The optimised objective's name.
        min_trades: Eligibility threshold.
        n_trials: Trials counted for the deflation (ledger on this data; ≥ this sweep's).
        sr_variance: Variance of the per-day Sharpe across those trials (None: unknown).
        top_k: How many of the best were scored on the held-out test.
        seed: Seeds the CSCV split sample (only used when there are very many trials).
    """
    from core.backtest.dsr import deflated_sharpe

    ok = sorted((r for r in results if r.status == "ok"), key=lambda r: r.number)
    top = rank(ok, top_k)
    best = top[0] if top else None
    pbo = None
    if len(ok) >= 2:
        perf = np.array([r.bucket_pnl for r in ok], dtype=float).T
        pbo = cscv_pbo(perf, seed=seed)
    dsr = math.nan
    if best is not None and len(best.daily_pnl) >= 3:
        dsr = float(deflated_sharpe(np.asarray(best.daily_pnl), n_trials=max(1, n_trials),
                                    sr_variance=sr_variance))
    params = list(space.params)
    frame = trials_frame(results, space.keys)
    okf = frame[frame["status"] == "ok"].reset_index(drop=True) if len(frame) else frame
    imp: dict[str, float] = {}
    hm = None
    neigh = None
    if len(okf) >= 2:
        imp = importance(okf, params)
        axes = heatmap_axes(params, imp, space.settings.get("heatmap"))
        if axes is not None:
            hm = heatmap(okf, axes[0], axes[1])
        if best is not None:
            idx = int(np.flatnonzero(okf["trial"].to_numpy() == best.number)[0])
            neigh = neighbourhood(okf, params, idx)
    test_best = next((t for t in tests if best is not None and t.number == best.number), None)
    eligible = sum(1 for r in ok if r.eligible)
    verdict = make_verdict(best, test_best, pbo, dsr, n_trials, neigh, objective=objective,
                           min_trades=min_trades, ok_trials=len(ok), eligible_trials=eligible)
    counts = {"trials": len(results), "ok": len(ok), "eligible": eligible,
              "invalid": sum(1 for r in results if r.status == "invalid")}
    return SweepAnalysis(frame=frame, best=best, top=top, tests=tests, pbo=pbo, dsr=dsr,
                         n_trials_counted=n_trials, importance=imp, heatmap=hm,
                         neighbourhood=neigh, verdict=verdict, counts=counts)


def test_frame(tests: list[TrialResult], keys: list[str]) -> pd.DataFrame:
    """The held-out test results as a table (``test.parquet``)."""
    return trials_frame(tests, keys).rename(columns=lambda c: c.replace("val_", "test_"))


def ledger_counts(path: Path | None, data_hash: str) -> tuple[int, float | None]:
    """Trials and Sharpe variance the project's ledger holds on this data."""
    from core.backtest.ledger import trial_summary

    s = trial_summary(path, data_hash=data_hash)
    return s.n_trials, s.sr_variance
