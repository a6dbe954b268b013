"""Aggregate fold results and say, in words, whether there is an edge after costs.

The verdict rests on **where trades happen**, not on an AUC over every bar (issue 11: an edge
on 1-2 % of the bars leaves the all-bar AUC at 0.50). "possible edge" needs all of: at least
two folds with ≥ 100 trades, a pooled expectancy after costs (the backtester's trades at the
confidence floor) whose 95 % interval is above zero, beating the random-direction baseline,
and most counted folds profitable. The directional AUC is still reported, as a secondary
figure. Beside the backtest, the traded subset held for the label horizon and the top
confidence decile (each with its coin-flip baseline on the same bars) are reported, so a
signal lost to the profile's exits is visible and named. The label and its wording come
from core.backtest.verdict.edge_verdict, the rule the backtest uses too: "no edge after costs"
whenever the pooled interval lies below zero, "too few trades" only when a small sample's
interval straddles zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.money import money
from core.training.runner import FoldResult
from core.training.trading import MIN_TRADES, denial_text


@dataclass
class Summary:
    """Pooled out-of-sample figures over the walk-forward folds (holdout separate)."""

    folds: int
    auc_mean: float
    auc_sd: float
    balanced_accuracy_mean: float
    log_loss_mean: float
    log_loss_prior_mean: float
    counted_folds: int
    trades: int
    expectancy: float
    expectancy_ci: tuple[float, float]
    baseline_expectancy: float
    profitable_folds: int
    verdict: str
    edge: bool
    caveats: list[str] = field(default_factory=list)
    holdout: dict[str, Any] | None = None
    #: Pooled over the walk-forward folds, held for the label horizon (before the profile's
    #: exits and risk rules): "traded" = at or above the confidence floor, "top_decile" = the
    #: most confident tenth of the UP/DOWN predictions; each with its coin-flip baseline.
    horizon: dict[str, Any] = field(default_factory=dict)
    min_confidence: float = math.nan  #: the confidence floor the folds traded at
    #: How the floor reads in sentences: "≥ 55% confidence", or the validation-chosen floors
    #: (core.training.floor) when each fold chose its own.
    floor_label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def _money(x: float) -> str:
    return money(x) if math.isfinite(x) else "n/a"


def _pooled(results: list[FoldResult]) -> tuple[int, float, float, float]:
    """Pooled (trades, mean, standard error, baseline mean) over trades of ``results``."""
    tr = [r.trading for r in results if r.trading is not None and r.trading.trades > 0]
    n = sum(t.trades for t in tr)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = sum(t.net_pnl for t in tr) / n
    # Pooled variance from each fold's mean and standard error.
    ss = 0.0
    for t in tr:
        var_i = (t.expectancy_se ** 2) * t.trades if math.isfinite(t.expectancy_se) else 0.0
        ss += var_i * max(t.trades - 1, 0) + t.trades * (t.expectancy - mean) ** 2
    se = math.sqrt(ss / max(n - 1, 1) / n)
    base = [t.baseline_expectancy * t.trades for t in tr if math.isfinite(t.baseline_expectancy)]
    return n, mean, se, (sum(base) / n if base else math.nan)


def summarize(results: list[FoldResult], *, min_confidence: float,
              n_trials: int = 1) -> Summary:
    """The pooled summary and the verdict in words.

    ``n_trials``: trials on this data in the ledger (core.backtest.ledger), this run included;
    the verdict widens its interval for them (core.backtest.verdict.edge_verdict).
    """
    wf = [r for r in results if not r.is_holdout]
    hold = [r for r in results if r.is_holdout]
    aucs = np.array([r.metrics.auc for r in wf if math.isfinite(r.metrics.auc)])
    auc_mean = float(aucs.mean()) if len(aucs) else math.nan
    auc_sd = float(aucs.std(ddof=1)) if len(aucs) > 1 else math.nan
    counted = [r for r in wf if r.trading is not None and r.trading.trades >= MIN_TRADES]
    n, mean, se, base = _pooled(counted)
    ci = (mean - 1.96 * se, mean + 1.96 * se) if n else (math.nan, math.nan)
    profitable = sum(1 for r in counted if r.trading.expectancy > 0)
    auc_txt = f"out-of-sample AUC {auc_mean:.2f}" + (f" ± {auc_sd:.2f}" if math.isfinite(auc_sd) else "")
    auc_txt += f" over {len(wf)} fold{'s' if len(wf) != 1 else ''}"
    floor_label = floor_phrase(wf, min_confidence)
    caveats: list[str] = []
    # One verdict rule for train and backtest (core.backtest.verdict.edge_verdict): the pooled
    # interval decides; folds too small to count still pool, so a clear loss reads as one.
    from core.backtest.bootstrap import Interval
    from core.backtest.verdict import edge_verdict

    pool = counted or [r for r in wf if r.trading is not None and r.trading.trades > 0]
    if not counted:
        n, mean, se, base = _pooled(pool)
        ci = (mean - 1.96 * se, mean + 1.96 * se) if n else (math.nan, math.nan)
    failures = []
    # The AUC is not a condition (issue 11): a rare edge leaves it at 0.50 over all bars.
    if len(counted) < 2:
        failures.append(f"fewer than 2 folds with ≥ {MIN_TRADES} trades at {floor_label}")
    elif profitable * 2 <= len(counted):
        failures.append(f"only {profitable} of {len(counted)} folds profitable")
    if math.isfinite(base) and mean <= base:
        failures.append("random entries with the same exits do as well")
    label, head = edge_verdict(n, Interval(mean, ci[0], ci[1], 0.95), failures=failures,
                               where=f" in {len(pool)} fold{'s' if len(pool) != 1 else ''}",
                               n_trials=n_trials)
    edge = label == "possible edge"
    verdict = f"{label}: {head}; {auc_txt}; random entries with the same exits: " \
              f"{_money(base)} per trade"
    if edge:
        caveats = ["walk-forward results only: confirm on the untouched holdout "
                   "(`scalpdesk backtest --model` on bars after the training span)",
                   "every configuration you tried counts: many tries make a lucky one likely",
                   "costs come from the profile; live slippage in fast markets is worse"]
    horizon = pooled_horizon(wf)
    skill = skill_clause(horizon)
    if skill:   # the label stays the shared rule's; this says what the AUC cannot see
        verdict += "; " + skill
    lost = exits_caveat(horizon, edge or (n > 0 and mean > 0))
    if lost:
        caveats.append(lost)
    why = no_trade_reason(results, min_confidence)
    if why and any(getattr(r, "floor_choice", None) is not None for r in wf) and \
            all(getattr(r, "floor_choice", None) is not None and r.floor >= 1.0 for r in wf):
        why = ("why no trades: on every fold's validation bars, no top share of the signals "
               "(1–20 %) paid after costs held for the label horizon, so no floor was set: "
               "there is nothing worth trading in these signals")
    if why:
        caveats.append(why)
    holdout = None
    if hold:
        h = hold[0]
        t = h.trading
        holdout = {"auc": h.metrics.auc, "balanced_accuracy": h.metrics.balanced_accuracy,
                   "trades": t.trades if t else 0,
                   "expectancy": t.expectancy if t else math.nan,
                   "refused": sum(t.denials.values()) if t else 0}
    def _mean(vals: list[float]) -> float:
        v = [x for x in vals if math.isfinite(x)]
        return float(np.mean(v)) if v else math.nan

    return Summary(
        folds=len(wf), auc_mean=auc_mean, auc_sd=auc_sd,
        balanced_accuracy_mean=_mean([r.metrics.balanced_accuracy for r in wf]),
        log_loss_mean=_mean([r.metrics.log_loss for r in wf]),
        log_loss_prior_mean=_mean([r.metrics.log_loss_prior for r in wf]),
        counted_folds=len(counted), trades=n, expectancy=mean, expectancy_ci=ci,
        baseline_expectancy=base, profitable_folds=profitable, verdict=verdict, edge=edge,
        caveats=caveats, holdout=holdout, horizon=horizon,
        min_confidence=float(min_confidence), floor_label=floor_label)


def floor_phrase(wf: list[FoldResult], min_confidence: float) -> str:
    """``"≥ 55% confidence"``, or ``"the validation-chosen floors (56–61%)"`` when the folds
    chose their floors on validation data (core.training.floor)."""
    if not any(getattr(r, "floor_choice", None) is not None for r in wf):
        return f"≥ {min_confidence:.0%} confidence"
    from core.training.floor import floor_text
    return "the " + floor_text([r.floor for r in wf])


def _pool_rows(rows: list[dict[str, float]]) -> dict[str, float] | None:
    """Bar-weighted pool of :func:`core.training.trading.horizon_row` rows."""
    rows = [r for r in rows if r and r.get("bars", 0) > 0]
    n = sum(int(r["bars"]) for r in rows)
    if n == 0:
        return None
    def w(key: str) -> float:
        return float(sum(r[key] * r["bars"] for r in rows) / n)
    return {"bars": n, "precision": w("precision"), "ticks": w("ticks"), "dollars": w("dollars"),
            "baseline": w("baseline"), "baseline_p5": w("baseline_p5"),
            "baseline_p95": w("baseline_p95"), "folds": len(rows)}


def pooled_horizon(wf: list[FoldResult]) -> dict[str, Any]:
    """The traded subset and the top confidence decile, pooled over walk-forward folds."""
    out: dict[str, Any] = {}
    traded = _pool_rows([r.traded for r in wf if r.traded])
    if traded:
        out["traded"] = traded
    top = _pool_rows([r.deciles[-1] for r in wf if r.deciles])
    if top:
        out["top_decile"] = top
    return out


def horizon_sentence(h: dict[str, Any], min_confidence: float,
                     floor_label: str | None = None) -> str | None:
    """One line on the signals held for the label horizon (None when there are none)."""
    parts = []
    for key, what in (("traded", f"at {floor_label or f'≥ {min_confidence:.0%} confidence'}"),
                      ("top_decile", "top confidence decile")):
        r = h.get(key)
        if r:
            parts.append(f"{what}: {r['bars']:,} bars, precision {r['precision']:.0%}, "
                         f"{r['ticks']:+.1f} ticks = {_money(r['dollars'])} per contract after "
                         f"costs (coin flips on the same bars: {_money(r['baseline'])}, 5–95 % "
                         f"{_money(r['baseline_p5'])} to {_money(r['baseline_p95'])})")
    if not parts:
        return None
    return "signals held for the label horizon (before exits and risk rules) — " + "; ".join(parts)


def beats_coin_flips(row: dict[str, float] | None) -> bool:
    """The signals at the floor show directional skill out of sample: at least MIN_TRADES bars,
    precision above 50 %, and their value held for the label horizon above the 95th percentile
    of coin-flip directions on the same bars (``scalpdesk bench research`` calls this "found")."""
    return bool(row) and row["bars"] >= MIN_TRADES and row["precision"] > 0.5 \
        and row["dollars"] > row["baseline_p95"]


def skill_clause(h: dict[str, Any]) -> str | None:
    """A verdict clause when the traded subset beats coin flips (None otherwise)."""
    r = h.get("traded")
    if not beats_coin_flips(r):
        return None
    pays = "and pay after costs" if r["dollars"] > 0 else "but do not pay after costs"
    return (f"the signals above the floor beat coin flips on the same bars out of sample {pays} "
            f"({r['bars']:,} bars, precision {r['precision']:.0%}, {r['ticks']:+.1f} ticks over "
            f"the label horizon = {_money(r['dollars'])} per contract; coin flips' 95th "
            f"percentile {_money(r['baseline_p95'])})")


def exits_caveat(h: dict[str, Any], edge: bool) -> str | None:
    """Say so when the signals pay at the label horizon but the backtest found no edge.

    ``edge``: the backtest's trades showed an edge or at least earned more than costs (then
    the exits are not what loses the signal's value, and nothing is said).
    """
    r = h.get("traded") or {}
    if edge or not r or r["bars"] < MIN_TRADES:
        return None
    if r["dollars"] > 0 and r["dollars"] > r["baseline_p95"]:
        return (f"the signals above the floor earn {_money(r['dollars'])} per contract held for "
                f"the label horizon ({r['bars']:,} bars, above the coin-flip 95th percentile "
                f"{_money(r['baseline_p95'])}), but not through the profile's exits and risk "
                "rules: match the stop, target and time stop to the label horizon")
    return None


def no_trade_reason(results: list[FoldResult], min_confidence: float) -> str | None:
    """Why no fold took a trade, in words with the fix (None when some fold traded).

    Three different causes need three different fixes: the model never put UP or DOWN on
    top (FLAT dominates the labels), its UP/DOWN confidence stayed under the floor, or the
    risk rules refused every entry.
    """
    tr = [r.trading for r in results if r.trading is not None]
    if not tr or any(t.trades for t in tr):
        return None
    signals = sum(t.signal_bars for t in tr)
    if signals:
        refused = sum(sum(t.denials.values()) for t in tr)
        return (f"why no trades: {signals:,} bars passed the {min_confidence:.0%} confidence floor, "
                f"but the profile's risk rules refused every entry ({refused:,} refusals, listed "
                "above): check the schedule and sizing of the profile")
    tops = [t.top_confidence for t in tr if math.isfinite(t.top_confidence)]
    if not tops:
        return ("why no trades: the model never ranked UP or DOWN above FLAT on any test bar "
                "(FLAT dominates the labels): use a longer --lookahead or a smaller --threshold "
                "so moves are common enough, or --label binary")
    best = max(tops)
    floor = max(0.34, math.floor(best * 100) / 100 - 0.01)
    return (f"why no trades: the model's UP/DOWN confidence never reached the "
            f"{min_confidence:.0%} floor (highest {best:.0%} on any test bar): try "
            f"--min-confidence {floor:.2f}, a longer --lookahead, or --label binary")


def holdout_sentence(s: Summary) -> str:
    """One line on the final holdout (scored once, never used for selection)."""
    if not s.holdout:
        return "no final holdout period was set aside"
    h = s.holdout
    trades = h["trades"]
    refused = h.get("refused", 0)
    exp = f", expectancy {_money(h['expectancy'])} per trade over {trades:,} trades" \
        if trades else (f", no trades (the risk rules refused {refused:,} entries)" if refused
                        else ", no trades above the confidence floor")
    note = "" if trades >= MIN_TRADES else f" (fewer than {MIN_TRADES} trades: not conclusive)"
    return (f"final holdout (never used for training or selection): AUC {h['auc']:.2f}, "
            f"balanced accuracy {h['balanced_accuracy']:.2f}{exp}{note}")


def denial_lines(results: list[FoldResult]) -> list[str]:
    """Per fold with refusals: ``"fold 1: 12 entries skipped: size rounds to zero"``."""
    out = []
    for r in results:
        if r.trading is not None and r.trading.denials:
            tag = "holdout" if r.is_holdout else f"fold {r.number}"
            out.append(f"{tag}: {denial_text(r.trading.denials)}")
    return out


def report_text(results: list[FoldResult], s: Summary) -> str:
    """Plain-text report: one line per fold, then the verdict (also saved as report.txt)."""
    lines = ["fold  rows(train/val/test)      AUC   bal.acc  logloss(prior)  trades  exp.$/trade"]
    for r in results:
        t = r.trading
        tag = "H" if r.is_holdout else str(r.number)
        trades = f"{t.trades:>6}" if t else "     -"
        exp = f"{t.expectancy:>+10.2f}" if t and t.trades else "         -"
        lines.append(f"{tag:>4}  {r.rows['train']:>7}/{r.rows['val']:>6}/{r.rows['test']:>6}  "
                     f"{r.metrics.auc:5.3f}  {r.metrics.balanced_accuracy:6.3f}   "
                     f"{r.metrics.log_loss:6.4f}({r.metrics.log_loss_prior:6.4f})  {trades}  {exp}")
    skipped = denial_lines(results)
    if skipped:
        lines += ["", "entries the risk rules refused (profile sizing and schedule):"]
        lines += ["  " + x for x in skipped]
    hz = horizon_sentence(s.horizon, s.min_confidence, s.floor_label) if s.horizon else None
    if hz:
        lines += ["", hz]
    lines += ["", "VERDICT: " + s.verdict, holdout_sentence(s)]
    lines += [f"caveat: {c}" for c in s.caveats]
    return "\n".join(lines)
