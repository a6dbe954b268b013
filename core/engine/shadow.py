"""A shadow model: predicts on the live bars without trading; judged by the real backtester.

The candidate model sees every bar the live model sees; its predictions are published as
``PredictionMade`` with ``shadow = true`` (journaled). Its hypothetical trades are not
simulated here — that would be a second fill engine — but by :func:`core.backtest.run_backtest`
over the session's bars and the shadow's signals, under the same profile, when the session
ends (:meth:`ShadowModel.report`). Switching to it stays a person's decision.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.config import Profile
from core.domain import Bar
from core.engine.signals import ModelSignal, prediction_event


class ShadowModel:
    """Runs a second model on the same bars and keeps what a backtest of it needs."""

    def __init__(self, signal: ModelSignal) -> None:
        self.signal = signal
        self.rows: list[tuple[int, float, float, float, float, float, int, float]] = []

    def on_bar(self, bar: Bar) -> dict[str, Any] | None:
        """Predict on ``bar``; returns the shadow PredictionMade event (None while warming)."""
        d, c = self.signal(bar)
        self.rows.append((bar.ts, bar.open, bar.high, bar.low, bar.close, float(bar.volume),
                          int(d), float(c)))
        ev = prediction_event(self.signal, bar)
        if ev is not None:
            ev["shadow"] = True
        return ev

    def report(self, profile: Profile) -> dict[str, Any]:
        """Hypothetical trades of the session under ``profile``, from the real backtester."""
        from core.backtest import run_backtest
        from core.strategy.signals import Signals

        if len(self.rows) < 2:
            return {"model": self.signal.name, "bars": len(self.rows), "trades": 0,
                    "net_pnl": 0.0}
        a = np.array(self.rows, dtype=np.float64)
        bars = pd.DataFrame({"timestamp": a[:, 0].astype(np.int64), "open": a[:, 1],
                             "high": a[:, 2], "low": a[:, 3], "close": a[:, 4],
                             "volume": a[:, 5]})
        sig = Signals(a[:, 6].astype(np.int8), a[:, 7], name=f"shadow {self.signal.name}")
        res = run_backtest(bars, sig, profile=profile, record_equity=False)
        return {"model": self.signal.name, "bars": len(bars), "trades": len(res.trades),
                "net_pnl": res.net_pnl, "denials": res.params.get("denials", {})}
