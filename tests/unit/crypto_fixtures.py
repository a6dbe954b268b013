"""A crypto spot profile built in code (pins the kernel's crypto rules independently of the
shipped profiles' numbers) and synthetic crypto bars."""

from __future__ import annotations

import copy
from typing import Any

from core.config import Profile, profile_from_dict

BASE: dict[str, Any] = {
    "profile": {"name": "crypto_test", "instrument": "BTCUSDT"},
    "costs": {"as_of": "2025-01-01", "commission_round_trip": 0.0, "maker_fee_pct": 0.1,
              "taker_fee_pct": 0.1, "slippage_bps": 1.0, "slippage_bps_volatile": 3.0,
              "limit_slippage_bps": 0.0, "impact_bps": 10.0},
    "risk": {"limits_unit": "percent", "starting_balance": 1000.0, "max_daily_loss": 3.0,
             "max_daily_drawdown": 4.0, "max_risk_per_trade": 1.0,
             "account_drawdown_stop": 15.0, "kill_switch_loss": 25.0, "min_balance": 60.0,
             "min_confidence": 0.6, "max_contracts": 1, "max_position_pct": 100.0,
             "size_tiers": [{"min_balance": 0.0, "max_contracts": 1, "risk_pct": 0.01}],
             "confidence_steps": [{"min_confidence": 0.6, "multiplier": 0.5},
                                  {"min_confidence": 0.7, "multiplier": 1.0},
                                  {"min_confidence": 0.9, "multiplier": 2.0}],
             "loss_pauses": [{"losses": 3, "minutes": 15}, {"losses": 5, "minutes": 30}]},
    "schedule": {"sessions": "continuous", "daily_cut": "00:00", "timezone": "UTC",
                 "rth_only": False},
    "strategy": {"bracket": "fixed", "stop_pct": 0.5, "target_pct": 0.75,
                 "time_stop_minutes": 60.0, "slippage_model": "volatility"},
    "label": {"kind": "direction", "lookahead_seconds": 1800, "threshold_pct": 0.5},
}

#: Limits so wide no risk rule interferes (percent of equity).
LOOSE_PCT = {"max_daily_loss": 99.0, "max_daily_drawdown": 99.0, "max_risk_per_trade": 99.0,
             "account_drawdown_stop": 100.0, "kill_switch_loss": 100.0, "min_balance": 0.0,
             "loss_pauses": [], "volatility_breaker_multiple": 1e9, "volume_floor_ratio": 0.0}


def crypto_profile(**sections: dict[str, Any]) -> Profile:
    """The base crypto profile with ``section={key: value}`` overrides (None deletes a key)."""
    raw = copy.deepcopy(BASE)
    for section, changes in sections.items():
        for k, v in changes.items():
            if v is None:
                raw[section].pop(k, None)
            else:
                raw[section][k] = v
    return profile_from_dict(raw, source="crypto_test")
