"""The backtest pane: metrics, equity curve, baseline percentile and the verdict in words.

The pane renders a plain :class:`BacktestView`; who produces it (the `b` key's worker calling
the same core backtest workflow as `scalpdesk backtest`) lives in console/tui/backtest_run.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text

from console.tui.chart import render_chart
from console.tui.panes import TextPane


@dataclass
class BacktestView:
    """What the backtest pane shows."""

    state: str = "idle"                       #: idle | running | done | failed
    title: str = ""
    progress: float = 0.0                     #: 0..1 while running
    step: str = ""                            #: what the worker is doing
    metrics: list[tuple[str, str]] = field(default_factory=list)
    equity: Sequence[float] = ()
    baseline_pct: float | None = None         #: strategy's percentile among random entries
    verdict: str = ""
    error: str = ""


class BacktestPane(TextPane):
    """Renders a :class:`BacktestView`."""

    def __init__(self) -> None:
        super().__init__(id="backtest", title="backtest (b)")
        self.view = BacktestView()

    def show(self, view: BacktestView | None = None) -> None:
        """Render ``view`` (or the last one, e.g. after a resize)."""
        if view is not None:
            self.view = view
        v = self.view
        t = Text()
        if v.state == "idle":
            t.append("press b to backtest the model on recent data\n"
                     "(the same code as `scalpdesk backtest`)", style="dim")
            self.set_text(t)
            return
        if v.title:
            t.append(v.title + "\n", style="bold")
        if v.state == "running":
            width = 20
            done = round(v.progress * width)
            t.append(f"{'█' * done}{'░' * (width - done)} {v.progress:.0%} {v.step}\n")
        if v.state == "failed":
            t.append(f"failed: {v.error}\n", style="bold red")
        for k, val in v.metrics:
            t.append(f"{k:<14} {val}\n")
        if v.baseline_pct is not None:
            t.append(f"{'vs random':<14} beats {v.baseline_pct:.0f}% of random entries\n")
        if v.equity:
            width = max((self.size.width or 40) - 4, 10)
            t.append("\n".join(render_chart(list(v.equity), width, 3)) + "\n", style="cyan")
        if v.verdict:
            t.append(v.verdict, style="bold")
        self.set_text(t)
