"""A self-contained HTML backtest report (plotly, JavaScript inlined: opens offline).

Sections: verdict, key metrics, equity and drawdown, trade P&L distribution, P&L by hour of
day, the random-entry baseline distribution with the strategy marked, the same-bar ambiguity
band, the Combine pass estimate and the per-day table. The page records its own rendering
outcome in ``#render-status`` ("ok: N charts" or the first script error), which the test
reads back from headless Chromium.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.backtest.montecarlo import CombineOutcome
from core.backtest.stats import Stats, per_day_table, to_ns
from core.backtest.verdict import Verdict
from core.money import money

_MAX_EQUITY_POINTS = 20_000  # a 33 M-bar curve is decimated for the browser, extremes kept


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows; optional parts are left out when None."""

    title: str
    stats: Stats
    trades: pd.DataFrame
    equity: pd.DataFrame
    verdict: Verdict | None = None
    baseline_pnls: np.ndarray | None = None  #: net P&L of each random-entry run
    ambiguity: tuple[float, float, float] | None = None  #: pessimistic, optimistic, share
    combine: CombineOutcome | None = None
    stitched_equity: pd.DataFrame | None = None  #: walk-forward folds, out of sample, stitched
    notes: tuple[str, ...] = ()


def _decimate(ts: np.ndarray, eq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most ~_MAX_EQUITY_POINTS points, including each bucket's min and max."""
    if ts.size <= _MAX_EQUITY_POINTS:
        return ts, eq
    buckets = _MAX_EQUITY_POINTS // 2
    edges = np.linspace(0, ts.size, buckets + 1).astype(np.int64)
    keep = set()
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            seg = eq[a:b]
            keep.update((a + int(seg.argmin()), a + int(seg.argmax())))
    keep.update((0, ts.size - 1))
    idx = np.array(sorted(keep))
    return ts[idx], eq[idx]


def _figures(inp: ReportInputs) -> list[tuple[str, object]]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figs: list[tuple[str, object]] = []
    if not inp.equity.empty:
        ts = to_ns(inp.equity["timestamp"])
        eq = inp.equity["equity"].to_numpy(float)
        ts, eq = _decimate(ts, eq)
        x = pd.to_datetime(ts, utc=True)
        dd = eq - np.maximum.accumulate(eq)
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3],
                            vertical_spacing=0.05)
        fig.add_trace(go.Scatter(x=x, y=eq, name="equity", line={"width": 1}), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=dd, name="drawdown", fill="tozeroy",
                                 line={"width": 1, "color": "#c0392b"}), row=2, col=1)
        fig.update_layout(title="Equity and drawdown ($)", height=480, showlegend=False)
        figs.append(("equity", fig))
    if inp.stitched_equity is not None and not inp.stitched_equity.empty:
        ts, eq = _decimate(to_ns(inp.stitched_equity["timestamp"]),
                           inp.stitched_equity["equity"].to_numpy(float))
        fig = go.Figure(go.Scatter(x=pd.to_datetime(ts, utc=True), y=eq, name="stitched",
                                   line={"width": 1}))
        fig.update_layout(title="Walk-forward: stitched out-of-sample equity ($, each fold a "
                                "fresh account)", height=320)
        figs.append(("stitched", fig))
    if not inp.trades.empty:
        net = inp.trades["net_pnl"].to_numpy(float)
        fig = go.Figure(go.Histogram(x=net, nbinsx=60, name="net P&L per trade"))
        fig.update_layout(title="Trade net P&L distribution ($)", height=320)
        figs.append(("distribution", fig))
    if inp.stats.pnl_by_hour:
        hours = sorted(inp.stats.pnl_by_hour)
        vals = [inp.stats.pnl_by_hour[h] for h in hours]
        fig = go.Figure(go.Bar(x=[f"{h:02d}:00" for h in hours], y=vals,
                               marker_color=["#27ae60" if v >= 0 else "#c0392b" for v in vals]))
        fig.update_layout(title="Net P&L by hour of entry (exchange time)", height=320)
        figs.append(("by-hour", fig))
    if inp.baseline_pnls is not None and len(inp.baseline_pnls):
        fig = go.Figure(go.Histogram(x=np.asarray(inp.baseline_pnls, float), nbinsx=40,
                                     name="random entries"))
        fig.add_vline(x=inp.stats.net_pnl, line_color="#c0392b", line_width=3,
                      annotation_text="strategy")
        fig.update_layout(title="Random-entry baseline (identical exits and sizes): net P&L ($)",
                          height=320)
        figs.append(("baseline", fig))
    if inp.ambiguity is not None:
        pess, opt, share = inp.ambiguity
        fig = go.Figure(go.Bar(x=["pessimistic", "reported", "optimistic"],
                               y=[pess, inp.stats.net_pnl, opt],
                               marker_color=["#c0392b", "#34495e", "#27ae60"]))
        fig.update_layout(title=f"Ambiguity band: same-bar stop/target on {share:.1%} of trades "
                                "(net P&L, $)", height=300)
        figs.append(("ambiguity", fig))
    return figs


def _metric_rows(s: Stats) -> list[tuple[str, str]]:

    def num(x: float | None, fmt: str = "{:.2f}") -> str:
        return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)

    dd = s.max_drawdown
    return [
        ("trades", f"{s.trades:,}"), ("net P&L", money(s.net_pnl)), ("gross P&L", money(s.gross_pnl)),
        ("commission", money(s.commission)), ("slippage", money(s.slippage)),
        ("total return", num(s.total_return, "{:.2%}")),
        ("annualised return", num(s.annualised_return, "{:.2%}")),
        ("Sharpe (daily, ann.)", num(s.sharpe)), ("Sortino", num(s.sortino)), ("Calmar", num(s.calmar)),
        ("max drawdown", f"{money(dd.depth)} ({num(dd.depth_pct, '{:.2%}')})"),
        ("drawdown duration (days)", num(dd.duration_days, "{:.1f}")),
        ("win rate", num(s.win_rate, "{:.1%}")), ("profit factor", num(s.profit_factor)),
        ("expectancy / trade", money(s.expectancy)), ("average win", money(s.avg_win)),
        ("average loss", money(s.avg_loss)),
        # The largest "win" of a run without a winning trade is a loss: say there was none.
        ("largest win", money(s.largest_win) if s.largest_win and s.largest_win > 0
         else "– (no winning trade)"),
        ("largest loss", money(s.largest_loss) if s.largest_loss and s.largest_loss < 0
         else "– (no losing trade)"),
        ("longest win / loss streak", f"{s.max_win_streak} / {s.max_loss_streak}"),
        ("trades per day", num(s.trades_per_day, "{:.1f}")),
        ("winning days", num(s.winning_day_pct, "{:.1%}")), ("worst day", money(s.worst_day)),
        ("return per $ risked", num(s.return_per_dollar_risked, "{:.3f}")),
        ("exit reasons", ", ".join(f"{k} {v}" for k, v in sorted(s.exit_reasons.items())) or "–"),
    ]


_STATUS_SCRIPT = """
<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
</script>"""

_FINAL_SCRIPT = """
<script>
(function () {
  var el = document.getElementById('render-status');
  var plots = document.querySelectorAll('.js-plotly-plot').length;
  el.textContent = window.__errors.length ? ('error: ' + window.__errors[0])
                                          : ('ok: ' + plots + ' charts');
})();
</script>"""


def render_html(inp: ReportInputs) -> str:
    """Return the whole report as one HTML string."""
    import plotly.io as pio

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(inp.title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
             "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;"
             "text-align:right}td:first-child,th:first-child{text-align:left}"
             ".verdict{padding:1em;border-left:6px solid #34495e;background:#f4f6f7}</style>",
             _STATUS_SCRIPT, "</head><body>", f"<h1>{html.escape(inp.title)}</h1>"]
    if inp.verdict is not None:
        v = inp.verdict
        items = "".join(f"<li>{html.escape(r)}</li>" for r in v.reasons)
        warns = "".join(f"<li><b>warning:</b> {html.escape(w)}</li>" for w in v.warnings)
        parts.append(f"<div class='verdict'><h2>Verdict: {html.escape(v.label)}</h2>"
                     f"<p>{html.escape(v.headline)}</p><ul>{items}{warns}</ul></div>")
    parts.append("<h2>Metrics</h2><table>" + "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in _metric_rows(inp.stats)) + "</table>")
    if inp.combine is not None:
        c = inp.combine
        days = f"{c.median_days_to_pass:.0f}" if c.median_days_to_pass is not None else "–"
        parts.append(f"<h2>Topstep Combine (Monte Carlo, {c.paths:,} paths, {c.horizon_days} days, "
                     f"{c.block_days}-day blocks)</h2><p>pass {c.p_pass:.1%} · fail {c.p_fail:.1%} · "
                     f"still open {c.p_open:.1%} · median days to pass {days}"
                     + ("" if c.intraday_checked else " · MLL checked at day close only") + "</p>")
    include = True
    for div_id, fig in _figures(inp):
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=include, div_id=div_id))
        include = False  # plotly.js inlined once, so the file works offline
    table = per_day_table(inp.trades)
    if not table.empty:
        parts.append("<h2>Per day</h2>" + table.to_html(float_format=money,
                                                         classes="per-day", border=0))
    for note in inp.notes:
        parts.append(f"<p><i>{html.escape(note)}</i></p>")
    parts.append("<p id='render-status'>not rendered</p>")
    parts.append(_FINAL_SCRIPT + "</body></html>")
    return "\n".join(parts)


def write_html(path: str | Path, inp: ReportInputs) -> Path:
    """Write the report atomically (temp file + rename) and return its path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(render_html(inp), encoding="utf-8")
    os.replace(tmp, p)
    return p
