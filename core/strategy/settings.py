"""Profile → the settings vector of the strategy steps (``sp``, slots ``SP_*`` of steps.py).

Built once per run by the backtester and the live engine alike, so both call the per-bar
steps with the same settings.
"""

from __future__ import annotations

import numpy as np

from core.config import Profile
from core.strategy import steps as S


def strategy_array(profile: Profile, bar_ns: int) -> np.ndarray:
    """The loop's strategy/fill parameter vector (``SP_*``) from the profile.

    Percentage-tick instruments (crypto) get their fixed bracket in % of price and their
    slippage in bps (``SP_PCT``); ``impact_bps`` applies to any instrument.
    """
    from core.domain import get_instrument

    s, c = profile.strategy, profile.costs
    sp = np.zeros(S.N_SP, dtype=np.float64)
    sp[S.SP_BRACKET] = ("fixed", "atr", "structure").index(s.bracket)
    sp[S.SP_STOP_TICKS] = s.stop_ticks
    sp[S.SP_TARGET_TICKS] = s.target_ticks
    sp[S.SP_ATR_MULT] = s.atr_multiple
    sp[S.SP_LOOKBACK] = s.atr_period
    sp[S.SP_BE_TICKS] = -1.0 if s.breakeven_after_ticks is None else s.breakeven_after_ticks
    sp[S.SP_TIME_STOP_NS] = 0.0 if not s.time_stop_minutes else s.time_stop_minutes * 60e9
    sp[S.SP_ENTRY_LIMIT] = 1.0 if s.entry_order == "limit" else 0.0
    sp[S.SP_COOLDOWN] = s.cooldown_bars
    sp[S.SP_OPPOSITE] = S.OPPOSITE_NAMES.index(s.on_opposite)
    sp[S.SP_STOP_FILL] = 1.0 if s.stop_fill == "at_stop" else 0.0
    sp[S.SP_ANCHOR] = 1.0 if s.bracket_anchor == "fill" else 0.0
    sp[S.SP_CONTINUOUS] = 1.0 if profile.schedule.sessions == "continuous" else 0.0
    sp[S.SP_FILL_MODE] = ("conservative", "optimistic", "realistic").index(s.fill_mode)
    sp[S.SP_SLIP_MODEL] = ("fixed", "session", "volatility").index(s.slippage_model)
    sp[S.SP_SAME_BAR] = ("pessimistic", "optimistic", "resolve").index(s.same_bar)
    sp[S.SP_SLIP_RTH] = c.slippage_ticks
    sp[S.SP_SLIP_ETH] = c.slippage_ticks_eth
    sp[S.SP_SLIP_VOL] = c.slippage_ticks_volatile
    sp[S.SP_SLIP_LIMIT] = c.limit_slippage_ticks
    sp[S.SP_BAR_NS] = bar_ns
    sp[S.SP_IMPACT_BPS] = c.impact_bps
    if get_instrument(profile.instrument).percent:
        sp[S.SP_PCT] = 1.0
        # Without % keys (ATR/structure brackets) only the target:stop ratio is used.
        sp[S.SP_STOP_PCT] = s.stop_pct if s.stop_pct is not None else s.stop_ticks
        sp[S.SP_TARGET_PCT] = s.target_pct if s.target_pct is not None else s.target_ticks
        bps = c.slippage_bps if c.slippage_bps is not None else 0.0
        sp[S.SP_SLIP_RTH] = sp[S.SP_SLIP_ETH] = bps       # 24/7: no thin "overnight" book
        sp[S.SP_SLIP_VOL] = bps if c.slippage_bps_volatile is None else c.slippage_bps_volatile
        sp[S.SP_SLIP_LIMIT] = c.limit_slippage_bps
    return sp
