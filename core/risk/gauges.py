"""How close the account is to each limit, as gauges for the operator (console, `ctl status`).

Each gauge reads the SAME floors the kernel enforces (core.risk.limits): a limit is breached
when equity falls to its floor, so ``used = reference − equity`` and ``limit = reference −
floor`` with the reference the limit is measured from (the day's starting balance, the day's
peak equity, the peak balance, the starting balance). Nothing here decides anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.risk import kernel as K
from core.risk.limits import account_dd_limit, daily_dd_limit, daily_loss_limit


def limit_gauges(p: np.ndarray, fs: np.ndarray, equity: float) -> list[dict[str, Any]]:
    """Every active limit as ``{name, limit, used, floor}`` in dollars (``used`` may exceed
    ``limit`` once breached; negative ``used`` means equity is above the reference).

    Args:
        p: The kernel's parameter vector.
        fs: The kernel's float state.
        equity: Balance plus open P&L now.
    """
    rows: list[tuple[str, float, float]] = [
        ("daily loss", float(fs[K.F_DAY_START_BAL]), float(daily_loss_limit(p, fs))),
        ("daily drawdown", float(fs[K.F_DAY_PEAK_EQ]), float(daily_dd_limit(p, fs))),
        ("account drawdown", float(fs[K.F_PEAK_BAL]), float(account_dd_limit(p, fs))),
        ("kill switch", float(p[K.P_START_BAL]), float(p[K.P_KILL])),
    ]
    if p[K.P_TOPSTEP_DLL] > 0:
        rows.append(("Topstep DLL", float(fs[K.F_DAY_START_BAL]), float(p[K.P_TOPSTEP_DLL])))
    if p[K.P_HAS_MLL] > 0:
        # The engine liquidates a buffer above the MLL: that buffer is part of the gauge.
        floor = float(fs[K.F_MLL_LEVEL] + p[K.P_MLL_BUFFER])
        ref = float(max(fs[K.F_EOD_HIGH], fs[K.F_PEAK_BAL], floor))
        rows.append(("MLL", ref, ref - floor))
    if p[K.P_MIN_BAL] > 0:
        rows.append(("min balance", float(p[K.P_START_BAL]),
                     float(p[K.P_START_BAL] - p[K.P_MIN_BAL])))
    out = []
    for name, ref, dist in rows:
        if not np.isfinite(dist) or dist <= 0:
            continue                        # a disabled limit (0) has no gauge
        out.append({"name": name, "limit": round(dist, 2), "used": round(ref - equity, 2),
                    "floor": round(ref - dist, 2)})
    return out
