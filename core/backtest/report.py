"""A self-contained HTML backtest report (plotly's basic bundle inlined once: opens offline).

Sections: verdict, key metrics (ratios caveated on small samples), equity and drawdown with
the spans that got no signals shaded, the walk-forward per-fold table and stitched equity,
trade P&L distribution, P&L by hour of day (zone named), the random-entry baseline, the
same-bar ambiguity band, the Topstep Combine estimate (or the reason it is absent) and the
per-day table. Money is formatted one way everywhere (``−$3.65``, :mod:`core.money`). The
page records its own rendering outcome in ``#render-status`` for the headless-browser test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.backtest.montecarlo import CombineOutcome
from core.backtest.report_charts import figures
from core.backtest.stats import Stats, per_day_table
from core.backtest.verdict import Verdict
from core.htmlpage import Page, esc, write_atomic
from core.money import money

#: Below these, Sharpe, Sortino, Calmar and annualised return say little: they are caveated.
RATIO_MIN_TRADES = 100
RATIO_MIN_DAYS = 20


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows; optional parts are left out when None."""

    title: str
    stats: Stats
    trades: pd.DataFrame
    equity: pd.DataFrame
    verdict: Verdict | None = None
    baseline_pnls: np.ndarray | None = None  #: net P&L per trade of each random-entry run
    ambiguity: tuple[float, float, float] | None = None  #: pessimistic, optimistic, share
    combine: CombineOutcome | None = None
    stitched_equity: pd.DataFrame | None = None  #: walk-forward folds, out of sample, stitched
    notes: tuple[str, ...] = ()
    #: (start ns, end ns, label) of spans that got no signals, e.g. the model's training data.
    shaded: tuple[tuple[int, int, str], ...] = ()
    #: Walk-forward folds: columns fold, start, end, trades, net_pnl, win_rate.
    folds: pd.DataFrame | None = None
    #: Why the Combine estimate is absent (shown when ``combine`` is None).
    combine_note: str | None = None
    #: Zone of the hour-of-day chart and the trading days.
    timezone: str = "America/New_York"
    #: Capital scaling (core.backtest.capital.capital_table): the table and its notes.
    capital: pd.DataFrame | None = None
    capital_notes: tuple[str, ...] = ()
    #: How trades group into days (core.daycut.DayRule; None = CME sessions).
    day_rule: Any = None


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def ratio_caveat(s: Stats) -> str | None:
    """Why the ratios mean little on this sample (None when the sample is large enough)."""
    if s.trades >= RATIO_MIN_TRADES and s.trading_days >= RATIO_MIN_DAYS:
        return None
    return (f"only {s.trades:,} trade{'s' if s.trades != 1 else ''} over {s.trading_days:,} "
            f"trading day{'s' if s.trading_days != 1 else ''}: Sharpe, Sortino, Calmar and the "
            f"annualised return need at least {RATIO_MIN_TRADES} trades and {RATIO_MIN_DAYS} "
            "days to mean anything")


def metric_rows(s: Stats) -> list[tuple[str, str]]:
    """(name, formatted value) of every metric; ratios marked ``*`` on a small sample."""
    star = " *" if ratio_caveat(s) else ""
    dd = s.max_drawdown
    return [
        ("trades", f"{s.trades:,}"), ("net P&L", money(s.net_pnl)), ("gross P&L", money(s.gross_pnl)),
        ("commission", money(s.commission)), ("slippage", money(s.slippage)),
        ("total return", _num(s.total_return, "{:.2%}")),
        ("annualised return" + star, _num(s.annualised_return, "{:.2%}")),
        ("Sharpe (daily, ann.)" + star, _num(s.sharpe)), ("Sortino" + star, _num(s.sortino)),
        ("Calmar" + star, _num(s.calmar)),
        ("max drawdown", f"{money(dd.depth)} ({_num(dd.depth_pct, '{:.2%}')})"),
        ("drawdown duration (days)", _num(dd.duration_days, "{:.1f}")),
        ("win rate", _num(s.win_rate, "{:.1%}")), ("profit factor", _num(s.profit_factor)),
        ("expectancy / trade", money(s.expectancy)), ("average win", money(s.avg_win)),
        ("average loss", money(s.avg_loss)),
        # The largest "win" of a run without a winning trade is a loss: say there was none.
        ("largest win", money(s.largest_win) if s.largest_win and s.largest_win > 0
         else "– (no winning trade)"),
        ("largest loss", money(s.largest_loss) if s.largest_loss and s.largest_loss < 0
         else "– (no losing trade)"),
        ("longest win / loss streak", f"{s.max_win_streak} / {s.max_loss_streak}"),
        ("trading days", f"{s.trading_days:,}"),
        ("trades per day", _num(s.trades_per_day, "{:.1f}")),
        ("winning days", _num(s.winning_day_pct, "{:.1%}")), ("worst day", money(s.worst_day)),
        ("return per $ risked", _num(s.return_per_dollar_risked, "{:.3f}")),
        ("exit reasons", ", ".join(f"{k} {v}" for k, v in sorted(s.exit_reasons.items())) or "–"),
    ]


def _verdict(page: Page, v: Verdict) -> None:
    items = "".join(f"<li>{esc(r)}</li>" for r in v.reasons)
    warns = "".join(f"<li><b>warning:</b> {esc(w)}</li>" for w in v.warnings)
    page.raw(f"<div class='verdict'><h2>Verdict: {esc(v.label)}</h2>"
             f"<p>{esc(v.headline)}</p><ul>{items}{warns}</ul></div>")


def _combine(page: Page, inp: ReportInputs) -> None:
    page.h2("Topstep Combine estimate")
    c = inp.combine
    if c is None:
        page.p("not shown: " + (inp.combine_note or "no estimate was computed"), cls="note")
        return
    days = f"{c.median_days_to_pass:.0f}" if c.median_days_to_pass is not None else "–"
    page.p(f"Monte Carlo, {c.paths:,} block-bootstrapped paths of {c.horizon_days} days "
           f"({c.block_days}-day blocks): pass {c.p_pass:.1%} · fail {c.p_fail:.1%} · still "
           f"open {c.p_open:.1%} · median days to pass {days}"
           + ("" if c.intraday_checked else " · MLL checked at each day's close only"))


def _folds(page: Page, folds: pd.DataFrame) -> None:
    page.h2("Walk-forward folds (each a fresh account; dates in UTC)")
    rows = [[r.fold, r.start, r.end, f"{int(r.trades):,}", money(r.net_pnl),
             _num(r.win_rate, "{:.1%}")] for r in folds.itertuples()]
    page.table(["fold", "from", "to", "trades", "net P&L", "win rate"], rows)


def render_html(inp: ReportInputs) -> str:
    """Return the whole report as one HTML string."""
    page = Page(inp.title)
    if inp.verdict is not None:
        _verdict(page, inp.verdict)
    page.p(f"Time zones: charts, spans and fold dates in UTC; trading days, the end-of-day "
           f"schedule and hours of entry in {inp.timezone}.", cls="note")
    page.h2("Metrics")
    page.table(None, [list(r) for r in metric_rows(inp.stats)])
    caveat = ratio_caveat(inp.stats)
    if caveat:
        page.p("* " + caveat, cls="caveat")
    for span in inp.shaded:
        first, last = (pd.Timestamp(int(x), tz="UTC").strftime("%Y-%m-%d %H:%M") for x in span[:2])
        page.p(f"shaded {first} → {last} UTC: {span[2]}", cls="note")
    _combine(page, inp)
    charts = figures(inp)
    for div_id, fig in charts[:1]:
        page.figure(fig, div_id)
    if inp.folds is not None and len(inp.folds):
        _folds(page, inp.folds)
    if inp.capital is not None and len(inp.capital):
        from core.backtest.capital import display_table

        page.h2("Capital scaling: the same signals at each starting capital")
        page.table(*display_table(inp.capital))
        for note in inp.capital_notes:
            page.p(note, cls="note")
    for div_id, fig in charts[1:]:
        page.figure(fig, div_id)
    table = per_day_table(inp.trades, inp.day_rule)
    if not table.empty:
        page.h2(f"Per trading day (sessions in {inp.timezone}; money after costs)")
        page.raw(table.to_html(float_format=money, classes="per-day", border=0))
    for note in inp.notes:
        page.p(note, cls="note")
    return page.render()


def write_html(path: str | Path, inp: ReportInputs) -> Path:
    """Write the report atomically (temp file + rename) and return its path."""
    return write_atomic(path, render_html(inp))
