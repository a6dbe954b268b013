"""The training report (``scalpdesk train --report out.html``): one self-contained page.

Sections: the verdict in words (with the holdout line, caveats and notes), the walk-forward
fold table, the calibration curve (does 70 % confidence come true 70 % of the time?), the
expectancy by confidence decile (is higher confidence worth more after costs?) and the
feature importance of the saved model. Everything is out of sample: pooled over the
walk-forward test periods, the final holdout shown apart where it matters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.htmlpage import Page, esc, write_atomic
from core.money import money
from core.training.report import holdout_sentence

#: Features shown in the importance chart.
TOP_FEATURES = 25


def _f(x: float | None, fmt: str = "{:.3f}") -> str:
    return fmt.format(x) if x is not None and math.isfinite(x) else "–"


def _pooled(results: list[Any], key: str) -> np.ndarray:
    parts = [r.diagnostics[key] for r in results
             if not r.is_holdout and r.diagnostics is not None and key in r.diagnostics]
    return np.concatenate(parts) if parts else np.empty(0)


def calibration_bins(conf: np.ndarray, hit: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted confidence, observed hit rate and count per confidence bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    k = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = k == b
        if m.any():
            rows.append({"predicted": float(conf[m].mean()), "observed": float(hit[m].mean()),
                         "bars": int(m.sum())})
    return pd.DataFrame(rows, columns=["predicted", "observed", "bars"])


def decile_expectancy(conf: np.ndarray, move_ticks: np.ndarray, *, tick_value: float,
                      cost_per_contract: float) -> pd.DataFrame:
    """Per confidence decile of UP/DOWN bars: mean move in the predicted direction (ticks), its
    dollar value per contract after a round trip's costs (exit at the label horizon), precision
    and the coin-flip baseline on the same bars (:func:`core.training.trading.decile_table`)."""
    from core.training.trading import decile_table
    rows = decile_table(conf, move_ticks, tick_value=tick_value,
                        cost_per_contract=cost_per_contract)
    if not rows:
        return pd.DataFrame(columns=["from", "to", "bars", "ticks", "dollars"])
    return pd.DataFrame(rows)


def feature_importance(model: Any, names: list[str]) -> pd.Series | None:
    """Share of total gain per feature (LightGBM), largest first; None for other models."""
    booster = getattr(model, "booster", None)
    if booster is None or not names:
        return None
    gain = np.asarray(booster.feature_importance(importance_type="gain"), dtype=float)
    if gain.size == len(names) + 1:
        # Mirror orientation (core.ml.orientation) appends the reference direction as the
        # last column the booster sees.
        names = [*names, "orientation (last bar's direction)"]
    if gain.size != len(names) or gain.sum() <= 0:
        return None
    return pd.Series(gain / gain.sum(), index=names).sort_values(ascending=False)


def _fold_rows(results: list[Any]) -> list[list[str]]:
    rows = []
    for r in results:
        m, tr = r.metrics, r.trading
        rec = "/".join(_f(v, "{:.2f}") for v in m.recall.values())
        rows.append([
            "holdout" if r.is_holdout else str(r.number),
            pd.Timestamp(int(r.spans["test_start"]), tz="UTC").strftime("%Y-%m-%d %H:%M"),
            f"{r.rows['test']:,}", _f(m.auc), _f(m.balanced_accuracy), rec,
            f"{_f(m.log_loss)} / {_f(m.log_loss_prior)}",
            "–" if tr is None else f"{tr.trades:,}" + ("" if tr.counts else " *"),
            money(tr.expectancy if tr else None, signed=True),
            money(tr.baseline_expectancy if tr else None, signed=True)])
    return rows


def render_training_report(out: Any, *, title: str, source: str, model_kind: str,
                           min_confidence: float, tick_value: float,
                           cost_per_contract: float) -> str:
    """The whole training report as one HTML string.

    Args:
        out: A ``core.training.pipeline.TrainOutcome``.
        title: Page title.
        source: Where the bars came from.
        model_kind: lightgbm, ff, …
        min_confidence: The confidence floor the trading evaluation used.
        tick_value: Dollars per tick per contract (for the decile expectancy).
        cost_per_contract: Round-trip commission + slippage per contract, dollars.
    """
    import plotly.graph_objects as go

    s = out.summary
    page = Page(title)
    label = "possible edge" if s.edge else "no edge shown"
    page.raw(f"<div class='verdict'><h2>Verdict: {esc(label)}</h2><p>{esc(s.verdict)}</p>"
             f"<ul><li>{esc(holdout_sentence(s))}</li>"
             + "".join(f"<li><b>caveat:</b> {esc(c)}</li>" for c in s.caveats) + "</ul></div>")
    page.p(f"data: {source}; {len(out.feature_names)} features; model {model_kind}; "
           f"trades above {min_confidence:.0%} calibrated confidence; times in UTC", cls="note")
    for n in out.notes:
        page.p("note: " + n, cls="note")

    page.h2("Walk-forward folds (out of sample)")
    page.table(["fold", "test from (UTC)", "rows", "AUC", "bal.acc", "recall D/F/U",
                "log loss / prior", "trades", "$/trade", "random"], _fold_rows(out.results))
    page.p("AUC: directional (UP vs DOWN among bars that moved). $/trade: after costs from the "
           "backtester under the profile; random: same bars, coin-flip direction. * fewer than "
           "100 trades: the fold's trading figures do not count.", cls="note")

    page.h2("Calibration (walk-forward folds pooled)")
    cal = calibration_bins(_pooled(out.results, "confidence"),
                           _pooled(out.results, "hit").astype(float))
    if len(cal):
        fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect",
                                    line={"dash": "dot", "color": "#999"}),
                         go.Scatter(x=cal["predicted"], y=cal["observed"], mode="lines+markers",
                                    name="model", text=[f"{n:,} bars" for n in cal["bars"]])])
        fig.update_layout(title="Calibration: predicted top-class confidence vs how often it "
                                "was right", xaxis_title="predicted", yaxis_title="observed",
                          height=380)
        page.figure(fig, "calibration")
    else:
        page.p("no scored bars", cls="note")

    page.h2("Expectancy by confidence decile (UP/DOWN predictions, pooled)")
    dec = decile_expectancy(_pooled(out.results, "dir_confidence"),
                            _pooled(out.results, "dir_move_ticks"), tick_value=tick_value,
                            cost_per_contract=cost_per_contract)
    if len(dec):
        names = [f"{a:.2f}–{b:.2f}" for a, b in zip(dec["from"], dec["to"])]
        fig = go.Figure(go.Bar(x=names, y=dec["dollars"],
                               marker_color=["#27ae60" if v > 0 else "#c0392b" for v in dec["dollars"]],
                               text=[f"{t:+.2f} ticks" for t in dec["ticks"]]))
        fig.update_layout(title=f"$ per contract after {money(cost_per_contract)} round-trip "
                                f"costs, exit at the label horizon (floor {min_confidence:.0%})",
                          xaxis_title="confidence decile", height=380)
        page.figure(fig, "deciles")
        page.p("Each bar is one tenth of the UP/DOWN predictions, by confidence; the move is "
               "held to the label horizon, not the profile's bracket, so this says whether "
               "higher confidence is worth more, not what a backtest would earn.", cls="note")
    else:
        page.p("fewer than 10 UP/DOWN predictions: no deciles", cls="note")

    page.h2("Feature importance (saved model: the final fold's)")
    hold = [r for r in out.results if r.model is not None]
    imp = feature_importance(hold[-1].model, out.feature_names) if hold else None
    if imp is not None:
        top = imp.iloc[:TOP_FEATURES][::-1]
        fig = go.Figure(go.Bar(x=top.to_numpy(), y=list(top.index), orientation="h"))
        fig.update_layout(title=f"Share of total split gain, top {len(top)} of {len(imp)}",
                          height=max(320, 22 * len(top) + 120), xaxis_tickformat=".0%")
        page.figure(fig, "importance")
    else:
        page.p(f"not available for {model_kind} models (only tree models report split gain)",
               cls="note")
    return page.render()


def write_training_report(path: str | Path, out: Any, **kwargs: Any) -> Path:
    """Write :func:`render_training_report` atomically; return the path."""
    return write_atomic(path, render_training_report(out, **kwargs))
