"""The backtest report's charts (plotly figures on the basic bundle: scatter and bar only).

Times on the x axes are UTC (said in each title); spans that got no signals (e.g. the
model's own training data) are shaded and labelled, so a flat stretch of the equity curve
is never mistaken for a strategy that sat still by choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.backtest.stats import to_ns
from core.htmlpage import bars_histogram

if TYPE_CHECKING:  # pragma: no cover
    from core.backtest.report import ReportInputs

#: Points kept per curve: a 33 M-bar curve is decimated for the browser, extremes kept.
MAX_POINTS = 4_000
_SHADE = {"fillcolor": "#95a5a6", "opacity": 0.22, "line_width": 0}


def decimate(ts: np.ndarray, eq: np.ndarray, max_points: int = MAX_POINTS
             ) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most ~``max_points`` points, including each bucket's min and max."""
    if ts.size <= max_points:
        return ts, eq
    edges = np.linspace(0, ts.size, max_points // 2 + 1).astype(np.int64)
    keep = {0, ts.size - 1}
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            seg = eq[a:b]
            keep.update((a + int(seg.argmin()), a + int(seg.argmax())))
    idx = np.array(sorted(keep))
    return ts[idx], eq[idx]


def _utc(ns: Any) -> np.ndarray:
    """Epoch milliseconds (UTC) for a date axis: sent as a compact binary array, not as
    thousands of ISO strings (the x values of a 4,000-point curve shrink ~10x)."""
    return np.asarray(ns, dtype=np.int64) // 1_000_000


def _shade(fig: Any, spans: tuple[tuple[int, int, str], ...], **where: Any) -> None:
    for a, b, label in spans:
        fig.add_vrect(x0=_utc([a])[0], x1=_utc([b])[0], annotation_text=label,
                      annotation_position="top left", annotation_font_size=11, **_SHADE, **where)


def figures(inp: ReportInputs) -> list[tuple[str, Any]]:
    """``(div id, figure)`` for every chart the inputs allow."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figs: list[tuple[str, Any]] = []
    if not inp.equity.empty:
        ts, eq = decimate(to_ns(inp.equity["timestamp"]), inp.equity["equity"].to_numpy(float))
        x = _utc(ts)
        dd = eq - np.maximum.accumulate(eq)
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3],
                            vertical_spacing=0.05)
        fig.add_trace(go.Scatter(x=x, y=eq, name="equity", line={"width": 1}), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=dd, name="drawdown", fill="tozeroy",
                                 line={"width": 1, "color": "#c0392b"}), row=2, col=1)
        _shade(fig, inp.shaded, row="all", col=1)
        fig.update_xaxes(type="date")
        fig.update_layout(title="Equity and drawdown ($; time in UTC"
                          + ("; shaded: no signals" if inp.shaded else "") + ")",
                          height=480, showlegend=False)
        figs.append(("equity", fig))
    if inp.stitched_equity is not None and not inp.stitched_equity.empty:
        ts, eq = decimate(to_ns(inp.stitched_equity["timestamp"]),
                          inp.stitched_equity["equity"].to_numpy(float))
        fig = go.Figure(go.Scatter(x=_utc(ts), y=eq, name="stitched", line={"width": 1}))
        fig.update_xaxes(type="date")
        fig.update_layout(title="Walk-forward: stitched out-of-sample equity ($, each fold a "
                                "fresh account; time in UTC)", height=320)
        figs.append(("stitched", fig))
    if not inp.trades.empty:
        centres, counts, width = bars_histogram(inp.trades["net_pnl"].to_numpy(float), 60)
        fig = go.Figure(go.Bar(x=centres, y=counts, width=width, name="trades"))
        fig.update_layout(title="Trade net P&L distribution ($ per trade; count)", height=320,
                          bargap=0)
        figs.append(("distribution", fig))
    if inp.stats.pnl_by_hour:
        hours = sorted(inp.stats.pnl_by_hour)
        vals = [inp.stats.pnl_by_hour[h] for h in hours]
        fig = go.Figure(go.Bar(x=[f"{h:02d}:00" for h in hours], y=vals,
                               marker_color=["#27ae60" if v >= 0 else "#c0392b" for v in vals]))
        fig.update_layout(title=f"Net P&L by hour of entry ($; hours in {inp.timezone})",
                          height=320)
        figs.append(("by-hour", fig))
    if inp.baseline_pnls is not None and len(inp.baseline_pnls):
        centres, counts, width = bars_histogram(inp.baseline_pnls, 40)
        fig = go.Figure(go.Bar(x=centres, y=counts, width=width, name="random entries"))
        fig.add_vline(x=inp.stats.expectancy, line_color="#c0392b", line_width=3,
                      annotation_text="strategy")
        fig.update_layout(title="Random-entry baseline (identical exits and sizes, as many "
                                "trades executed): net P&L per trade ($)",
                          height=320, bargap=0)
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
