"""The sweep's self-contained HTML report (plotly inlined once: opens offline).

Validation and the held-out test are kept apart on the page: the selection happens on the
validation folds (the trial chart, the stability heatmap, CSCV), and the held-out test is a
separate table and chart of the best few, scored once after the selection. Like the
backtest report, the page records its rendering outcome in ``#render-status``.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from core.sweep.analysis import SweepAnalysis
from core.sweep.context import SweepSettings
from core.sweep.space import Space

_STATUS = """<script>window.__errors=[];window.addEventListener('error',function(e){
window.__errors.push(String(e.message));});</script>"""
_FINAL = """<script>(function(){var el=document.getElementById('render-status');
var n=document.querySelectorAll('.js-plotly-plot').length;
el.textContent=window.__errors.length?('error: '+window.__errors[0]):('ok: '+n+' charts');})();
</script>"""


def _f(x: Any, fmt: str = "{:,.2f}") -> str:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return fmt.format(x) if math.isfinite(float(x)) else "–"
    return html.escape(str(x))


def _table(head: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _figures(a: SweepAnalysis) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go

    figs: list[tuple[str, Any]] = []
    ok = a.frame[a.frame["status"] == "ok"] if len(a.frame) else a.frame
    if len(ok):
        el = ok["eligible"].to_numpy(bool)
        y = ok["objective"].to_numpy(float)
        x = ok["trial"].to_numpy()
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=x[el], y=y[el], mode="markers", name="eligible"))
        fig.add_trace(go.Scatter(x=x[~el], y=y[~el], mode="markers", name="too few trades",
                                 marker={"color": "#aaa"}))
        run = np.maximum.accumulate(np.where(el, y, -np.inf))
        fig.add_trace(go.Scatter(x=x, y=np.where(np.isfinite(run), run, np.nan), mode="lines",
                                 name="best so far", line={"shape": "hv"}))
        fig.update_layout(title="Validation objective by trial (the selection happens here)",
                          height=340, xaxis_title="trial", yaxis_title="objective")
        figs.append(("trials", fig))
    if a.top:
        test_of = {t.number: t for t in a.tests}
        names = [f"#{r.number}" for r in a.top]
        fig = go.Figure()
        fig.add_trace(go.Bar(x=names, y=[r.metrics["sharpe"] for r in a.top], name="validation"))
        fig.add_trace(go.Bar(x=names, y=[test_of[r.number].metrics.get("sharpe", np.nan)
                                         if r.number in test_of and test_of[r.number].status == "ok"
                                         else np.nan for r in a.top], name="held-out test"))
        fig.update_layout(title="Sharpe per day: validation vs the held-out test (best trials)",
                          barmode="group", height=320)
        figs.append(("test", fig))
    if a.pbo is not None and a.pbo.logits.size:
        fig = go.Figure(go.Histogram(x=a.pbo.logits, nbinsx=40, name="logit"))
        fig.add_vline(x=0, line_color="#c0392b", line_width=2)
        fig.update_layout(title=f"CSCV: rank logit of the in-sample best, out of sample "
                                f"(PBO = share ≤ 0 = {a.pbo.pbo:.2f})", height=300)
        figs.append(("pbo", fig))
        fig = go.Figure(go.Scattergl(x=a.pbo.is_sharpe, y=a.pbo.oos_sharpe, mode="markers",
                                     marker={"size": 3, "opacity": 0.4}))
        fig.update_layout(title="CSCV: in-sample vs out-of-sample Sharpe of the selected trial",
                          xaxis_title="in sample", yaxis_title="out of sample", height=320)
        figs.append(("degradation", fig))
    if a.heatmap is not None:
        h = a.heatmap
        fig = go.Figure(go.Heatmap(z=np.where(np.isfinite(h.mean), h.mean, None).tolist(),
                                   x=h.x_labels, y=h.y_labels, colorscale="RdYlGn",
                                   zmid=0, text=h.count.tolist(),
                                   hovertemplate="%{x} / %{y}: %{z:.3f} (%{text} trials)"))
        fig.update_layout(title=f"Parameter stability: mean objective by {h.x} × {h.y}",
                          xaxis_title=h.x, yaxis_title=h.y, height=420)
        figs.append(("heatmap", fig))
    if a.importance:
        keys = sorted(a.importance, key=lambda k: -a.importance[k])
        fig = go.Figure(go.Bar(x=keys, y=[a.importance[k] for k in keys]))
        fig.update_layout(title="Share of the objective's variance each parameter explains (η²)",
                          height=300)
        figs.append(("importance", fig))
    return figs


def render_report(a: SweepAnalysis, space: Space, st: SweepSettings, *, title: str,
                  layout: dict[str, Any], notes: list[str] | None = None) -> str:
    """The whole report as one HTML string."""
    import plotly.io as pio

    v = a.verdict
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;"
             "border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child"
             "{text-align:left}.verdict{padding:1em;border-left:6px solid #34495e;"
             "background:#f4f6f7}</style>", _STATUS, "</head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<div class='verdict'><h2>Verdict: {html.escape(v.label)}</h2>"
             f"<p>{html.escape(v.headline)}</p><ul>"
             + "".join(f"<li>{html.escape(r)}</li>" for r in v.reasons)
             + "".join(f"<li><b>warning:</b> {html.escape(w)}</li>" for w in v.warnings)
             + "</ul></div>"]
    c = a.counts
    parts.append(f"<p>{c.get('trials', 0):,} trials ({c.get('ok', 0):,} completed, "
                 f"{c.get('eligible', 0):,} with ≥ {st.min_trades} validation trades, "
                 f"{c.get('invalid', 0):,} refused as invalid combinations) · method {st.method} · "
                 f"objective {st.objective} · signals {html.escape(st.source)} · seed {st.seed}"
                 f" · deflated over {a.n_trials_counted:,} trials on this data</p>")
    if a.best is not None:
        parts.append("<h2>Best parameters (chosen on validation only)</h2>" + _table(
            ["parameter", "value"], [[html.escape(k), _f(val, "{:g}")]
                                     for k, val in a.best.params.items()]))
    test_of = {t.number: t for t in a.tests}
    rows = []
    for r in a.top:
        t = test_of.get(r.number)
        tm = t.metrics if t is not None and t.status == "ok" else {}
        rows.append([f"#{r.number}", _f(r.objective, "{:.3f}"), _f(r.metrics["trades"], "{:,}"),
                     _f(r.metrics["net_pnl"]), _f(r.metrics["sharpe"], "{:.3f}"),
                     _f(tm.get("trades", math.nan), "{:,}"), _f(tm.get("net_pnl", math.nan)),
                     _f(tm.get("sharpe", math.nan), "{:.3f}")])
    if rows:
        parts.append("<h2>Validation and the held-out test, kept apart</h2><p>The held-out "
                     "test was never used to choose anything: it was scored once, for these "
                     "best trials by validation, after the sweep.</p>" + _table(
                         ["trial", "objective", "val trades", "val net $", "val Sharpe/day",
                          "test trades", "test net $", "test Sharpe/day"], rows))
    if a.pbo is not None and math.isfinite(a.pbo.pbo):
        p = a.pbo
        parts.append("<h2>Overfitting statistics</h2>" + _table(["statistic", "value"], [
            ["probability of backtest overfitting (CSCV)", _f(p.pbo, "{:.3f}")],
            ["CSCV blocks / splits", f"{p.n_blocks} / {p.n_splits:,}"],
            ["P(selected trial loses out of sample)", _f(p.prob_oos_loss, "{:.3f}")],
            ["OOS-on-IS slope (degradation)", _f(p.slope, "{:.3f}")],
            ["deflated Sharpe of the best", _f(a.dsr, "{:.3f}")],
            ["trials counted for the deflation", f"{a.n_trials_counted:,}"]]))
    include = True
    for div_id, fig in _figures(a):
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=include, div_id=div_id))
        include = False
    folds = layout.get("validation", [])
    parts.append("<h2>Time layout</h2>" + _table(
        ["period", "bars", "from (UTC)", "to (UTC)"],
        [[f"validation fold {f['fold'] + 1}", f"{f['bars']:,}", f["from"], f["to"]] for f in folds]
        + [["held-out test", f"{layout['test']['bars']:,}", layout["test"]["from"],
            layout["test"]["to"]]]))
    parts.append("<h2>Space</h2>" + _table(["parameter", "kind", "range / values"], [
        [html.escape(p.key), p.kind, html.escape(", ".join(map(str, p.values)) if p.values else
                                                 f"{p.low} … {p.high}" + (f" step {p.step}" if p.step else "")
                                                 + (" (log)" if p.log else ""))]
        for p in space.params]))
    for note in notes or []:
        parts.append(f"<p><i>note: {html.escape(note)}</i></p>")
    parts.append("<p id='render-status'>not rendered</p>" + _FINAL + "</body></html>")
    return "\n".join(parts)


def write_report(path: str | Path, a: SweepAnalysis, space: Space, st: SweepSettings, *,
                 title: str, layout: dict[str, Any], notes: list[str] | None = None) -> Path:
    """Write the report atomically (temp file + rename); returns its path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(render_report(a, space, st, title=title, layout=layout, notes=notes),
                   encoding="utf-8")
    os.replace(tmp, p)
    return p
