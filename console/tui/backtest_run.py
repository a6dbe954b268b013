"""The `b` key: a backtest of the model on recent data, on a worker thread.

The runner (a :data:`~console.tui.app.BacktestRunner`) is built by whoever opens the console
(the host knows the profile, the model and the data); it calls the same core backtest code as
`scalpdesk backtest` and reports progress through one callback. Failures reach the operator as
a toast and in the pane — never as a traceback over the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.tui.backtest_pane import BacktestPane, BacktestView
from core.money import money

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp


def start_backtest(app: ConsoleApp) -> None:
    """Start the app's backtest runner on a worker thread (one at a time)."""
    pane = app.query_one(BacktestPane)
    if app.backtest_runner is None:
        app.notify("no backtest here: open the console with a model "
                   "(`scalpdesk live --model NAME`, or `scalpdesk attach --model NAME`)",
                   severity="warning", timeout=6)
        return
    if pane.view.state == "running":
        app.notify("a backtest is already running", timeout=3)
        return
    runner = app.backtest_runner
    pane.show(BacktestView(state="running", title="backtest", step="starting"))

    def progress(step: str, frac: float) -> None:
        if not 0.0 <= frac <= 1.0:                 # a stage of unknown length (NaN)
            frac = pane.view.progress
        app.call_from_thread(pane.show, BacktestView(state="running", title=pane.view.title,
                                                     step=step, progress=frac))

    def work() -> None:
        try:
            view = runner(progress)
        except Exception as exc:  # noqa: BLE001 - one handler: a toast and the pane say why
            msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            hint = getattr(exc, "hint", None)
            app.call_from_thread(pane.show, BacktestView(state="failed", title="backtest",
                                                         error=msg))
            app.call_from_thread(app.notify, f"backtest failed: {msg}"
                                 + (f" — {hint}" if hint else ""), severity="error",
                                 timeout=8)
            return
        app.call_from_thread(pane.show, view)

    app.run_worker(work, thread=True, exclusive=True, group="backtest", name="backtest")


#: Trading days the `b` backtest takes from the end of the data ("recent data").
RECENT_DAYS = 10


def view_of(rep: Any, title: str) -> BacktestView:
    """A finished :class:`~core.backtest.workflow.BacktestReport` as the pane shows it."""
    s = rep.stats
    eq = rep.equity
    curve = [float(x) for x in eq["equity"].to_numpy()] if eq is not None and len(eq) else []
    if len(curve) > 400:                      # the pane is ~50 columns: keep the shape only
        step = len(curve) / 400
        curve = [curve[int(i * step)] for i in range(400)] + [curve[-1]]
    pf = s.profit_factor
    return BacktestView(
        state="done", title=title,
        metrics=[("trades", f"{s.trades:,}"), ("net P&L", money(s.net_pnl, signed=True)),
                 ("profit factor", "—" if pf != pf or pf == float("inf") else f"{pf:.2f}"),
                 ("win rate", "—" if s.win_rate != s.win_rate else f"{s.win_rate:.1%}"),
                 ("max drawdown", money(-abs(s.max_drawdown.depth)))],
        equity=curve, baseline_pct=rep.baseline_percentile,
        verdict=f"{rep.verdict.label}: {rep.verdict.headline}")


def runner_for(profile: Any, model: str | None, data: str | None = None,
               days: int = RECENT_DAYS) -> Callable[[Callable[[str, float], None]],
                                                    BacktestView] | None:
    """The `b` key's runner: the model on the last ``days`` trading days of ``data``.

    Args:
        profile: The engine's profile (costs and risk rules).
        model: The engine's model (None: no backtest — `b` says so).
        data: Bars (file, directory or catalog root; default: the profile's instrument in
            the catalog, e.g. ``MES``).
        days: Trading days taken from the end of the data.

    The run is the same :func:`core.backtest.workflow.run_backtest_request` as
    `scalpdesk backtest` (in-sample guard, baseline, verdict); the recent slice is written
    to a temporary file it reads.
    """
    if model is None:
        return None
    source = data or str(getattr(profile, "instrument", None) or "MES")

    def run(progress: Callable[[str, float], None]) -> BacktestView:
        import shutil
        import tempfile

        from core.backtest.workflow import BacktestRequest, run_backtest_request
        from core.backtest.workflow_inputs import load_bars
        from core.calendar import trading_day_of
        from core.ml.artifacts import model_bar_seconds

        progress("loading recent bars", 0.02)
        bars, _ = load_bars(source, None, model_bar=int(model_bar_seconds(model)),
                            model_name=model)
        from core.backtest.stats import to_ns

        tday = trading_day_of(to_ns(bars["timestamp"]))
        keep = sorted(set(tday.tolist()))[-days:]
        recent = bars[tday >= keep[0]].reset_index(drop=True) if keep else bars
        tmp = Path(tempfile.mkdtemp(prefix="scalpdesk-bt-"))
        try:
            path = tmp / "recent.parquet"
            recent.to_parquet(path)
            rep = run_backtest_request(BacktestRequest(data=str(path), profile=profile,
                                                       model=model, baseline_seeds=100),
                                       progress)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        name = Path(model).name
        return view_of(rep, f"{name} · last {len(keep)} trading days of {source}")

    return run
