"""THE risk rule kernel: compiled functions over plain arrays (one copy for backtest and live).

Everything here is ``numba.njit(cache=True)`` over scalars and numpy arrays so the backtest
loop (core/backtest/loop.py) is compiled end to end and the live engine calls the *same*
compiled functions once per event. There are no objects: the rules read a parameter vector
``p`` (built once from a Profile by core/risk/params.py) plus three small tables, and mutate
a state pair ``fs`` (float64) / ``ist`` (int64).

This module is the one namespace callers use (``from core.risk import kernel as K``); the
rules live by responsibility in:

* :mod:`core.risk.layout` — slot names of every array, reasons, modes, phases, intents;
* :mod:`core.risk.limits` — day roll, every floor (each checked on its own), trade booking,
  the synthetic risk stop, open P&L, the schedule phase, the state machine and operator intents;
* :mod:`core.risk.sizing` — breaker flags, sizing by tier × confidence, the entry check;
* :mod:`core.risk.breakers` — the per-bar circuit-breaker input step (ATR, volume averages);
* :mod:`core.risk.events` — the per-bar risk-event detection step.
"""

from __future__ import annotations

from core.risk.layout import *  # noqa: F403 - the kernel's public slot names
from core.risk.layout import JIT as _JIT  # noqa: F401
from core.risk.limits import (  # noqa: F401
    HALT_MASK, account_dd_limit, apply_breach, apply_intent, breached, daily_dd_limit,
    daily_loss_limit, floor_price, halt_reason, is_halt_reason,
    mark, mode_of, new_state, on_day_start, on_trade_closed, open_pnl_net, record_breaches,
    risk_floor, schedule_phase, spread_update,
)
from core.risk.sizing import (  # noqa: F401
    breaker_bits, check_entry, contract_cap, max_risk_per_trade, notional_cap, position_size,
    tier_index,
)


def consistency_ratio(p, fs) -> float:  # noqa: ANN001 - arrays
    """Best day ÷ total profit (Topstep consistency); today's running profit counts as a day."""
    total = fs[F_BALANCE] - p[P_START_BAL]  # noqa: F405
    if total <= 0:
        return float("nan")
    best = max(fs[F_BEST_DAY], fs[F_BALANCE] - fs[F_DAY_START_BAL])  # noqa: F405
    return float(best / total)
