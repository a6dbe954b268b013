"""The `b` key: a backtest of the model on recent data, on a worker thread.

The runner (a :data:`~console.tui.app.BacktestRunner`) is built by whoever opens the console
(the host knows the profile, the model and the data); it calls the same core backtest code as
`scalpdesk backtest` and reports progress through one callback. Failures reach the operator as
a toast and in the pane — never as a traceback over the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.tui.backtest_pane import BacktestPane, BacktestView

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
