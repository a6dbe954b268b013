"""Profiles: TOML files turned into frozen, typed settings.

A profile (``profiles/*.toml``) holds every number the product trades by: costs, risk limits,
the end-of-day schedule, prop-firm rules, the strategy's bracket, the label and the venue.
:func:`load_profile` checks the whole file at once and raises one :class:`ConfigError`
listing *every* problem, each naming the file and the dotted key, with "did you mean …?"
suggestions for misspelt keys. Numbers must be finite, and limits positive and coherent with
each other and the starting balance: a ``nan`` or oversized limit would switch its rule off
without a word. :func:`set_profile_value` edits a profile in place with
tomlkit so the user's comments and layout survive.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from core import profile_files
from core.errors import ConfigError

#: The shipped (read-only) profiles; user profiles live in ``profile_files.user_profiles_dir()``.
PROFILES_DIR = profile_files.SHIPPED_DIR


# --------------------------------------------------------------------------- settings types
@dataclass(frozen=True, slots=True)
class CostSettings:
    """Trading costs per contract (requirements §2); crypto: fees and slippage in % / bps.

    Percentage-tick instruments (crypto pairs) pay ``maker_fee_pct``/``taker_fee_pct`` percent
    of the notional per side (default: the instrument's exchange fees) and slip
    ``slippage_bps`` basis points of the price (``slippage_bps_volatile`` when the volatility
    breaker is on; ``limit_slippage_bps`` for limit fills); the ``*_ticks`` keys are for
    futures. ``impact_bps`` adds market impact to every market order, for any instrument:
    ``impact_bps × √(order quantity ÷ the last completed bar's volume)`` (participation capped
    at 1).
    """

    commission_round_trip: float
    as_of: str
    slippage_ticks: float = 1.0
    slippage_ticks_eth: float = 2.0
    slippage_ticks_volatile: float = 3.0
    limit_slippage_ticks: float = 0.0
    maker_fee_pct: float | None = None
    taker_fee_pct: float | None = None
    slippage_bps: float | None = None
    slippage_bps_volatile: float | None = None
    limit_slippage_bps: float = 0.0
    impact_bps: float = 0.0


@dataclass(frozen=True, slots=True)
class LossPause:
    """Pause ``minutes`` after ``losses`` consecutive losing trades."""

    losses: int
    minutes: int


@dataclass(frozen=True, slots=True)
class SizeTier:
    """From ``min_balance`` up: at most ``max_contracts``, risking ``risk_pct`` of balance."""

    min_balance: float
    max_contracts: int
    risk_pct: float


@dataclass(frozen=True, slots=True)
class ConfidenceStep:
    """From ``min_confidence`` up, multiply the size by ``multiplier``."""

    min_confidence: float
    multiplier: float


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """Account protection rules (requirements §7)."""

    starting_balance: float
    max_daily_loss: float
    max_daily_drawdown: float
    max_risk_per_trade: float
    account_drawdown_stop: float
    kill_switch_loss: float
    min_balance: float
    min_confidence: float
    max_contracts: int
    size_tiers: tuple[SizeTier, ...]
    confidence_steps: tuple[ConfidenceStep, ...]
    loss_pauses: tuple[LossPause, ...] = ()
    volatility_breaker_multiple: float = 3.0
    volatility_breaker_action: str = "halve"
    spread_pause_ticks: float = 2.0
    spread_resume_ticks: float = 1.0
    volume_floor_ratio: float = 0.10
    volume_floor_action: str = "halve"
    #: "usd": the limits above are dollars. "percent": they are % of equity — the daily loss
    #: and drawdown of the day's starting balance, the risk per trade of the balance, the
    #: account drawdown of the peak balance, the kill switch, the minimum balance and the
    #: size tiers' min_balance of the starting balance — so one profile fits any capital.
    limits_unit: str = "usd"
    #: Position value cap in % of the balance (spot: 100 = no leverage); None = no cap.
    max_position_pct: float | None = None


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """End-of-day schedule in exchange-local wall time (DST-proof via core.calendar)."""

    timezone: str = "America/New_York"
    reduce_size_at: str = "16:00"
    reduce_factor: float = 0.5
    no_new_entries_at: str = "16:15"
    exit_at: str = "16:25"
    flat_at: str = "16:30"
    entries_resume_at: str | None = "09:30"
    rth_only: bool = True
    sessions: str = "cme"
    daily_cut: str = "00:00"
    close_margin_minutes: float = 5.0


@dataclass(frozen=True, slots=True)
class TopstepSettings:
    """Topstep account rules (topstepx-gateway.md §9); dated, Topstep changes them."""

    program: str
    account_size: int
    max_loss_limit: float
    max_minis: int
    as_of: str
    profit_target: float | None = None
    daily_loss_limit: float | None = None
    consistency_pct: float | None = None
    flat_by: str = "15:10"
    entries_blocked_until: str = "17:00"
    timezone: str = "America/Chicago"
    mll_trailing: str = "intraday"


@dataclass(frozen=True, slots=True)
class StrategySettings:
    """How predictions become bracketed trades, and the backtest's fill assumptions."""

    bracket: str = "fixed"
    stop_ticks: int = 8
    target_ticks: int = 12
    atr_multiple: float = 1.5
    atr_period: int = 14
    breakeven_after_ticks: int | None = None
    time_stop_minutes: float | None = 30.0
    entry_order: str = "market"
    cooldown_bars: int = 0
    on_opposite: str = "reverse"
    stop_fill: str = "stop_market"
    bracket_anchor: str = "reference"
    fill_mode: str = "realistic"
    slippage_model: str = "session"
    same_bar: str = "pessimistic"
    #: Percentage-tick instruments (crypto): stop and target in % of the price at the signal
    #: (instead of stop_ticks / target_ticks), rounded up to whole ticks.
    stop_pct: float | None = None
    target_pct: float | None = None


@dataclass(frozen=True, slots=True)
class LabelSettings:
    """The research target (requirements §5)."""

    kind: str = "direction"
    lookahead_seconds: int = 30
    threshold_ticks: float = 3.0
    threshold_pct: float | None = None


@dataclass(frozen=True, slots=True)
class VenueSettings:
    """Where live orders go. Secrets are never stored here: only the env var names."""

    kind: str = "sim"
    api_url: str = "https://api.topstepx.com"
    user_hub_url: str = "https://rtc.topstepx.com/hubs/user"
    market_hub_url: str = "https://rtc.topstepx.com/hubs/market"
    username_env: str = "TOPSTEPX_USERNAME"
    api_key_env: str = "TOPSTEPX_API_KEY"
    account_name: str | None = None
    symbol_id: str = "F.US.MES"
    #: OCO brackets: ``auto`` (native; client-side after the account refuses native ones),
    #: ``native`` (only native: a refusal is an alert), ``client`` (always client-side).
    brackets: str = "auto"


@dataclass(frozen=True, slots=True)
class Profile:
    """A whole profile, as loaded from one TOML file."""

    name: str
    instrument: str
    costs: CostSettings
    risk: RiskSettings
    description: str = ""
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    topstep: TopstepSettings | None = None
    strategy: StrategySettings = field(default_factory=StrategySettings)
    label: LabelSettings = field(default_factory=LabelSettings)
    venue: VenueSettings = field(default_factory=VenueSettings)
    path: Path | None = None
    extends: str | None = None  #: the base profile this one's file extends, if any


#: Allowed values of string settings (key → choices).
CHOICES: dict[str, tuple[str, ...]] = {
    "risk.volatility_breaker_action": ("halve", "pause"),
    "risk.volume_floor_action": ("halve", "pause"),
    "topstep.program": ("combine", "xfa"),
    "topstep.mll_trailing": ("intraday", "end_of_day"),
    "strategy.bracket": ("fixed", "atr", "structure"),
    "strategy.entry_order": ("market", "limit"),
    "strategy.fill_mode": ("conservative", "optimistic", "realistic"),
    "strategy.slippage_model": ("fixed", "session", "volatility"),
    "strategy.same_bar": ("pessimistic", "optimistic", "resolve"),
    "strategy.on_opposite": ("reverse", "exit", "ignore"),
    "strategy.stop_fill": ("stop_market", "at_stop"),
    "strategy.bracket_anchor": ("reference", "fill"),
    "schedule.sessions": ("cme", "continuous"),
    "risk.limits_unit": ("usd", "percent"),
    "label.kind": ("direction", "binary", "triple_barrier", "volatility"),
    "venue.kind": ("sim", "topstepx"),
    "venue.brackets": ("auto", "native", "client"),
}
_HHMM_KEYS = {"daily_cut", "reduce_size_at", "no_new_entries_at", "exit_at", "flat_at", "entries_resume_at",
              "flat_by", "entries_blocked_until"}
#: Keys that were renamed: the message says what to write instead of a bare "unknown key".
RENAMED: dict[str, str] = {
    "strategy.allow_reversal":
        'renamed: use on_opposite = "reverse" (was true) or "exit" (was false)',
}
_SECTIONS: dict[str, type] = {
    "costs": CostSettings, "risk": RiskSettings, "schedule": ScheduleSettings,
    "topstep": TopstepSettings, "strategy": StrategySettings, "label": LabelSettings,
    "venue": VenueSettings,
}


# --------------------------------------------------------------------------- building
class _Problems:
    """Collects every problem so the user fixes the whole file in one go."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[str] = []
        #: Keys already reported, so range checks do not pile a second message onto a key
        #: whose value is already known to be unusable (e.g. ``nan`` or a string).
        self.keys: set[str] = set()

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{self.file}: {key}: {message}")
        self.keys.add(key)


def _suggest(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _suggest_dotted(prefix: str, key: str, options: typing.Iterable[str]) -> str:
    """``(did you mean 'risk.max_daily_loss'?)`` — the key as the user must type it."""
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean '{prefix}.{close[0]}'?)" if prefix else f" (did you mean '{close[0]}'?)"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "none")


def _coerce(value: Any, tp: Any, key: str, probs: _Problems) -> Any:
    """Check ``value`` against the annotation ``tp``; return the typed value (or None on error)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _coerce(value, non_none[0], key, probs)
    if origin is tuple:
        item_tp = typing.get_args(tp)[0]
        if not isinstance(value, list):
            probs.add(key, f"expected a list (array of tables [[{key}]]), got {value!r}")
            return None
        out = [_coerce(v, item_tp, f"{key}[{i}]", probs) for i, v in enumerate(value)]
        return tuple(out)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            probs.add(key, f"expected a table, got {value!r}")
            return None
        return _build(tp, value, key, probs)
    if tp is bool:
        if not isinstance(value, bool):
            probs.add(key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            probs.add(key, f"expected a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            probs.add(key, f"expected a number, got {value!r}")
            return value
        value = float(value)
        if not math.isfinite(value):
            # TOML accepts nan/inf (and 1e400 overflows to inf); every comparison with nan is
            # False, so a nan limit would silently never trigger: refuse it here.
            probs.add(key, f"must be a finite number, got {value} (nan/inf switch the rule off); "
                      "write a plain number")
        return value
    if tp is str:
        if not isinstance(value, str):
            probs.add(key, f"expected a string, got {value!r}")
        return value
    return value


def _build(cls: type, table: dict[str, Any], prefix: str, probs: _Problems) -> Any:
    """Build dataclass ``cls`` from a TOML table, recording every problem."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in fields:
            # Suggest the full dotted key: "risk.max_daily_loss", not "max_daily_loss".
            probs.add(dotted, RENAMED.get(dotted) or "unknown key" + _suggest_dotted(
                prefix, key, fields))
            continue
        kwargs[key] = _coerce(value, hints[key], dotted, probs)
    for name, f in fields.items():
        if name not in kwargs and f.default is dataclasses.MISSING \
                and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
            dotted = f"{prefix}.{name}" if prefix else name
            probs.add(dotted, f"missing (required, {_type_name(hints[name])})")
    if any(v is None and not _optional(hints[k]) for k, v in kwargs.items()):
        return None
    try:
        return cls(**kwargs)
    except TypeError:
        return None


def _optional(tp: Any) -> bool:
    return type(None) in typing.get_args(tp)


def _fmt(x: float) -> str:
    """A number as a user would type it back into the TOML file (50, 0.6, 1e+12)."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.6g}"


class _Checker:
    """Range and coherence checks over one profile section, skipping unusable values.

    A value is usable when it is a real, finite number whose key has no problem yet (a key
    already reported as ``nan`` or as a string would otherwise produce a second, confusing
    message, or crash a comparison).
    """

    def __init__(self, obj: Any, section: str, probs: _Problems) -> None:
        self.obj = obj
        self.section = section
        self.probs = probs

    def key(self, name: str) -> str:
        return f"{self.section}.{name}"

    def num(self, name: str) -> float | None:
        """The usable numeric value of ``name``, or None (missing, unusable, already reported)."""
        val = getattr(self.obj, name)
        if self.key(name) in self.probs.keys or isinstance(val, bool) \
                or not isinstance(val, (int, float)) or not math.isfinite(val):
            return None
        return float(val)

    def add(self, name: str, message: str) -> None:
        self.probs.add(self.key(name), message)

    def at_least(self, name: str, low: float, fix: str) -> None:
        v = self.num(name)
        if v is not None and v < low:
            self.add(name, f"must be at least {_fmt(low)}, got {_fmt(v)}; {fix}")

    def above(self, name: str, low: float, fix: str) -> None:
        v = self.num(name)
        if v is not None and v <= low:
            self.add(name, f"must be greater than {_fmt(low)}, got {_fmt(v)}; {fix}")


def _check_values(prof: Profile, probs: _Problems) -> None:
    """Range and coherence checks that types alone cannot express.

    Every rule exists because a value outside it switches a protection off or makes it
    meaningless without any error (a daily loss larger than the account never fires; a trade
    risk above the day's budget makes the daily limit unreachable by design). Each message
    names the key, its value, the related key and value, and a fix. Sections that failed to
    build are skipped (their problems are already listed).
    """
    for dotted, choices in CHOICES.items():
        section, key = dotted.split(".")
        obj = getattr(prof, section)
        if obj is None or dotted in probs.keys:
            continue
        val = getattr(obj, key)
        if isinstance(val, str) and val not in choices:
            probs.add(dotted, f"{val!r} is not one of {', '.join(choices)}" + _suggest(str(val), choices))
    for section in ("schedule", "topstep"):
        obj = getattr(prof, section)
        if obj is None:
            continue
        for key in sorted(_HHMM_KEYS & {f.name for f in dataclasses.fields(obj)}):
            val = getattr(obj, key)
            if isinstance(val, str) and not _is_hhmm(val):
                probs.add(f"{section}.{key}", f"{val!r} is not a time like '16:30'")
    for section in ("schedule", "topstep"):
        obj = getattr(prof, section)
        tz = getattr(obj, "timezone", None)
        if isinstance(tz, str) and not _valid_tz(tz):
            probs.add(f"{section}.timezone", f"unknown time zone {tz!r} (e.g. America/Chicago)")
    if prof.risk is not None:
        _check_risk(_Checker(prof.risk, "risk", probs))
    if prof.costs is not None:
        _check_costs(_Checker(prof.costs, "costs", probs))
    if prof.schedule is not None:
        _check_schedule(_Checker(prof.schedule, "schedule", probs))
    if prof.topstep is not None:
        _check_topstep(_Checker(prof.topstep, "topstep", probs), prof)
    if prof.strategy is not None:
        _check_strategy(_Checker(prof.strategy, "strategy", probs))
    if prof.label is not None:
        _check_label(_Checker(prof.label, "label", probs))
    _check_percent(prof, probs)


def _check_risk(c: _Checker) -> None:
    """Account limits: positive, below the starting balance, and inside each other."""
    r = c.obj
    start = c.num("starting_balance")
    c.above("starting_balance", 0, "set the account's balance, e.g. 1000")
    if start is not None and start <= 0:
        start = None  # the limits below are relative to a usable balance only
    # With limits_unit = "percent" every limit is % of the balance: check them against 100.
    percent = r.limits_unit == "percent"
    if percent:
        start = 100.0
    base = "100 (limits are % of the balance)" if percent else \
        (f"risk.starting_balance ({_fmt(start)})" if start else "risk.starting_balance")
    # (key, ≤ allowed?, example fraction of the balance): a limit equal to the balance can
    # only fire once the account is empty, so the daily ones must be strictly below it.
    for name, inclusive, frac in (("max_daily_loss", False, 0.05), ("max_daily_drawdown", False, 0.075),
                                  ("account_drawdown_stop", True, 0.2), ("kill_switch_loss", True, 0.3)):
        v = c.num(name)
        if v is None:
            continue
        pct = f"{frac * 100:g} %"
        example = (f"e.g. {_fmt(start * frac)} ({pct} of the balance)" if start
                   else f"e.g. {pct} of the balance")
        bound = "at most" if inclusive else "below"
        if v <= 0 or (start is not None and (v > start if inclusive else v >= start)):
            c.add(name, f"must be greater than 0 and {bound} {base}, got {_fmt(v)}; {example}")
    mdl, mrt = c.num("max_daily_loss"), c.num("max_risk_per_trade")
    if mrt is not None:
        if mrt <= 0:
            c.add("max_risk_per_trade", f"must be greater than 0, got {_fmt(mrt)}; e.g. "
                  + (f"{_fmt(mdl / 2)} (half of risk.max_daily_loss)" if mdl and mdl > 0 else "25"))
        elif mdl is not None and mdl > 0 and mrt > mdl:
            c.add("max_risk_per_trade", f"{_fmt(mrt)} is above risk.max_daily_loss ({_fmt(mdl)}): "
                  "one trade may not risk more than the day's budget; "
                  f"set it ≤ {_fmt(mdl)}, e.g. {_fmt(mdl / 2)}")
    mb = c.num("min_balance")
    if mb is not None and (mb < 0 or (start is not None and mb >= start)):
        c.add("min_balance", f"must be at least 0 and below {base}, got {_fmt(mb)}; "
              f"e.g. {_fmt(start * 0.7) if start else 0} (no entries below it)")
    conf = c.num("min_confidence")
    if conf is not None and not 0.0 <= conf <= 1.0:
        c.add("min_confidence", f"must be between 0 and 1, got {_fmt(conf)}; e.g. 0.60 for 60 %")
    c.at_least("max_contracts", 1, "e.g. 1")
    c.above("volatility_breaker_multiple", 1,
            "the breaker trips when ATR exceeds this multiple of normal, e.g. 3.0 "
            "(a large number such as 1000 effectively disables it)")
    vfr = c.num("volume_floor_ratio")
    if vfr is not None and not 0.0 <= vfr < 1.0:
        c.add("volume_floor_ratio", f"must be at least 0 and below 1 (a fraction of average volume), "
              f"got {_fmt(vfr)}; e.g. 0.10")
    c.at_least("spread_pause_ticks", 0, "e.g. 2")
    c.at_least("spread_resume_ticks", 0, "e.g. 1")
    sp, sr = c.num("spread_pause_ticks"), c.num("spread_resume_ticks")
    if sp is not None and sr is not None and sp >= 0 and sr > sp:
        c.add("spread_resume_ticks", f"{_fmt(sr)} is above risk.spread_pause_ticks ({_fmt(sp)}); "
              f"resume at or below the pause level, e.g. {_fmt(max(sp - 1, 0))}")
    _check_rows(c, "size_tiers", r.size_tiers, SizeTier, order_by="min_balance", rules=(
        ("min_balance", lambda v: v >= 0, "must be at least 0", "e.g. 700"),
        ("max_contracts", lambda v: v >= 1, "must be at least 1", "e.g. 1"),
        ("risk_pct", lambda v: 0 < v < 0.2, "must be a fraction above 0 and below 0.2",
         "e.g. 0.02 for 2 %"),
    ))
    if not r.size_tiers and c.key("size_tiers") not in c.probs.keys:
        c.add("size_tiers", "at least one [[risk.size_tiers]] table is required")
    _check_rows(c, "confidence_steps", r.confidence_steps, ConfidenceStep, order_by="min_confidence", rules=(
        ("min_confidence", lambda v: 0 <= v <= 1, "must be between 0 and 1", "e.g. 0.60"),
        ("multiplier", lambda v: 0 < v <= 4, "must be above 0 and at most 4", "e.g. 1.0"),
    ))
    _check_rows(c, "loss_pauses", r.loss_pauses, LossPause, order_by="losses", rules=(
        ("losses", lambda v: v >= 1, "must be at least 1", "e.g. 3"),
        ("minutes", lambda v: v >= 0, "must be at least 0", "e.g. 15"),
    ))


def _check_rows(c: _Checker, name: str, rows: Any, cls: type, *, order_by: str,
                rules: tuple[tuple[str, Callable[[float], bool], str, str], ...]) -> None:
    """Per-row ranges of an array of tables, and strictly ascending ``order_by``.

    Strictly: of two rows with the same threshold one can never apply, which is never what
    the user meant.
    """
    if not isinstance(rows, tuple):
        return
    keys: list[float] = []
    for i, row in enumerate(rows):
        if not isinstance(row, cls):
            continue  # failed to build: already reported
        rc = _Checker(row, f"{c.key(name)}[{i}]", c.probs)
        for field_name, ok, rule, example in rules:
            v = rc.num(field_name)
            if v is not None and not ok(v):
                rc.add(field_name, f"{rule}, got {_fmt(v)}; {example}")
        v = rc.num(order_by)
        if v is not None:
            keys.append(v)
    if keys != sorted(set(keys)) and len(keys) == len(rows):
        c.add(name, f"rows must be in strictly ascending {order_by} order, got "
              f"{', '.join(_fmt(k) for k in keys)}; reorder the [[{c.key(name)}]] tables")


def _check_costs(c: _Checker) -> None:
    """Costs are never negative (a negative cost would pay the strategy to trade)."""
    c.at_least("commission_round_trip", 0, "e.g. 0.84 ($ per contract, round trip)")
    for name in ("slippage_ticks", "slippage_ticks_eth", "slippage_ticks_volatile", "limit_slippage_ticks"):
        c.at_least(name, 0, "slippage is in ticks against you, e.g. 1.0")


def _hhmm_minutes(c: _Checker, name: str) -> int | None:
    val = getattr(c.obj, name)
    if c.key(name) in c.probs.keys or not isinstance(val, str) or not _is_hhmm(val):
        return None
    h, m = val.split(":")
    return int(h) * 60 + int(m)


#: The end-of-day steps, in the order they must happen.
_EOD_ORDER = ("reduce_size_at", "no_new_entries_at", "exit_at", "flat_at")


def _check_schedule(c: _Checker) -> None:
    """Reduce factor, close margin, and (on CME sessions) the end-of-day steps in order."""
    rf = c.num("reduce_factor")
    if rf is not None and not 0 < rf <= 1:
        c.add("reduce_factor", f"must be above 0 and at most 1, got {_fmt(rf)}; e.g. 0.5 halves new size")
    cm = c.num("close_margin_minutes")
    if cm is not None and not 0 <= cm < 120:
        c.add("close_margin_minutes", f"must be at least 0 and below 120, got {_fmt(cm)}; e.g. 5")
    if c.obj.sessions != "cme":
        return  # continuous markets have no end-of-day flatten
    for early, late in zip(_EOD_ORDER, _EOD_ORDER[1:]):
        a, b = _hhmm_minutes(c, early), _hhmm_minutes(c, late)
        if a is not None and b is not None and a > b:
            c.add(late, f"{getattr(c.obj, late)!r} is before schedule.{early} "
                  f"({getattr(c.obj, early)!r}); the steps must run {' ≤ '.join(_EOD_ORDER)}: "
                  f"move {late} to {getattr(c.obj, early)!r} or later, or {early} earlier")


def _check_topstep(c: _Checker, prof: Profile) -> None:
    """Topstep rules against each other and the account's starting balance."""
    t = c.obj
    c.above("account_size", 0, "e.g. 50000")
    c.at_least("max_minis", 1, "e.g. 5 for the 50K")
    start = None
    if prof.risk is not None:
        start = _Checker(prof.risk, "risk", c.probs).num("starting_balance")
    size = c.num("account_size")
    if start is not None and size is not None and size > 0 and start != size:
        # The MLL locks at risk.starting_balance (core/risk), so it must be the account's size
        # (XFA profiles use the nominal basis: 50,000 = the displayed $0).
        c.probs.add("risk.starting_balance", f"{_fmt(start)} differs from topstep.account_size "
                    f"({_fmt(size)}); a Topstep account starts at its size: set it to {_fmt(size)}")
    mll = c.num("max_loss_limit")
    # An XFA's MLL is fixed at $0 after the first payout (profiles/README.md): any loss below
    # the start halts. That 0 is a real rule, not a switched-off one, so XFA may use it.
    mll_floor_ok = t.program == "xfa" and mll == 0
    too_big = mll is not None and start is not None and start > 0 and mll >= start
    if mll is not None and not mll_floor_ok and (mll <= 0 or too_big):
        limit = f" and below risk.starting_balance ({_fmt(start)})" if start and start > 0 else ""
        c.add("max_loss_limit", f"must be greater than 0{limit}, got {_fmt(mll)}; e.g. 2000 for the 50K"
              + (" (0 is allowed only for an XFA after its first payout)" if mll == 0 else ""))
    dll = None if t.daily_loss_limit is None else c.num("daily_loss_limit")
    if dll is not None:
        if dll <= 0:
            c.add("daily_loss_limit", f"must be greater than 0, got {_fmt(dll)}; "
                  "delete the line if you did not buy the daily loss limit")
        elif mll is not None and mll > 0 and dll > mll:
            c.add("daily_loss_limit", f"{_fmt(dll)} is above topstep.max_loss_limit ({_fmt(mll)}) so it "
                  f"could never trigger; set it ≤ {_fmt(mll)}, or delete the line if you did not buy it")
    if t.profit_target is not None:
        c.above("profit_target", 0, "e.g. 3000 for the 50K, or delete the line (XFA has none)")
    cp = None if t.consistency_pct is None else c.num("consistency_pct")
    if cp is not None and not 0 < cp <= 1:
        c.add("consistency_pct", f"must be a fraction above 0 and at most 1, got {_fmt(cp)}; "
              "e.g. 0.50 for 50 %")
    # Our must-be-flat time has to come before Topstep's own deadline (same zone only:
    # comparing wall times across zones would need a date).
    sch = prof.schedule
    if sch is not None and sch.sessions == "cme" and sch.timezone == t.timezone:
        ours = _hhmm_minutes(_Checker(sch, "schedule", c.probs), "flat_at")
        theirs = _hhmm_minutes(c, "flat_by")
        if ours is not None and theirs is not None and ours > theirs:
            c.probs.add("schedule.flat_at", f"{sch.flat_at!r} is after topstep.flat_by ({t.flat_by!r}); "
                        f"be flat before Topstep's deadline, e.g. 5 minutes earlier")


def _check_strategy(c: _Checker) -> None:
    """Bracket sizes and timers (a zero/negative stop would never trigger or always trigger)."""
    s = c.obj
    c.above("stop_ticks", 0, "e.g. 8")
    c.above("target_ticks", 0, "e.g. 12")
    c.above("atr_multiple", 0, "e.g. 1.5")
    c.at_least("atr_period", 1, "e.g. 14")
    cd = c.num("cooldown_bars")
    if cd is not None and cd < 0:
        c.add("cooldown_bars", f"must be at least 0, got {_fmt(cd)}; 0 now lets a signal on the exit "
              "bar itself enter (it used to need -1)")
    if s.time_stop_minutes is not None:
        c.above("time_stop_minutes", 0, "e.g. 30, or delete the line for no time stop")
    if s.breakeven_after_ticks is not None:
        c.at_least("breakeven_after_ticks", 0, "e.g. 6, or delete the line to never move the stop")


def _check_percent(prof: Profile, probs: _Problems) -> None:
    """Percentage-tick instruments (crypto) trade by % and bps keys; futures by ticks.

    A crypto pair's tick (0.01 USDT on a 40,000 USDT price) makes a stop of 8 ticks a
    0.0002 % stop: such a profile must say its bracket in % (and its slippage in bps) —
    and a futures profile must not carry crypto keys that would be silently ignored.
    """
    from core.domain import INSTRUMENTS, root_of

    inst = INSTRUMENTS.get(root_of(prof.instrument)) if isinstance(prof.instrument, str) else None
    if inst is None or prof.costs is None or prof.strategy is None or prof.risk is None:
        return
    costs, strat = _Checker(prof.costs, "costs", probs), _Checker(prof.strategy, "strategy", probs)
    risk = _Checker(prof.risk, "risk", probs)
    pct_keys = (("costs", "slippage_bps"), ("costs", "slippage_bps_volatile"),
                ("costs", "maker_fee_pct"), ("costs", "taker_fee_pct"),
                ("strategy", "stop_pct"), ("strategy", "target_pct"))
    mp = risk.num("max_position_pct") if prof.risk.max_position_pct is not None else None
    if mp is not None and not 0 < mp <= 1000:
        risk.add("max_position_pct", f"must be above 0 and at most 1000 (percent of the balance), "
                 f"got {_fmt(mp)}; e.g. 100 for spot without leverage")
    costs.at_least("impact_bps", 0, "market impact is in basis points against you, e.g. 10")
    if not inst.percent:
        for section, key in pct_keys:
            if getattr(getattr(prof, section), key) is not None:
                probs.add(f"{section}.{key}", f"only for percentage-tick instruments (crypto); "
                          f"{inst.symbol} trades in ticks: delete the line")
        return
    for key, example in (("stop_pct", "0.5"), ("target_pct", "0.75")):
        if prof.strategy.bracket == "fixed" and getattr(prof.strategy, key) is None:
            probs.add(f"strategy.{key}", f"missing: {inst.symbol} is a percentage-tick "
                      f"instrument, so a fixed bracket is set in % of the price, e.g. {example}")
        elif getattr(prof.strategy, key) is not None:
            strat.above(key, 0, f"e.g. {example} (percent of the price)")
    sp = strat.num("stop_pct")
    if sp is not None and sp >= 50:
        strat.add("stop_pct", f"must be below 50 (percent of the price), got {_fmt(sp)}; e.g. 0.5")
    if prof.costs.slippage_bps is None:
        probs.add("costs.slippage_bps", f"missing: {inst.symbol} slips in basis points of the "
                  "price; e.g. 1.0 (market orders), and slippage_bps_volatile e.g. 3.0")
    for key in ("slippage_bps", "slippage_bps_volatile", "limit_slippage_bps"):
        if getattr(prof.costs, key) is not None:
            costs.at_least(key, 0, "slippage is in basis points against you, e.g. 1.0")
    for key in ("maker_fee_pct", "taker_fee_pct"):
        v = costs.num(key) if getattr(prof.costs, key) is not None else None
        if v is not None and not 0 <= v < 5:
            costs.add(key, f"must be at least 0 and below 5 (percent of the notional per side), "
                      f"got {_fmt(v)}; e.g. 0.1 for Binance's regular spot fee")


def _check_label(c: _Checker) -> None:
    """The research target's horizon and thresholds."""
    c.above("lookahead_seconds", 0, "e.g. 30")
    c.at_least("threshold_ticks", 0, "e.g. 3")
    if c.obj.threshold_pct is not None:
        c.above("threshold_pct", 0, "e.g. 0.75 (percent of the close), or delete the line to "
                "use threshold_ticks")


def _is_hhmm(text: str) -> bool:
    parts = text.split(":")
    return (len(parts) == 2 and all(p.isdigit() for p in parts)
            and 0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60)


def _valid_tz(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


# --------------------------------------------------------------------------- public API
def resolve_profile_path(name_or_path: str | Path) -> Path:
    """Turn ``demo``, ``mine`` or ``profiles/demo.toml`` into an existing path.

    A bare name is looked up as ``NAME.toml`` in the current directory, then in the user
    profile directory, then among the shipped profiles (``core.profile_files.find``).

    Raises:
        ConfigError: If no such profile exists (lists the known profiles).
    """
    p = Path(name_or_path)
    found = profile_files.find(name_or_path)
    if found is not None:
        return found
    known = profile_files.known_names()
    raise ConfigError(
        f"profile not found: {name_or_path}" + _suggest(p.stem, known),
        hint=f"use a path to a .toml file or one of: {', '.join(known) or '(none shipped)'}",
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """Load and check a profile.

    Args:
        name_or_path: A path to a TOML file, or the name of a shipped profile (``demo``).

    Returns:
        The frozen :class:`Profile`.

    Raises:
        ConfigError: Listing every problem found, each with file and dotted key.
    """
    path = resolve_profile_path(name_or_path)
    raw, chain = profile_files.read_merged(path)
    return _from_chain(raw, path, chain)


def _from_chain(raw: dict[str, Any], path: Path, chain: list[Path]) -> Profile:
    """Check a merged mapping; problems name the file and the profiles it extends."""
    source = str(path) + (f" (extends {' → '.join(c.stem for c in chain[1:])})"
                          if len(chain) > 1 else "")
    return profile_from_dict(raw, source=source, path=path,
                             extends=chain[1].stem if len(chain) > 1 else None)


def profile_from_dict(raw: dict[str, Any], *, source: str = "<profile>",
                      path: Path | None = None, extends: str | None = None) -> Profile:
    """Build a :class:`Profile` from an already-parsed TOML mapping (see :func:`load_profile`)."""
    probs = _Problems(source)
    head = dict(raw.get("profile", {})) if isinstance(raw.get("profile", {}), dict) else {}
    allowed_top = set(_SECTIONS) | {"profile"}
    for key in raw:
        if key not in allowed_top:
            probs.add(key, "unknown section" + _suggest(key, allowed_top))
    for key in head:
        if key not in ("name", "description", "instrument"):
            probs.add(f"profile.{key}", "unknown key" + _suggest(key, ("name", "description", "instrument")))
    kwargs: dict[str, Any] = {
        "name": head.get("name", path.stem if path else "profile"),
        "description": head.get("description", ""),
        "instrument": head.get("instrument", "MES"),
    }
    if not isinstance(kwargs["instrument"], str):
        probs.add("profile.instrument", "expected a symbol string such as 'MES'")
    else:
        from core.domain import INSTRUMENTS, root_of
        if root_of(kwargs["instrument"]) not in INSTRUMENTS:
            probs.add("profile.instrument", f"unknown instrument {kwargs['instrument']!r}"
                      + _suggest(kwargs["instrument"], INSTRUMENTS))
    for section, cls in _SECTIONS.items():
        table = raw.get(section)
        if table is None:
            if section in ("costs", "risk"):
                probs.add(section, f"missing [{section}] section (required)")
            continue
        if not isinstance(table, dict):
            probs.add(section, "expected a table")
            continue
        kwargs[section] = _build(cls, table, section, probs)
    prof: Profile | None = None
    if all(kwargs.get(s) is not None for s in ("costs", "risk")):
        prof = Profile(path=path, extends=extends, **kwargs)
        # Range and coherence checks run even when other keys have type problems, so one
        # validate run lists everything; they skip keys that already have a problem.
        _check_values(prof, probs)
    if probs.items or prof is None:
        n = len(probs.items)
        raise ConfigError(f"{source}: {n} problem{'s' if n != 1 else ''} in profile",
                          problems=probs.items,
                          hint="fix every line above; see profiles/README.md for each key")
    return prof


def set_profile_value(path: str | Path, dotted_key: str, value: str) -> Profile:
    """Set one key in a profile file, keeping the user's comments and layout (tomlkit).

    The value is parsed as TOML (``60``, ``0.65``, ``true``, ``"16:30"``); bare words are
    taken as strings. The edited file is checked before it replaces the original, so a bad
    value never reaches disk.

    Args:
        path: The profile file.
        dotted_key: ``section.key`` such as ``risk.max_daily_loss``.
        value: The new value as text.

    Returns:
        The re-loaded profile.

    Raises:
        ConfigError: If the key is unknown or the edited profile would be invalid.
    """
    path = resolve_profile_path(path)
    if profile_files.is_shipped(path):
        mine = f"my_{path.stem}"
        raise ConfigError(
            f"{path.stem} is a shipped profile ({path}) and is read-only",
            hint=f"copy it into your own profiles and change the copy: scalpdesk profile new "
                 f"{mine} --from {path.stem}, then scalpdesk profile set {mine} {dotted_key} {value}")
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    row = _ROW_KEY.match(dotted_key)
    if row:  # risk.confidence_steps[0].min_confidence: one field of an array-of-tables row
        text = _set_row(path, doc, row.group(1), row.group(2), int(row.group(3)), row.group(4),
                        _parse_value(value))
        raw, chain = profile_files.merge_extends(tomllib.loads(text), path)
        prof = _from_chain(raw, path, chain)
        profile_files.write_atomic(path, text)
        return prof
    section, key = _split_key(path, dotted_key)
    cls = _SECTIONS.get(section)
    allowed = {f.name for f in dataclasses.fields(cls)} if cls else {"name", "description", "instrument"}
    if dotted_key in RENAMED:
        raise ConfigError(f"{path}: {dotted_key}: {RENAMED[dotted_key]}",
                          hint=f"keys of [{section}]: {', '.join(sorted(allowed))}")
    if key not in allowed:
        raise ConfigError(f"{path}: unknown key {dotted_key!r}" + _suggest_dotted(section, key, allowed),
                          hint=f"keys of [{section}]: {', '.join(sorted(allowed))}")
    parsed = _parse_value(value)
    if section not in doc:
        doc[section] = tomlkit.table()
    doc[section][key] = parsed  # type: ignore[index]
    text = tomlkit.dumps(doc)
    raw, chain = profile_files.merge_extends(tomllib.loads(text), path)
    prof = _from_chain(raw, path, chain)
    profile_files.write_atomic(path, text)
    return prof


_ROW_KEY = re.compile(r"^(\w+)\.(\w+)\[(\d+)\]\.(\w+)$")


def _parse_value(value: str) -> Any:
    """A value typed on the command line, read as TOML; a bare word is a string."""
    try:
        return tomlkit.parse(f"v = {value}")["v"]
    except Exception:  # a bare word such as halve
        return value


def _set_row(path: Path, doc: Any, section: str, array: str, index: int, field_name: str,
             value: Any) -> str:
    """Set ``section.array[index].field`` in the document; return the edited TOML text.

    A profile that extends another and has no such array yet gets a copy of the inherited
    rows first (an array of tables replaces the base's whole array, so a lone row would
    silently drop the others).

    Raises:
        ConfigError: Unknown array or field, or an index past the last row.
    """
    cls = _SECTIONS.get(section)
    hints = typing.get_type_hints(cls) if cls else {}
    row_tp = typing.get_args(hints.get(array, None))[:1]
    if not row_tp or not dataclasses.is_dataclass(row_tp[0]):
        arrays = [f"{s}.{n}" for s, c in _SECTIONS.items() for n, t in typing.get_type_hints(c).items()
                  if typing.get_origin(t) is tuple]
        raise ConfigError(f"{path}: {section}.{array} is not an array of tables",
                          hint=f"rows can be set in: {', '.join(arrays)}")
    fields = [f.name for f in dataclasses.fields(row_tp[0])]
    if field_name not in fields:
        raise ConfigError(f"{path}: {section}.{array}[{index}] has no key {field_name!r}"
                          + _suggest_dotted(f"{section}.{array}[{index}]", field_name, fields),
                          hint=f"keys of a row: {', '.join(fields)}")
    if section not in doc:
        doc[section] = tomlkit.table()
    table = doc[section]
    if array not in table:
        current = getattr(load_profile(path), section)
        aot = tomlkit.aot()
        for r in getattr(current, array):
            t = tomlkit.table()
            for f in fields:
                t.add(f, getattr(r, f))
            aot.append(t)
        table[array] = aot
    rows = table[array]
    if index >= len(rows):
        raise ConfigError(f"{path}: {section}.{array} has {len(rows)} row(s); [{index}] is past "
                          "the last", hint=f"use an index from 0 to {len(rows) - 1}")
    rows[index][field_name] = value
    return tomlkit.dumps(doc)


def _split_key(path: Path, dotted_key: str) -> tuple[str, str]:
    """``risk.max_daily_loss`` → ``("risk", "max_daily_loss")``; a bare or misplaced key gets
    the full dotted key it probably meant."""
    parts = dotted_key.split(".")
    if len(parts) == 2 and (parts[0] in _SECTIONS or parts[0] == "profile"):
        return parts[0], parts[1]
    key = parts[-1]
    homes = [f"{sec}.{key}" for sec, cls in _SECTIONS.items()
             if key in {f.name for f in dataclasses.fields(cls)}]
    if len(parts) == 2 and not homes:
        raise ConfigError(f"{path}: unknown section {parts[0]!r}" + _suggest(parts[0], _SECTIONS),
                          hint=f"sections: profile, {', '.join(_SECTIONS)}")
    raise ConfigError(f"{path}: key {dotted_key!r} must look like section.key"
                      + (f" (did you mean '{homes[0]}'?)" if homes else ""),
                      hint=f"for example: {homes[0] if homes else 'risk.max_daily_loss'}")


def profile_value(prof: Profile, dotted_key: str) -> Any:
    """The current value of ``section.key`` (or ``section.array[i].key``) in a loaded profile
    (None when unset)."""
    row = _ROW_KEY.match(dotted_key)
    if row:
        rows = getattr(getattr(prof, row.group(1), None), row.group(2), ())
        i = int(row.group(3))
        return getattr(rows[i], row.group(4), None) if i < len(rows) else None
    section, _, key = dotted_key.partition(".")
    obj = prof if section == "profile" else getattr(prof, section, None)
    return getattr(obj, key, None) if obj is not None else None


def profile_to_dict(prof: Profile) -> dict[str, Any]:
    """A plain dict of the profile (for reports and model cards); ``path`` as a string."""
    out = dataclasses.asdict(prof)
    out["path"] = str(prof.path) if prof.path else None
    return out
