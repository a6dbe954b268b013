"""Checks of what reaches the risk kernel from outside: entry intents and restored snapshots.

A rule kernel that reads a NaN confidence or a snapshot of the wrong shape would silently
switch a rule off or read out of bounds; both are refused here, before any compiled rule runs
(core.risk.RiskKernel calls these).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.risk import kernel as K


def invalid_intent(intent: Any) -> str:
    """Why an entry intent is malformed ('' when it is fine)."""
    if intent.direction not in (1, -1):
        return f"direction must be +1 or -1, got {intent.direction!r}"
    c = intent.confidence
    if not isinstance(c, (int, float)) or not 0.0 <= float(c) <= 1.0:
        return f"confidence must be in [0, 1], got {c!r}"
    s = intent.stop_ticks
    if not isinstance(s, (int, float)) or not math.isfinite(float(s)):
        return f"stop_ticks must be a finite number, got {s!r}"
    if not isinstance(intent.open_contracts, (int, np.integer)) or intent.open_contracts < 0:
        return f"open_contracts must be a whole number ≥ 0, got {intent.open_contracts!r}"
    if intent.price is not None and not (isinstance(intent.price, (int, float))
                                         and math.isfinite(intent.price) and intent.price > 0):
        return f"price must be a finite number > 0, got {intent.price!r}"
    if intent.spread_ticks is not None and not (math.isfinite(intent.spread_ticks)
                                                and intent.spread_ticks >= 0):
        return f"spread_ticks must be ≥ 0, got {intent.spread_ticks!r}"
    for name in ("atr", "atr_normal", "volume", "volume_avg"):
        v = getattr(intent, name)
        if not math.isfinite(v) or v < 0:
            return f"{name} must be a finite number ≥ 0, got {v!r}"
    return ""


def parse_snapshot(snap: Any, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a snapshot mapping and build the state arrays (see RiskKernel.restore)."""
    hint = "restore only what RiskKernel.snapshot() wrote for this version; otherwise start " \
           "from a fresh state and reconcile with the broker"
    if not isinstance(snap, dict):
        raise ConfigError(f"risk snapshot: expected a mapping, got {type(snap).__name__}", hint=hint)
    ver = snap.get("version")
    if ver != K.SNAPSHOT_VERSION:
        raise ConfigError(f"risk snapshot: version {ver!r} is not {K.SNAPSHOT_VERSION}", hint=hint)
    floats, ints = snap.get("floats"), snap.get("ints")
    if not isinstance(floats, dict) or not isinstance(ints, dict):
        raise ConfigError("risk snapshot: 'floats' and 'ints' must be mappings", hint=hint)
    problems = []
    for got, want, what in ((floats, K.FS_NAMES, "floats"), (ints, K.IST_NAMES, "ints")):
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        if missing or extra:
            problems.append(f"{what}: missing {missing or '-'}, unknown {extra or '-'}")
    if problems:
        raise ConfigError("risk snapshot: wrong fields: " + "; ".join(problems), hint=hint)
    fs = np.zeros(K.N_FSTATE, dtype=np.float64)
    for k, name in enumerate(K.FS_NAMES):
        v = floats[name]
        if v is None and name == "mll_level":
            fs[k] = -np.inf
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"risk snapshot: floats.{name} must be a finite number, got {v!r}",
                              hint=hint)
        fs[k] = float(v)
    if p[K.P_HAS_MLL] > 0 and not math.isfinite(fs[K.F_MLL_LEVEL]):
        raise ConfigError("risk snapshot: floats.mll_level is missing on a Topstep profile",
                          hint=hint)
    ist = np.zeros(K.N_ISTATE, dtype=np.int64)
    for k, name in enumerate(K.IST_NAMES):
        v = ints[name]
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"risk snapshot: ints.{name} must be a whole number, got {v!r}",
                              hint=hint)
        ist[k] = v
    codes_ok = all(0 <= int(ist[s]) < K.N_REASONS for s in (K.I_HALT, K.I_DAY_STOP))
    masks_ok = all(0 <= int(ist[s]) < (1 << K.N_REASONS) for s in (K.I_BREACHES, K.I_DAY_BREACHES))
    if not codes_ok or not masks_ok or ist[K.I_MANUAL_PAUSE] not in (0, 1) \
            or ist[K.I_CONSEC_LOSSES] < 0 or ist[K.I_TRADES] < 0:
        raise ConfigError("risk snapshot: reason codes, masks or counters out of range",
                          hint=hint)
    # The halt in force is derived from the breach mask (never trusted on its own).
    ist[K.I_HALT] = K.halt_reason(int(ist[K.I_BREACHES]))
    return fs, ist
