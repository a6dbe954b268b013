"""A family of planted, causal patterns on top of the synthetic MES noise (research power tests).

The noise generator (:mod:`core.datasets.synth`) makes a martingale: no feature can predict the
direction. Each pattern here adds one documented, *causal* edge to those bars, so research can
be checked in both directions: a pattern must be found out of sample at its documented strength,
and noise (or shuffled labels) must read "no edge".

How a pattern is planted (one rule for all of them, :func:`plant`):

* The bars are walked in time order. After bar ``t`` has closed, the pattern's trigger looks only
  at bars ``<= t`` **as the user sees them** (prices already carrying earlier drifts), so a
  model with the right features could know at the close of ``t`` that a drift is coming.
* When it fires (and no drift is active), the next ``window`` bars drift ``drift_ticks ×
  strength`` ticks in total in the trigger's direction, spread evenly, whole ticks only (the
  tick grid stays exact). Every later bar keeps the shift, as a real move would.
* A drift never crosses a session break (a gap of 30 minutes or more ends it).

Expected value per trade (documented for each pattern in :data:`PATTERNS`): entering MES at the
open of the bar after the trigger and leaving at the close of the drift window earns
``drift_ticks × strength × $1.25`` before costs, on average; after the demo profile's costs
(``$0.84`` commission and fees per round trip, one tick of slippage on each side, ``$3.34`` in
all) that is ``drift × $1.25 − $3.34``. The noise around it is zero-mean, so it adds variance,
not bias. Exits other than "hold for the window" (a tight stop, say) earn less.

Strength 1 is the documented, realistic strength: a few dollars per trade after costs, on a
small share of the bars (sparse) or a larger share with a smaller drift (dense).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pandas as pd

from core.errors import DataError

__all__ = ["PATTERNS", "Pattern", "COST_PER_TRADE", "TICK_VALUE", "generate_pattern", "plant",
           "pattern_names", "get_pattern"]

#: MES: dollars per tick per contract.
TICK_VALUE = 1.25
#: Round-trip costs of one MES contract under the demo profile: $0.84 + 2 × 1 tick slippage.
COST_PER_TRADE = 0.84 + 2 * TICK_VALUE

# Trigger codes of the kernel (one branch each; see Pattern.trigger for the words).
_VOLUME, _BREAKOUT, _RANGE, _TIME, _PULLBACK = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Pattern:
    """One planted pattern: its trigger, its drift and what a trade on it is worth."""

    name: str
    bar_seconds: int        #: the bar size it is planted on (1 or 60)
    family: str             #: price · volume · range · time-of-day · multi-bar
    density: str            #: "sparse" (≈1–2 % of bars start a drift) or "dense" (≥ 3 %)
    trigger: str            #: the rule in words
    drift_ticks: float      #: total drift at strength 1 (ticks)
    window: int             #: bars the drift is spread over
    lookahead_seconds: int  #: the label horizon that matches the window
    code: int               #: kernel trigger code
    k1: float               #: trigger parameter 1 (see the kernel)
    k2: float               #: trigger parameter 2
    rate: float             #: measured share of RTH bars starting a drift (seeds 0-2; 120 d of 1-min, 10 d of 1-s)

    def expected_value(self, strength: float = 1.0) -> float:
        """$ per MES trade after demo costs, holding from the next open for the window."""
        return self.drift_ticks * strength * TICK_VALUE - COST_PER_TRADE

    def describe(self, strength: float = 1.0) -> str:
        """One line for the CLI and reports."""
        return (f"{self.name} ({self.family}, {self.density}, {_bar(self.bar_seconds)} bars): "
                f"{self.trigger}; then +{self.drift_ticks * strength:g} ticks over the next "
                f"{self.window} bars in that direction (strength {strength:g}); "
                f"~{self.rate:.1%} of bars trigger; expected "
                f"${self.expected_value(strength):+.2f} per MES trade after costs")


def _bar(seconds: int) -> str:
    return "1-second" if seconds == 1 else f"{seconds // 60}-minute"


#: The family. Trigger thresholds set each pattern's density; drifts are a few dollars after
#: costs per trade. Rates were measured on RTH synthetic data (seeds 0-2).
PATTERNS: dict[str, Pattern] = {p.name: p for p in (
    Pattern("volume_burst", 60, "volume", "sparse",
            "a bar trades >= 2.3x its 60-bar average volume and moves >= 6 ticks open to close; "
            "direction of that bar",
            10.0, 5, 300, _VOLUME, 2.3, 6.0, 0.013),
    Pattern("breakout", 60, "price", "dense",
            "the close is above the highest high (below the lowest low) of the previous 30 bars",
            6.0, 5, 300, _BREAKOUT, 30.0, 0.0, 0.056),
    Pattern("range_fade", 60, "range", "sparse",
            "a bar's range is >= 3x its 60-bar average range; direction against that bar "
            "(the spike fades)",
            10.0, 5, 300, _RANGE, 3.0, 0.0, 0.014),
    Pattern("late_trend", 60, "time-of-day", "dense",
            "from 14:00 to 15:30 ET, the close is >= 8 ticks away from the session VWAP; "
            "direction of the close relative to the VWAP",
            5.0, 5, 300, _TIME, 8.0, 0.0, 0.05),
    Pattern("pullback", 60, "multi-bar", "sparse",
            "the 5-bar move is >= 24 ticks and the last bar closed >= 3 ticks against it; "
            "direction of the 5-bar move",
            10.0, 5, 300, _PULLBACK, 24.0, 3.0, 0.011),
    Pattern("volume_burst_1s", 1, "volume", "sparse",
            "a second trades >= 3x its 300-second average volume and moves >= 1 tick; "
            "direction of that second",
            6.0, 30, 30, _VOLUME, 3.0, 1.0, 0.01),
    Pattern("breakout_1s", 1, "price", "dense",
            "the close is above the highest high (below the lowest low) of the previous 30 "
            "seconds",
            4.0, 10, 10, _BREAKOUT, 30.0, 0.0, 0.035),
)}


def pattern_names() -> list[str]:
    """Names of the family, in table order."""
    return list(PATTERNS)


def get_pattern(name: str) -> Pattern:
    """The pattern called ``name``.

    Raises:
        DataError: Unknown name (the message lists the family).
    """
    try:
        return PATTERNS[name]
    except KeyError:
        raise DataError(f"unknown pattern {name!r}",
                        hint="choose one of: " + ", ".join(PATTERNS)) from None


# ----------------------------------------------------------------------------- kernel
@numba.njit(cache=True)
def _plant_kernel(ts: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray,  # pragma: no cover
                  c: np.ndarray, v: np.ndarray, tod: np.ndarray, code: int, k1: float,
                  k2: float, drift: float, window: int, avg_n: int, gap_ns: int,
                  starts: np.ndarray) -> int:
    """Shift prices (in ticks, in place) by the planted drifts; mark trigger bars in ``starts``.

    ``tod`` is seconds since midnight ET of each bar's start. Returns the number of triggers.
    """
    n = ts.shape[0]
    a = 2.0 / (avg_n + 1.0)          # EMA weight: "its N-bar average"
    v_ema, r_ema = -1.0, -1.0
    off = 0.0                        # current shift in ticks (whole ticks)
    left, dirn, step_i = 0, 0, 0
    pv, vv = 0.0, 0.0                # session VWAP sums
    ring_h = np.empty(max(1, int(k1)), np.float64)
    ring_l = np.empty(max(1, int(k1)), np.float64)
    ring_c = np.empty(6, np.float64)
    seen = 0                         # bars of the current session
    fired = 0
    for i in range(n):
        new_session = i == 0 or ts[i] - ts[i - 1] >= gap_ns
        if new_session:
            left = 0
            pv, vv = 0.0, 0.0
            seen = 0
        # Apply the active drift: the open keeps the previous shift, the close takes the new one.
        o[i] += off
        if left > 0:
            tot = drift * dirn
            inc = np.floor(tot * (step_i + 1) / window + 0.5) - np.floor(tot * step_i / window + 0.5)
            off += inc
            step_i += 1
            left -= 1
        c[i] += off
        h[i] += off
        l[i] += off
        if h[i] < max(o[i], c[i]):
            h[i] = max(o[i], c[i])
        if l[i] > min(o[i], c[i]):
            l[i] = min(o[i], c[i])
        # The trigger reads the bar that just closed and earlier bars only (causal).
        rng = h[i] - l[i]
        tp = (h[i] + l[i] + c[i]) / 3.0
        pv += tp * v[i]
        vv += v[i]
        sig = 0
        if code == 0:      # volume burst: volume >= k1 x average and |body| >= k2 ticks
            if v_ema > 0 and v[i] >= k1 * v_ema and abs(c[i] - o[i]) >= k2:
                sig = 1 if c[i] > o[i] else -1
        elif code == 1:    # breakout of the previous k1 bars (same session)
            m = int(k1)
            if seen >= m:
                hh, ll = -1e18, 1e18
                for j in range(m):
                    hh = max(hh, ring_h[j])
                    ll = min(ll, ring_l[j])
                if c[i] > hh:
                    sig = 1
                elif c[i] < ll:
                    sig = -1
        elif code == 2:    # range spike fades
            if r_ema > 0 and rng >= k1 * r_ema and c[i] != o[i]:
                sig = -1 if c[i] > o[i] else 1
        elif code == 3:    # afternoon: away from the session VWAP -> continue
            if 50_400.0 <= tod[i] < 55_800.0 and vv > 0:
                d = c[i] - pv / vv
                if d >= k1:
                    sig = 1
                elif d <= -k1:
                    sig = -1
        elif code == 4:    # pullback in a strong 5-bar move -> continue
            if seen >= 6:
                mv = c[i] - ring_c[(seen - 5) % 6]
                last = c[i] - ring_c[(seen - 1) % 6]
                if mv >= k1 and last <= -k2:
                    sig = 1
                elif mv <= -k1 and last >= k2:
                    sig = -1
        if sig != 0 and left == 0:
            left, dirn, step_i = window, sig, 0
            starts[i] = sig
            fired += 1
        # Update the running state with bar i (after the trigger looked at it).
        v_ema = v[i] if v_ema < 0 else v_ema + a * (v[i] - v_ema)
        r_ema = rng if r_ema < 0 else r_ema + a * (rng - r_ema)
        m = ring_h.shape[0]
        ring_h[seen % m] = h[i]
        ring_l[seen % m] = l[i]
        ring_c[seen % 6] = c[i]
        seen += 1
    return fired


def plant(frame: pd.DataFrame, pattern: Pattern | str, *, strength: float = 1.0,
          tick: float = 0.25) -> tuple[pd.DataFrame, np.ndarray]:
    """Plant ``pattern`` into a bar frame (a copy); also return the trigger bars.

    Args:
        frame: Canonical bar frame on the pattern's bar size, sorted by time.
        pattern: A :class:`Pattern` or its name.
        strength: Scales the drift (1 = documented; 0 = the frame unchanged).
        tick: Tick size of the frame's prices.

    Returns:
        (the planted frame, int8 array: +1/-1 on bars whose close started a drift, else 0).

    Raises:
        DataError: Unknown pattern or a strength outside [0, 8].
    """
    p = get_pattern(pattern) if isinstance(pattern, str) else pattern
    if not 0.0 <= strength <= 8.0:
        raise DataError(f"strength must be in [0, 8], got {strength}",
                        hint="1.0 is the documented, realistic strength; 0 plants nothing")
    from core.calendar import ET  # noqa: PLC0415 - calendar is heavy only on first use
    ts = frame["timestamp"].to_numpy(np.int64)
    local = pd.DatetimeIndex(ts, tz="UTC").tz_convert(ET)
    tod = (local.hour * 3600 + local.minute * 60 + local.second).to_numpy(np.float64)
    px = {k: frame[k].to_numpy(np.float64) / tick for k in ("open", "high", "low", "close")}
    px = {k: np.round(v) for k, v in px.items()}
    starts = np.zeros(len(ts), np.int8)
    avg_n = 300 if p.bar_seconds == 1 else 60
    _plant_kernel(ts, px["open"], px["high"], px["low"], px["close"],
                  frame["volume"].to_numpy(np.float64), tod, p.code, p.k1, p.k2,
                  float(p.drift_ticks * strength), p.window, avg_n, 30 * 60 * 10**9, starts)
    out = frame.copy()
    for k, v in px.items():
        out[k] = v * tick
    if len(out) and float(out["low"].min()) < tick:
        raise DataError("planted price fell below one tick",
                        hint="use another seed, a lower strength or a higher start price")
    return out, starts


def generate_pattern(pattern: Pattern | str | None, days: int, seed: int = 0, *,
                     strength: float = 1.0, rth_only: bool = True, **kw: Any
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Noise bars on the pattern's bar size with the pattern planted; ``None``: noise only.

    One-minute patterns resample the 1-second noise (so both sizes share the same calibrated
    market), then plant on the 1-minute bars.

    Args:
        pattern: A pattern, its name, or None for pure noise (1-minute bars).
        days: Trading days.
        seed: Noise seed (the pattern itself is deterministic).
        strength: Drift scale (1 = documented).
        rth_only: Regular trading hours only (the default for research on index futures).
        **kw: Passed to :func:`core.datasets.synth.generate` (``start``, ``symbol`` ...).

    Returns:
        (bar frame, trigger array as from :func:`plant`).
    """
    from core.datasets import synth
    from core.datasets.resample import resample

    p = None if pattern is None else (get_pattern(pattern) if isinstance(pattern, str) else pattern)
    bar = 60 if p is None else p.bar_seconds
    frame = synth.generate(days, seed, rth_only=rth_only, **kw)
    if bar != 1:
        frame = resample(frame, bar)
    if p is None or strength == 0:
        return frame, np.zeros(len(frame), np.int8)
    return plant(frame, p, strength=strength)
