"""One snapshot per console pane, rendered from the control stand-in's fixed status.

Each pane is mounted alone in a small harness app and shown one fixed state (no clocks, no
socket), so the SVG baselines under tests/cli/__snapshots__/ change only when the rendering
does. Update them after a deliberate change with `pytest tests/cli/test_tui_panes.py
--snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from console.tui.backtest_pane import BacktestPane, BacktestView
from console.tui.panes import (AlertsPane, FeedsPane, ModelPane, PositionsPane, QuotesPane,
                               RiskPane, header_text)
from tests.unit.control_fixtures import FakeEngine

PRICES = [5000 + 0.25 * ((i * 7) % 13) - 0.5 * ((i * 3) % 5) for i in range(60)]
BACKTEST = BacktestView(
    state="done", title="backtest mes_lgbm · last 5 sessions · demo",
    metrics=[("trades", "41"), ("net P&L", "+$212.40"), ("profit factor", "1.21"),
             ("max drawdown", "−$96.00"), ("win rate", "53.7%")],
    equity=[0, 5, 3, 9, 14, 10, 18, 22, 19, 27, 31, 26, 35, 40, 38, 44],
    baseline_pct=78.0, verdict="weak edge after costs: the interval still includes zero")


STATUS: dict[str, Any] = asyncio.run(FakeEngine().status())   # computed once, outside any loop


def _status() -> dict[str, Any]:
    return dict(STATUS)


class OnePane(App[None]):
    """A harness: one pane, one fixed state."""

    CSS = ".pane { border: round $accent; padding: 0 1; height: 100%; }" \
          "#orders { height: 1fr; } #position-line { height: 2; }"

    def __init__(self, make: Callable[[], Widget], show: Callable[[Any], None]) -> None:
        super().__init__()
        self.make, self.show_it = make, show

    def compose(self) -> ComposeResult:
        yield self.make()

    def on_mount(self) -> None:
        self.show_it(self.query_one(".pane, Static"))


def _quotes(p: QuotesPane) -> None:
    p.show(_status()["quote"], PRICES)


CASES: dict[str, tuple[Callable[[], Widget], Callable[[Any], None]]] = {
    "quotes": (QuotesPane, lambda p: p.call_after_refresh(_quotes, p)),
    "model": (ModelPane, lambda p: p.show(_status())),
    "positions": (PositionsPane, lambda p: p.show(_status())),
    "risk": (RiskPane, lambda p: p.show(_status())),
    "feeds": (FeedsPane, lambda p: p.show(_status(), received=5120, coalesced=4870)),
    "alerts": (AlertsPane, lambda p: p.show(_status())),
    "backtest": (BacktestPane, lambda p: p.call_after_refresh(p.show, BACKTEST)),
    "header": (lambda: Static("", classes="pane"),
               lambda p: p.update(header_text(_status(), heartbeat_age=0.4, frozen=False,
                                              fps=15.0))),
    "header_frozen": (lambda: Static("", classes="pane"),
                      lambda p: p.update(header_text(_status(), heartbeat_age=12.0,
                                                     frozen=True, fps=15.0))),
}


@pytest.mark.parametrize("pane", list(CASES))
def test_pane_snapshot(pane: str, snap_compare: Any) -> None:
    make, show = CASES[pane]
    assert snap_compare(OnePane(make, show), terminal_size=(56, 16))
