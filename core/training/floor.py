"""A confidence floor chosen on validation data: trade the share of signals that paid there.

A single fixed floor (say 55 %) is a blunt cut for an edge on 1 % of the bars (issue 11): how
many bars clear it varies from fold to fold with the calibration, and at 55 % a sparse edge is
diluted by many bars without one. :func:`choose_floor` instead looks at the fold's
**validation** bars — the ones early stopping and calibration already used, never the test
fold or the holdout — and tries a few nested top shares of the UP/DOWN predictions, most
confident first (:data:`FLOOR_SHARES`). Each share is valued as its trades would be, held for
the label horizon, after the profile's round-trip costs. The floor is the confidence of the
least confident bar of the share whose validation value is highest (each share holds at least
:data:`MIN_VALIDATION_BARS` bars). Penalising small shares by one standard error was tried on
development seeds (not the bench's): it rejected nearly every share of a real sparse edge —
40 validation bars carry a standard error of ~$4 — so the test folds, not a penalty, judge
the choice.

When no share pays after costs on validation (mean ≤ 0), there is nothing worth trading:
the floor is set above every confidence (:data:`NO_TRADE`) and the fold — or the saved model —
takes no trades. That is the trader's answer too, and it keeps noise from trading at all.

The chosen number is an ordinary confidence floor: the backtester applies it with the rule
``train`` uses (core.training.trading.training_profile — a floor below the profile's first
sizing step moves that step), and it is saved in the model's config so ``scalpdesk backtest``
applies the same floor.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Nested top shares of the validation UP/DOWN predictions the floor is chosen from.
FLOOR_SHARES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)
#: A share needs at least this many validation bars to be considered.
MIN_VALIDATION_BARS = 25
#: The floor when no share paid after costs on validation: no confidence reaches it.
NO_TRADE = 1.0


@dataclass
class FloorChoice:
    """The floor chosen on one fold's validation bars and why."""

    floor: float          #: calibrated confidence floor (NO_TRADE: validation found none paying)
    share: float          #: top share of validation UP/DOWN predictions it keeps (0: none)
    bars: int             #: validation bars at or above it
    dollars: float        #: their mean value held for the horizon, $ per contract after costs
    lower: float          #: ``dollars`` less one standard error (reported, not selected on)
    candidates: list[dict[str, float]] = field(default_factory=list)  #: every share tried

    @property
    def trades(self) -> bool:
        """False when validation found no share worth trading."""
        return self.floor < NO_TRADE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def choose_floor(conf: np.ndarray, move_ticks: np.ndarray, *, tick_value: float,
                 cost_per_contract: float, shares: tuple[float, ...] = FLOOR_SHARES,
                 min_bars: int = MIN_VALIDATION_BARS, require_positive: bool = True
                 ) -> FloorChoice:
    """Choose a confidence floor on validation bars (see the module docstring).

    Args:
        conf: Calibrated confidence of each validation UP/DOWN prediction.
        move_ticks: The move that followed each, in the predicted direction, over the label
            horizon (ticks; NaN rows are ignored).
        tick_value: $ per tick per contract (the profile's instrument).
        cost_per_contract: Round-trip costs per contract under the profile ($).
        shares: Top shares to try, smallest first.
        min_bars: Fewest validation bars a share must hold.
        require_positive: Without a share that pays, return :data:`NO_TRADE` (else the best).

    Returns:
        The :class:`FloorChoice` (``floor`` = :data:`NO_TRADE` when no share paid).
    """
    conf = np.asarray(conf, np.float64)
    move = np.asarray(move_ticks, np.float64)
    ok = np.isfinite(conf) & np.isfinite(move)
    conf, move = conf[ok], move[ok]
    order = np.argsort(-conf, kind="stable")
    conf, value = conf[order], move[order] * tick_value - cost_per_contract
    csum, csq = np.cumsum(value), np.cumsum(value * value)
    best: FloorChoice | None = None
    tried: list[dict[str, float]] = []
    for q in shares:
        k = int(round(q * len(conf)))
        if k < min_bars:
            continue
        # Every bar tied with the k-th most confident clears the same floor: count them all.
        k = int(np.searchsorted(-conf, -conf[k - 1], side="right"))
        mean = csum[k - 1] / k
        var = max(csq[k - 1] / k - mean * mean, 0.0) * k / max(k - 1, 1)
        lower = mean - math.sqrt(var / k)
        tried.append({"share": q, "floor": float(conf[k - 1]), "bars": k,
                      "dollars": float(mean), "lower": float(lower)})
        if best is None or mean > best.dollars:
            best = FloorChoice(float(conf[k - 1]), q, k, float(mean), float(lower))
    if best is None or (require_positive and best.dollars <= 0.0):
        keep = best or FloorChoice(NO_TRADE, 0.0, 0, math.nan, math.nan)
        return FloorChoice(NO_TRADE, 0.0, 0, keep.dollars, keep.lower, tried)
    best.candidates = tried
    return best


def floor_text(floors: list[float]) -> str:
    """``"validation-chosen floors 56–61 %"`` (folds that took no trades are named)."""
    real = [f for f in floors if f < NO_TRADE]
    none = len(floors) - len(real)
    if not real:
        return "no validation-chosen floor (no share of the validation signals paid after costs)"
    lo, hi = min(real), max(real)
    rng = f"{lo:.0%}" if round(lo * 100) == round(hi * 100) else f"{lo:.0%}–{hi:.0%}"
    extra = f"; {none} fold{'s' if none != 1 else ''} without one" if none else ""
    return f"validation-chosen floor{'s' if len(real) > 1 else ''} {rng}{extra}"
