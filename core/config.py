"""Profiles: TOML files turned into frozen, typed settings.

A profile (``profiles/*.toml``) holds every number the product trades by: costs, risk limits,
the end-of-day schedule, prop-firm rules, the strategy's bracket, the label and the venue.
:func:`load_profile` checks the whole file at once and raises one :class:`ConfigError`
listing *every* problem, each naming the file and the dotted key, with "did you mean …?"
suggestions for misspelt keys. :func:`set_profile_value` edits a profile in place with
tomlkit so the user's comments and layout survive.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from core.errors import ConfigError

#: Where bare profile names (``demo``) are looked up; overridable for tests and installs.
PROFILES_DIR = Path(os.environ.get("SCALPDESK_PROFILES", Path(__file__).resolve().parents[1] / "profiles"))


# --------------------------------------------------------------------------- settings types
@dataclass(frozen=True, slots=True)
class CostSettings:
    """Trading costs per contract (requirements §2)."""

    commission_round_trip: float
    as_of: str
    slippage_ticks: float = 1.0
    slippage_ticks_eth: float = 2.0
    slippage_ticks_volatile: float = 3.0
    limit_slippage_ticks: float = 0.0


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


#: Allowed values of string settings (key → choices).
CHOICES: dict[str, tuple[str, ...]] = {
    "risk.volatility_breaker_action": ("halve", "pause"),
    "risk.volume_floor_action": ("halve", "pause"),
    "topstep.program": ("combine", "xfa"),
    "strategy.bracket": ("fixed", "atr", "structure"),
    "strategy.entry_order": ("market", "limit"),
    "strategy.fill_mode": ("conservative", "optimistic", "realistic"),
    "strategy.slippage_model": ("fixed", "session", "volatility"),
    "strategy.same_bar": ("pessimistic", "optimistic", "resolve"),
    "strategy.on_opposite": ("reverse", "exit", "ignore"),
    "strategy.stop_fill": ("stop_market", "at_stop"),
    "strategy.bracket_anchor": ("reference", "fill"),
    "schedule.sessions": ("cme", "continuous"),
    "label.kind": ("direction", "binary", "triple_barrier", "volatility"),
    "venue.kind": ("sim", "topstepx"),
}
_HHMM_KEYS = {"daily_cut", "reduce_size_at", "no_new_entries_at", "exit_at", "flat_at", "entries_resume_at",
              "flat_by", "entries_blocked_until"}
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

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{self.file}: {key}: {message}")


def _suggest(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
        return float(value)
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
            probs.add(dotted, "unknown key" + _suggest(key, fields))
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


def _check_values(prof: Profile, probs: _Problems) -> None:
    """Range and consistency checks that types alone cannot express."""
    for dotted, choices in CHOICES.items():
        section, key = dotted.split(".")
        obj = getattr(prof, section)
        if obj is None:
            continue
        val = getattr(obj, key)
        if val not in choices:
            probs.add(dotted, f"{val!r} is not one of {', '.join(choices)}" + _suggest(str(val), choices))
    for section in ("schedule", "topstep"):
        obj = getattr(prof, section)
        if obj is None:
            continue
        for key in _HHMM_KEYS & {f.name for f in dataclasses.fields(obj)}:
            val = getattr(obj, key)
            if val is not None and not _is_hhmm(val):
                probs.add(f"{section}.{key}", f"{val!r} is not a time like '16:30'")
    r = prof.risk
    for key in ("starting_balance", "max_daily_loss", "max_daily_drawdown", "max_risk_per_trade",
                "account_drawdown_stop", "kill_switch_loss"):
        if getattr(r, key) <= 0:
            probs.add(f"risk.{key}", "must be greater than 0")
    if not 0.0 <= r.min_confidence <= 1.0:
        probs.add("risk.min_confidence", "must be between 0 and 1 (e.g. 0.60)")
    if r.max_contracts < 1:
        probs.add("risk.max_contracts", "must be at least 1")
    if not r.size_tiers:
        probs.add("risk.size_tiers", "at least one [[risk.size_tiers]] table is required")
    balances = [t.min_balance for t in r.size_tiers]
    if balances != sorted(balances):
        probs.add("risk.size_tiers", "tiers must be in ascending min_balance order")
    for i, t in enumerate(r.size_tiers):
        if not 0 < t.risk_pct < 0.2:
            probs.add(f"risk.size_tiers[{i}].risk_pct", "must be a fraction such as 0.02 (2 %)")
    steps = [s.min_confidence for s in r.confidence_steps]
    if steps != sorted(steps):
        probs.add("risk.confidence_steps", "steps must be in ascending min_confidence order")
    if prof.costs.commission_round_trip < 0:
        probs.add("costs.commission_round_trip", "must not be negative")
    s = prof.strategy
    if s.stop_ticks <= 0 or s.target_ticks <= 0:
        probs.add("strategy.stop_ticks", "stop_ticks and target_ticks must be positive")
    for section, tz in (("schedule", prof.schedule.timezone),
                        ("topstep", prof.topstep.timezone if prof.topstep else None)):
        if tz is not None and not _valid_tz(tz):
            probs.add(f"{section}.timezone", f"unknown time zone {tz!r} (e.g. America/Chicago)")


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
    """Turn ``demo`` or ``profiles/demo.toml`` into an existing path.

    Raises:
        ConfigError: If no such profile exists (lists the shipped profiles).
    """
    p = Path(name_or_path)
    candidates = [p] if p.suffix else [p.with_suffix(".toml"), PROFILES_DIR / f"{p.name}.toml"]
    for c in candidates:
        if c.is_file():
            return c
    known = sorted(x.stem for x in PROFILES_DIR.glob("*.toml")) if PROFILES_DIR.is_dir() else []
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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}",
                          hint="check quotes, brackets and '=' on the line shown") from None
    return profile_from_dict(raw, source=str(path), path=path)


def profile_from_dict(raw: dict[str, Any], *, source: str = "<profile>",
                      path: Path | None = None) -> Profile:
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
    if not probs.items:
        prof = Profile(path=path, **kwargs)
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
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    parts = dotted_key.split(".")
    if len(parts) != 2:
        raise ConfigError(f"{path}: key {dotted_key!r} must look like section.key",
                          hint="for example: risk.max_daily_loss")
    section, key = parts
    cls = _SECTIONS.get(section)
    allowed = {f.name for f in dataclasses.fields(cls)} if cls else {"name", "description", "instrument"}
    if section != "profile" and cls is None:
        raise ConfigError(f"{path}: unknown section {section!r}" + _suggest(section, _SECTIONS),
                          hint=f"sections: profile, {', '.join(_SECTIONS)}")
    if key not in allowed:
        raise ConfigError(f"{path}: unknown key {dotted_key!r}" + _suggest(key, allowed),
                          hint=f"keys of [{section}]: {', '.join(sorted(allowed))}")
    try:
        parsed = tomlkit.parse(f"v = {value}")["v"]
    except Exception:  # a bare word such as halve: treat as a string
        parsed = value
    if section not in doc:
        doc[section] = tomlkit.table()
    doc[section][key] = parsed  # type: ignore[index]
    text = tomlkit.dumps(doc)
    prof = profile_from_dict(tomllib.loads(text), source=str(path), path=path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return prof


def profile_to_dict(prof: Profile) -> dict[str, Any]:
    """A plain dict of the profile (for reports and model cards); ``path`` as a string."""
    out = dataclasses.asdict(prof)
    out["path"] = str(prof.path) if prof.path else None
    return out
