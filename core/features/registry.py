"""Named, versioned feature definitions and the feature sets built from them.

Every feature is a :class:`FeatureDef`: a name, an integer version (bump it whenever the
numbers it produces change, so a model trained on version 1 refuses version 2), its group,
its parameters, its warm-up and the kernel slot that computes it. One compiled kernel
(``kernel.py``) produces every slot; the batch form (:func:`core.features.compute_features`)
and the streaming form (:class:`core.features.FeatureStream`) both run it, so they give the
same numbers by construction.

Windows are documented per feature in :attr:`FeatureDef.window`:

* ``"time"`` windows are in seconds and work on irregular bars: a lookback ``L`` uses the
  last bar at or before ``t - L``; a rolling window ``W`` holds the bars in ``(t - W, t]``.
* ``"bars"`` windows count bars (classic indicators: EMA, RSI, MACD, Bollinger, ATR).
* ``"bucket"`` features aggregate bars into clock-aligned higher-timeframe buckets and use
  *completed* buckets only: a bucket counts as complete once a bar of a later bucket has
  arrived, so these features lag by at least one base bar (on 1-minute bars the 1-minute
  bucket features describe the previous bar).
* ``"session"`` features come from the CME calendar (``core.calendar``); they are NaN for
  bars outside a Globex session.

Feature sets: ``"default"`` (1-second bars), ``"default_1m"`` (1-minute bars: the time
windows scaled up so that each still spans several bars) and ``"crypto_1m"`` (``default_1m``
without the calendar features, for 24/7 markets).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.features import kernel as K

#: Version of the feature machinery (kernel + registry). Part of every artifact's fingerprint.
FEATURE_SET_VERSION: str = "1.0"


@dataclass(frozen=True)
class FeatureDef:
    """One named, versioned feature.

    Attributes:
        name: Column name (unique within a set), e.g. ``"ret_5s"``.
        version: Bumped whenever the values change.
        group: price_action | microstructure | indicators | time | multi_timeframe | regime.
        slot: Kernel output slot.
        params: The parameters that define it (seconds or bars, see ``window``).
        window: ``"time"``, ``"bars"``, ``"bucket"``, ``"session"`` or ``"bar"`` (this bar only).
        warmup: When it stops being NaN, in words.
        warmup_bars: Bars needed before it can be defined (0 for time-based ones).
        warmup_seconds: Seconds of history needed (0 for bar-based ones).
        doc: What it measures.
    """

    name: str
    version: int
    group: str
    slot: int
    params: dict[str, Any]
    window: str
    warmup: str
    warmup_bars: int = 0
    warmup_seconds: float = 0.0
    doc: str = ""


@dataclass(frozen=True)
class FeatureSetSpec:
    """Parameters of one feature set (all lookbacks/windows in seconds, spans in bars)."""

    name: str
    ret_seconds: tuple[int, ...]
    mom_seconds: tuple[int, ...]
    win_seconds: tuple[int, ...]
    tf_seconds: tuple[int, ...]
    ema_spans: tuple[int, ...] = (9, 21, 50, 200)
    rsi: int = 14
    macd: tuple[int, int, int] = (12, 26, 9)
    bb: int = 20
    bb_k: float = 2.0
    atr: int = 14
    slope_bars: int = 10
    mtf_mom_bars: int = 3
    mtf_ema: tuple[int, int] = (5, 20)
    flatten_hhmm: str = "16:30"
    flatten_tz: str = "America/New_York"
    ring_capacity: int = 2048
    exclude: tuple[str, ...] = field(default_factory=tuple)

    def int_params(self) -> np.ndarray:
        """The kernel's int64 parameter vector."""
        pi = np.zeros(K.N_PI, dtype=np.int64)
        ns = 1_000_000_000
        pi[K.P_LB:K.P_LB + K.N_LB] = [s * ns for s in (*self.ret_seconds, *self.mom_seconds)]
        pi[K.P_WIN:K.P_WIN + K.N_WIN] = [s * ns for s in self.win_seconds]
        pi[K.P_TF:K.P_TF + K.N_TF] = [s * ns for s in self.tf_seconds]
        pi[K.P_EMA:K.P_EMA + K.N_EMA] = self.ema_spans
        pi[K.P_RSI] = self.rsi
        pi[K.P_MACD_F], pi[K.P_MACD_S], pi[K.P_MACD_SIG] = self.macd
        pi[K.P_BB] = self.bb
        pi[K.P_ATR] = self.atr
        pi[K.P_SLOPE] = self.slope_bars
        pi[K.P_MTF_MOM] = self.mtf_mom_bars
        pi[K.P_MTF_FAST], pi[K.P_MTF_SLOW] = self.mtf_ema
        pi[K.P_BB_K_X100] = int(round(self.bb_k * 100))
        return pi


def fmt_seconds(s: int) -> str:
    """Compact duration for feature names: 5 -> '5s', 60 -> '1m', 3600 -> '1h'."""
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


def _defs(spec: FeatureSetSpec) -> list[FeatureDef]:
    """Every feature of a spec, in output order."""
    out: list[FeatureDef] = []

    def add(name: str, group: str, slot: int, params: dict[str, Any], window: str,
            warmup: str, doc: str, *, bars: int = 0, seconds: float = 0.0,
            version: int = 1) -> None:
        out.append(FeatureDef(name, version, group, slot, params, window, warmup, bars,
                              seconds, doc))

    # ---- price action
    for k, s in enumerate(spec.ret_seconds):
        t = fmt_seconds(s)
        add(f"ret_{t}", "price_action", K.F_RET + k, {"lookback_s": s}, "time",
            f"a bar at or before t-{t} exists", f"close / close(last bar <= t-{t}) - 1",
            seconds=s)
    for k, s in enumerate(spec.ret_seconds):
        t = fmt_seconds(s)
        add(f"logret_{t}", "price_action", K.F_LOGRET + k, {"lookback_s": s}, "time",
            f"a bar at or before t-{t} exists", f"log(close / close(last bar <= t-{t}))",
            seconds=s)
    for k, s in enumerate(spec.mom_seconds):
        t = fmt_seconds(s)
        add(f"mom_{t}", "price_action", K.F_MOM + k, {"lookback_s": s}, "time",
            f"a bar at or before t-{t} exists", f"cumulative return over {t}", seconds=s)
    for k, s in enumerate(spec.win_seconds):
        t = fmt_seconds(s)
        add(f"vol_{t}", "price_action", K.F_VOL + k, {"window_s": s}, "time",
            "2 bar returns in the window", f"sample std of 1-bar log returns in (t-{t}, t]",
            bars=3)
    add("range", "price_action", K.F_RANGE, {}, "bar", "none", "(high - low) / close")
    for k, s in enumerate(spec.win_seconds[1:]):
        t = fmt_seconds(s)
        add(f"range_mean_{t}", "price_action", K.F_RNGMEAN + k, {"window_s": s}, "time",
            "none", f"mean of (high - low) / close over bars in (t-{t}, t]")
    # ---- microstructure
    add("bar_dir", "microstructure", K.F_DIR, {}, "bar", "none", "sign(close - open)")
    add("upper_wick", "microstructure", K.F_UWICK, {}, "bar", "none",
        "(high - max(open, close)) / (high - low); 0 for a one-price bar")
    add("lower_wick", "microstructure", K.F_LWICK, {}, "bar", "none",
        "(min(open, close) - low) / (high - low); 0 for a one-price bar")
    add("body", "microstructure", K.F_BODY, {}, "bar", "none",
        "(close - open) / (high - low), signed; 0 for a one-price bar")
    for k, s in enumerate(spec.win_seconds[1:]):
        t = fmt_seconds(s)
        add(f"volume_rel_{t}", "microstructure", K.F_VREL + k, {"window_s": s}, "time",
            "none", f"volume / mean volume of bars in (t-{t}, t]")
    # ---- indicators
    for k, n in enumerate(spec.ema_spans):
        add(f"ema_{n}_dist", "indicators", K.F_EMA + k, {"span_bars": n}, "bars",
            f"{n} bars", f"(close - EMA{n}) / close; EMA seeded with the first close", bars=n)
    add(f"rsi_{spec.rsi}", "indicators", K.F_RSI, {"bars": spec.rsi}, "bars",
        f"{spec.rsi + 1} bars", "Wilder RSI, 0-100 (SMA seed)", bars=spec.rsi + 1)
    f, s_, g = spec.macd
    mw = s_ + g - 1
    for slot, nm, doc in ((K.F_MACD, "macd", "(EMA fast - EMA slow) / close"),
                          (K.F_MACD_SIG, "macd_signal", "EMA signal of MACD / close"),
                          (K.F_MACD_HIST, "macd_hist", "(MACD - signal) / close")):
        add(nm, "indicators", slot, {"fast": f, "slow": s_, "signal": g}, "bars",
            f"{mw} bars", doc, bars=mw)
    add("bb_pos", "indicators", K.F_BB_POS, {"bars": spec.bb, "k": spec.bb_k}, "bars",
        f"{spec.bb} bars", "(close - lower) / (upper - lower); 0.5 when flat", bars=spec.bb)
    add("bb_width", "indicators", K.F_BB_WIDTH, {"bars": spec.bb, "k": spec.bb_k}, "bars",
        f"{spec.bb} bars", "(upper - lower) / middle (population std)", bars=spec.bb)
    add(f"atr_{spec.atr}", "indicators", K.F_ATR, {"bars": spec.atr}, "bars",
        f"{spec.atr} bars", "Wilder ATR of the true range / close", bars=spec.atr)
    add("vwap_dist", "indicators", K.F_VWAP, {"reset": "09:30 ET and the Globex open"},
        "session", "none", "(close - session VWAP) / close, typical price (h+l+c)/3; "
        "resets at the Globex open (overnight VWAP) and at 09:30 ET (RTH VWAP)")
    # ---- time
    add("tod_sin", "time", K.F_TOD_SIN, {"period_min": 1440}, "session", "none",
        "sin(2 pi * minutes since 09:30 ET / 1440)")
    add("tod_cos", "time", K.F_TOD_COS, {"period_min": 1440}, "session", "none",
        "cos(2 pi * minutes since 09:30 ET / 1440)")
    add("min_since_open", "time", K.F_MIN_OPEN, {}, "session", "none",
        "minutes since the trading day's 09:30 ET (negative overnight)")
    add("day_of_week", "time", K.F_DOW, {}, "session", "none",
        "trading day's weekday, Monday = 0 (Sunday evening belongs to Monday)")
    add("min_to_close", "time", K.F_MIN_CLOSE, {}, "session", "none",
        "minutes to the Globex session close (core.calendar.minutes_to_close)")
    add("min_to_rth_close", "time", K.F_MIN_RTH_CLOSE, {}, "session", "none",
        "minutes to 16:00 ET or the early close (negative after it)")
    add("min_to_flatten", "time", K.F_MIN_FLAT, {"hhmm": spec.flatten_hhmm,
                                                 "tz": spec.flatten_tz}, "session", "none",
        "minutes to the flatten deadline (capped at the session close)")
    # ---- multi-timeframe
    for k, s in enumerate(spec.tf_seconds):
        t = fmt_seconds(s)
        mb = spec.mtf_mom_bars
        fa, sl = spec.mtf_ema
        add(f"mtf_{t}_mom", "multi_timeframe", K.F_MTF + 2 * k, {"tf_s": s, "bars": mb},
            "bucket", f"{mb + 1} completed {t} bars",
            f"completed {t} close / completed {t} close {mb} buckets earlier - 1",
            seconds=(mb + 1) * s)
        add(f"mtf_{t}_trend", "multi_timeframe", K.F_MTF + 2 * k + 1,
            {"tf_s": s, "fast": fa, "slow": sl}, "bucket", f"{sl} completed {t} bars",
            f"(EMA{fa} - EMA{sl} of completed {t} closes) / last completed close",
            seconds=(sl + 1) * s)
    # ---- regime
    w1, w2 = (fmt_seconds(x) for x in spec.win_seconds[1:])
    add("vol_regime", "regime", K.F_VOL_REGIME, {"short": w1, "long": w2}, "time",
        "as vol", f"vol_{w1} / vol_{w2} (1 when both are 0)", bars=3)
    e = spec.ema_spans[1]
    add("trend_strength", "regime", K.F_TREND,
        {"ema": e, "slope_bars": spec.slope_bars, "atr": spec.atr}, "bars",
        f"{e + spec.slope_bars} bars",
        f"|EMA{e} change over {spec.slope_bars} bars| / ({spec.slope_bars} * ATR{spec.atr})",
        bars=e + spec.slope_bars)
    excl = set(spec.exclude)
    return [d for d in out if d.name not in excl]


#: Features that need CME sessions (NaN outside them): left out of 24/7 feature sets.
_SESSION_FEATURES: tuple[str, ...] = (
    "vwap_dist", "tod_sin", "tod_cos", "min_since_open", "day_of_week", "min_to_close",
    "min_to_rth_close", "min_to_flatten")

_SPECS: dict[str, FeatureSetSpec] = {
    "default": FeatureSetSpec(
        name="default", ret_seconds=(1, 5, 10, 30, 60), mom_seconds=(300, 900),
        win_seconds=(30, 60, 300), tf_seconds=(60, 300)),
    "default_1m": FeatureSetSpec(
        name="default_1m", ret_seconds=(60, 300, 600, 1800, 3600),
        mom_seconds=(10800, 21600), win_seconds=(1800, 3600, 18000),
        tf_seconds=(900, 3600)),
    # 24/7 markets (crypto 1-minute bars): nothing that needs the CME calendar.
    "crypto_1m": FeatureSetSpec(
        name="crypto_1m", ret_seconds=(60, 300, 600, 1800, 3600),
        mom_seconds=(10800, 21600), win_seconds=(1800, 3600, 18000),
        tf_seconds=(900, 3600), exclude=_SESSION_FEATURES),
}

_DEF_CACHE: dict[str, list[FeatureDef]] = {}


def feature_set_spec(feature_set: str = "default") -> FeatureSetSpec:
    """The spec of a named feature set (raises ConfigError naming the choices)."""
    try:
        return _SPECS[feature_set]
    except KeyError:
        raise ConfigError(f"unknown feature set {feature_set!r}",
                          hint=f"use one of: {', '.join(sorted(_SPECS))}") from None


def feature_set_names() -> list[str]:
    """Names of every defined feature set."""
    return sorted(_SPECS)


def feature_defs(feature_set: str = "default") -> list[FeatureDef]:
    """The :class:`FeatureDef` of every feature in the set, in column order."""
    if feature_set not in _DEF_CACHE:
        _DEF_CACHE[feature_set] = _defs(feature_set_spec(feature_set))
    return list(_DEF_CACHE[feature_set])


def feature_names(feature_set: str = "default") -> list[str]:
    """Column names of ``compute_features`` / ``FeatureStream`` output, in order."""
    return [d.name for d in feature_defs(feature_set)]


def feature_versions(feature_set: str = "default") -> dict[str, int]:
    """``{name: version}`` of every feature in the set (store it with a model)."""
    return {d.name: d.version for d in feature_defs(feature_set)}


def feature_set_for(bar_seconds: float, *, sessions: bool = True) -> str:
    """The feature set meant for bars of ``bar_seconds`` (``sessions=False``: 24/7 markets).

    ``"default"`` uses 1-60 s lookbacks and 30 s-5 min windows: on 1-minute bars several of
    them would hold a single bar (vol_30s is then always NaN), hence the scaled sets.
    """
    if not sessions:
        return "crypto_1m"
    return "default" if bar_seconds < 30 else "default_1m"


def required_history(feature_set: str = "default") -> tuple[int, float]:
    """``(bars, seconds)`` of history after which every feature can be defined.

    The live engine should feed at least this much history through
    :meth:`core.features.FeatureStream.warm_up` before trusting predictions (both limits
    apply: e.g. EMA200 needs 200 bars, the 5-minute MTF trend 21 completed 5-minute buckets).
    """
    defs = feature_defs(feature_set)
    return (max(d.warmup_bars for d in defs), max(d.warmup_seconds for d in defs))


def feature_set_fingerprint(feature_set: str = "default") -> str:
    """Short hash of names, versions and parameters: equal fingerprints mean equal numbers."""
    payload = {"machinery": FEATURE_SET_VERSION, "set": feature_set,
               "features": [(d.name, d.version, d.params) for d in feature_defs(feature_set)],
               "spec": repr(feature_set_spec(feature_set))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()
                          ).hexdigest()[:16]


def colmap(feature_set: str = "default") -> np.ndarray:
    """Kernel slot of each output column."""
    return np.array([d.slot for d in feature_defs(feature_set)], dtype=np.int64)
