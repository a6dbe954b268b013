"""The honest end of a backtest: stats, trial ledger, deflated Sharpe, verdict, Combine
estimate, walk-forward folds and the HTML report (moved from console/cli/backtest_honesty.py;
headless: output goes to a core.backtest.workflow_io.Output)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.backtest.workflow_io import Output, Table
from core.money import money

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.backtest.stats import Stats
    from core.backtest.verdict import Verdict


@dataclass(frozen=True)
class Honesty:
    """What the honest end computed (the report keeps it for callers such as the console).

    Attributes:
        stats: The run's statistics.
        verdict: The verdict printed.
        n_trials: Trials on the same data in the ledger, this run included.
        deflated_sharpe: The deflated Sharpe probability (None with under 3 trading days).
        report_path: The HTML report written, if any.
    """

    stats: Stats
    verdict: Verdict
    n_trials: int
    deflated_sharpe: float | None
    report_path: Path | None


def record_trial(res: Any, profile: Any, stats: Any, data_hash: str, day_rule: Any = None
                 ) -> Any:
    """Append this run to the trial ledger and return the ledger's summary for the DSR."""
    import math

    from core.backtest.ledger import append_trial, trial_summary
    from core.backtest.stats import daily_pnl

    daily = daily_pnl(res.trades, day_rule).to_numpy(float)
    sr = float(daily.mean() / daily.std(ddof=1)) if daily.size > 2 and daily.std(ddof=1) > 0 \
        else math.nan
    append_trial({"kind": "backtest", "data_hash": data_hash, "signals": res.params.get("signals"),
                  "profile": profile.name, "trades": stats.trades, "net_pnl": stats.net_pnl,
                  "sharpe_per_period": sr if math.isfinite(sr) else None})
    return trial_summary(data_hash=data_hash), daily


def honesty(res: Any, profile: Any, baseline: Any, report: Path | None, title: str, out: Output,
            data_hash: str = "", in_sample: bool = False, stitched: Any = None,
            folds: pd.DataFrame | None = None,
            shaded: tuple[tuple[int, int, str], ...] = (), extra_notes: tuple[str, ...] = (),
            capital: Any = None) -> Honesty:
    """Stats, ledger, deflated Sharpe, verdict, Combine estimate and the HTML report.

    ``capital``: a core.backtest.capital.CapitalTable for the report (``--capital``).
    """
    from core.backtest.bootstrap import bootstrap_expectancy, bootstrap_profit_factor
    from core.backtest.dsr import deflated_sharpe
    from core.backtest.engine import denial_lines
    from core.backtest.stats import compute_stats
    from core.backtest.verdict import make_verdict
    from core.daycut import DayRule

    # 24/7 markets: days (limits, Sharpe, per-day table) from the profile's daily cut.
    rule = DayRule.of(profile) if profile.schedule.sessions == "continuous" else None
    stats = compute_stats(res.trades, res.equity, starting_balance=profile.risk.starting_balance,
                          day_rule=rule)
    net = res.trades["net_pnl"].to_numpy(float)
    exp_ci = bootstrap_expectancy(net)
    pf_ci = bootstrap_profit_factor(net) if len(net) else None
    amb = (res.ambiguity.pessimistic_pnl, res.ambiguity.optimistic_pnl,
           res.ambiguity.share_affected)
    trials, daily = record_trial(res, profile, stats, data_hash, rule)
    dsr = deflated_sharpe(daily, n_trials=trials.n_trials, sr_variance=trials.sr_variance) \
        if daily.size > 2 else None
    verdict = make_verdict(stats, exp_ci, pf_ci=pf_ci, ambiguity=amb,
                           baseline_percentile=baseline.percentile if baseline else None,
                           deflated_sharpe=dsr, n_trials=trials.n_trials)
    if in_sample:
        from dataclasses import replace

        verdict = replace(verdict, label="in-sample: not evidence",
                          warnings=verdict.warnings + ("these bars trained the model; only an "
                                                       "out-of-sample backtest can show an edge",))
    out.say(verdict.text())
    from core.backtest.ledger import trials_line

    out.say(trials_line(data_hash), style="dim")
    combine = None
    top = profile.topstep
    combine_note = combine_absent(profile, daily.size, in_sample)
    if combine_note is None:  # an in-sample pass rate would be pure fiction
        from core.backtest.montecarlo import CombineRules, combine_pass_probability

        combine = combine_pass_probability(daily, CombineRules(
            starting_balance=float(top.account_size), profit_target=float(top.profit_target),
            max_loss_limit=float(top.max_loss_limit), daily_loss_limit=top.daily_loss_limit,
            consistency_pct=top.consistency_pct), seed=0)
        days = f"{combine.median_days_to_pass:.0f}" if combine.median_days_to_pass else "–"
        out.say(f"Topstep Combine (Monte Carlo, {combine.paths:,} block-bootstrapped paths of "
                f"{combine.horizon_days} days): pass {combine.p_pass:.1%}, fail "
                f"{combine.p_fail:.1%}, still open {combine.p_open:.1%}; median days to pass "
                f"{days} (MLL checked at each day's close only)")
    path = None
    if report is not None:
        from core.backtest.report import ReportInputs, write_html

        path = write_html(report, ReportInputs(
            title=title, stats=stats, trades=res.trades, equity=res.equity, verdict=verdict,
            baseline_pnls=baseline.pnls if baseline else None, ambiguity=amb, combine=combine,
            stitched_equity=stitched, folds=folds, shaded=shaded, combine_note=combine_note,
            timezone=profile.schedule.timezone, day_rule=rule,
            capital=None if capital is None else capital.frame,
            capital_notes=() if capital is None else capital.notes,
            notes=(*extra_notes, f"profile {profile.name}", f"signals {res.params['signals']}",
                   *denial_lines(res.params.get("denials", {})),
                   *res.params.get("notes", []))))
        out.say(f"report written: {path}")
    return Honesty(stats=stats, verdict=verdict, n_trials=trials.n_trials, deflated_sharpe=dsr,
                   report_path=path)


def combine_absent(profile: Any, days: int, in_sample: bool) -> str | None:
    """Why there is no Combine estimate for this run (None when there is one)."""
    top = profile.topstep
    if top is None or top.program != "combine":
        return (f"profile {profile.name} is not a Topstep Combine profile (e.g. "
                "--profile topstep_50k_combine)")
    if not top.profit_target:
        return f"profile {profile.name} sets no topstep.profit_target"
    if in_sample:
        return "the run is in-sample (--in-sample): a pass rate on training data is fiction"
    if days < 5:
        return (f"only {days} trading day{'s' if days != 1 else ''} with trades; the estimate "
                "resamples days and needs at least 5")
    return None


def walk_forward(bars: pd.DataFrame, sig: Any, prof: Any, folds: int, out: Output
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Consecutive time folds, each a fresh account: per-fold table + stitched net P&L.

    Returns:
        The stitched out-of-sample equity curve (each fold's P&L path appended to the
        previous folds' total, from the profile's starting balance) and one row per fold
        (fold, start, end, trades, net_pnl, win_rate) for the HTML report.
    """
    import numpy as np
    import pandas as pd

    from core.backtest import Signals, run_backtest

    n = len(bars)
    edges = np.linspace(0, n, folds + 1).astype(int)
    stitched = 0.0
    curves: list[pd.DataFrame] = []
    rows: list[dict[str, Any]] = []
    cells: list[tuple[str, ...]] = []
    for k in range(folds):
        a, b = int(edges[k]), int(edges[k + 1])
        if b <= a:
            continue
        part = bars.iloc[a:b].reset_index(drop=True)
        s = Signals(sig.direction[a:b], sig.confidence[a:b],
                    None if sig.predicted_class is None else sig.predicted_class[a:b],
                    None if sig.atr is None else sig.atr[a:b], sig.name)
        r = run_backtest(part, s, profile=prof)
        if len(r.equity):
            curves.append(pd.DataFrame({
                "timestamp": r.equity["timestamp"].to_numpy(),
                "equity": r.equity["equity"].to_numpy(float) + stitched}))
        stitched += r.net_pnl
        t = r.trades
        row = {"fold": str(k + 1),
               "start": str(pd.Timestamp(int(part["timestamp"].iloc[0]), tz="UTC").date()),
               "end": str(pd.Timestamp(int(part["timestamp"].iloc[-1]), tz="UTC").date()),
               "trades": len(t), "net_pnl": float(r.net_pnl),
               "win_rate": float((t["net_pnl"] > 0).mean()) if len(t) else float("nan")}
        rows.append(row)
        cells.append((row["fold"], row["start"], row["end"], f"{len(t):,}", money(r.net_pnl),
                      f"{row['win_rate']:.1%}" if len(t) else "-"))
    out.add(Table(f"walk-forward: {folds} folds, each a fresh account (UTC dates)",
                  ("fold", "from", "to", "trades", "net P&L", "win rate"), tuple(cells)))
    out.say(f"stitched out-of-sample net P&L: {money(stitched)}")
    table = pd.DataFrame(rows, columns=["fold", "start", "end", "trades", "net_pnl", "win_rate"])
    if not curves:
        return pd.DataFrame({"timestamp": np.empty(0, np.int64), "equity": np.empty(0)}), table
    return pd.concat(curves, ignore_index=True), table
