"""The live engine's events (what happened) and intents (what the operator asks for).

Events flow out of the engine to its subscribers — the journal, the control socket, the
headless logger, metrics — and intents flow back in through the control socket
(ARCHITECTURE.md idea 5). Everything here is venue-neutral: no gateway codes.

Conventions:

* times are ``int`` UTC nanoseconds since the epoch (``ts_ns``);
* sides and directions are ints: ``+1`` buy / long, ``-1`` sell / short (``0`` flat / none);
* order types and states are lowercase strings (``"market"``, ``"working"``…);
* every class is a frozen, slotted dataclass of plain values, so an event can be shared
  between subscribers without copying and serialised without a custom encoder.

:func:`to_dict` gives a JSON-ready mapping with a ``"type"`` key (the class name) and
:func:`from_dict` rebuilds the exact object (``from_dict(to_dict(x)) == x``), refusing an unknown
type, a missing field or (by default) an unexpected one — a journal must never hold an event it
cannot read back.

Coalescing: a consumer that falls behind (a slow socket client, a UI rendering ~10 times a
second) may replace a queued event by a newer one when :func:`coalesce_key` gives both the same
key. Only :class:`QuoteUpdated` is replaceable, per ``contract_id`` (the latest top of book is all
anyone needs). Every other event carries a transition that must not be lost, so its key is
``None``: it is never replaced, and a consumer that has to drop one must count and report it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

ORDER_STATES = frozenset({"intent", "submitted", "working", "pending_update", "pending_cancel",
                          "filled", "cancelled", "rejected", "refused", "unknown", "expired"})
SIGNAL_ACTIONS = frozenset({"entry", "exit", "reverse", "none"})
ALERT_LEVELS = frozenset({"info", "warning", "critical"})


def _check(value: str, allowed: frozenset[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(sorted(allowed))}; got {value!r}")


# ---------------------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class QuoteUpdated:
    """Top of book changed (fields a sparse venue update omitted are ``None``).

    Replaceable: a newer quote for the same ``contract_id`` supersedes this one.
    """

    contract_id: str
    bid: float | None
    ask: float | None
    last: float | None
    volume: float | None
    ts_ns: int

    def can_replace(self, other: object) -> bool:
        """Whether this quote may take ``other``'s place in a queue (same contract's quote)."""
        return isinstance(other, QuoteUpdated) and other.contract_id == self.contract_id


@dataclass(frozen=True, slots=True)
class BarClosed:
    """A bar of the model's size closed; ``ts_ns`` is the bar's *start*."""

    contract_id: str
    ts_ns: int
    bar_seconds: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class PredictionMade:
    """A model predicted on a closed bar (``shadow`` models predict without trading)."""

    ts_ns: int
    model: str
    direction: int
    confidence: float
    probabilities: tuple[float, ...]
    predicted_move: float
    latency_us: float
    shadow: bool


@dataclass(frozen=True, slots=True)
class SignalDecided:
    """What the decision step made of a prediction; ``denied_code`` is the risk kernel's code
    when the risk check refused the entry (None otherwise)."""

    ts_ns: int
    action: str
    direction: int
    confidence: float
    contracts: int
    reason: str
    denied_code: int | None

    def __post_init__(self) -> None:
        _check(self.action, SIGNAL_ACTIONS, "SignalDecided.action")


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """One of the engine's orders changed state (``tag`` is its deterministic client tag).

    The order type is ``order_type`` (``"market"``, ``"stop"``…), not ``type``: that key of
    :func:`to_dict` names the event class.
    """

    ts_ns: int
    tag: str
    order_id: int | None
    state: str
    side: int
    order_type: str
    size: int
    filled: int
    limit_price: float | None
    stop_price: float | None
    reason: str

    def __post_init__(self) -> None:
        _check(self.state, ORDER_STATES, "OrderUpdated.state")


@dataclass(frozen=True, slots=True)
class FillReceived:
    """A half-turn execution reported by the broker (``tag`` None: not one of our orders)."""

    ts_ns: int
    fill_id: int
    order_id: int
    tag: str | None
    contract_id: str
    side: int
    size: int
    price: float
    fees: float


@dataclass(frozen=True, slots=True)
class PositionChanged:
    """The broker's net position (signed ``size``) changed; ``source`` says who reported it."""

    ts_ns: int
    contract_id: str
    size: int
    avg_price: float
    open_pnl: float
    source: str


@dataclass(frozen=True, slots=True)
class RiskStateChanged:
    """The risk mode moved (ACTIVE, REDUCING, PAUSED, HALTED…).

    ``mll_headroom`` is balance + open P&L above the maximum-loss level (None without one);
    ``reconciled_ns`` is when the balance was last confirmed by the broker (None: not yet).
    """

    ts_ns: int
    old: str
    new: str
    reason: str
    balance: float
    day_pnl: float
    mll_headroom: float | None
    reconciled_ns: int | None


@dataclass(frozen=True, slots=True)
class FeedHealthChanged:
    """A hub's health changed; ``age_s`` is the age of its newest message (None: none yet)."""

    ts_ns: int
    hub: str
    state: str
    age_s: float | None
    drops: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The engine is alive (separate from any UI's heartbeat: a frozen engine shows frozen)."""

    ts_ns: int
    seq: int
    uptime_s: float


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the operator should see; ``needs_ack`` alerts block entries until acknowledged."""

    ts_ns: int
    alert_id: str
    level: str
    code: str
    message: str
    needs_ack: bool

    def __post_init__(self) -> None:
        _check(self.level, ALERT_LEVELS, "Alert.level")


# ---------------------------------------------------------------------------------- intents
@dataclass(frozen=True, slots=True)
class Pause:
    """Stop new entries until resumed (open positions keep their protection)."""


@dataclass(frozen=True, slots=True)
class Resume:
    """Lift an operator pause (a limit pause keeps its own end time)."""


@dataclass(frozen=True, slots=True)
class Flatten:
    """Cancel every working order and close the position, verified flat at the broker."""


@dataclass(frozen=True, slots=True)
class Kill:
    """Flatten and latch HALTED: new entries refused until re-armed on purpose."""


@dataclass(frozen=True, slots=True)
class Rearm:
    """Lift an operator kill (never a limit halt); entries stay disarmed until :class:`Arm`."""


@dataclass(frozen=True, slots=True)
class Arm:
    """Allow automatic entries."""


@dataclass(frozen=True, slots=True)
class Disarm:
    """Stop automatic entries (exits and protection still run)."""


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """Acknowledge one alert by id, or every alert when ``alert_id`` is None."""

    alert_id: str | None = None


Event = (QuoteUpdated | BarClosed | PredictionMade | SignalDecided | OrderUpdated | FillReceived
         | PositionChanged | RiskStateChanged | FeedHealthChanged | Heartbeat | Alert)
Intent = Pause | Resume | Flatten | Kill | Rearm | Arm | Disarm | Acknowledge

EVENT_TYPES: dict[str, type] = {c.__name__: c for c in (
    QuoteUpdated, BarClosed, PredictionMade, SignalDecided, OrderUpdated, FillReceived,
    PositionChanged, RiskStateChanged, FeedHealthChanged, Heartbeat, Alert)}
INTENT_TYPES: dict[str, type] = {c.__name__: c for c in (
    Pause, Resume, Flatten, Kill, Rearm, Arm, Disarm, Acknowledge)}
TYPES: dict[str, type] = {**EVENT_TYPES, **INTENT_TYPES}

# Field names per class, computed once: to_dict runs for every published event.
_FIELDS: dict[type, tuple[str, ...]] = {
    c: tuple(f.name for f in dataclasses.fields(c)) for c in TYPES.values()}
_REQUIRED: dict[type, frozenset[str]] = {
    c: frozenset(f.name for f in dataclasses.fields(c)
                 if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    for c in TYPES.values()}
_TUPLE_FIELDS: dict[type, tuple[str, ...]] = {PredictionMade: ("probabilities",)}


def _plain(v: Any) -> Any:
    # Enum members (e.g. a domain Side) become their plain value so the mapping is JSON-ready
    # and compares equal after a round trip; tuples become lists as JSON would make them.
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def to_dict(x: Event | Intent) -> dict[str, Any]:
    """A JSON-ready mapping of an event or intent, with ``"type"`` set to its class name.

    Args:
        x: Any event or intent of this module.

    Returns:
        ``{"type": "QuoteUpdated", "contract_id": ..., ...}``.

    Raises:
        TypeError: ``x`` is not one of this module's classes.
    """
    cls = type(x)
    names = _FIELDS.get(cls)
    if names is None:
        raise TypeError(f"not an engine event or intent: {cls.__name__}")
    out: dict[str, Any] = {"type": cls.__name__}
    for n in names:
        out[n] = _plain(getattr(x, n))
    return out


def from_dict(d: dict[str, Any], *, strict: bool = True) -> Event | Intent:
    """Rebuild the event or intent :func:`to_dict` produced (also after a JSON round trip).

    Args:
        d: A mapping with a ``"type"`` key naming one of this module's classes.
        strict: Refuse keys the class does not have. Readers of a newer engine's stream (a
            ``ctl events`` client) pass False to ignore fields added later.

    Returns:
        The event or intent, equal to the one that was serialised.

    Raises:
        ValueError: Unknown or missing type, missing fields, unexpected fields (strict), or a
            value a class refuses (e.g. an unknown order state).
    """
    name = d.get("type") if isinstance(d, dict) else None
    cls = TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {name!r}; known: {', '.join(TYPES)}")
    names = _FIELDS[cls]
    # No field may be called "type": that key names the class (see OrderUpdated.order_type).
    missing = _REQUIRED[cls].difference(d)
    if missing:
        raise ValueError(f"{name} is missing {', '.join(sorted(missing))}")
    if strict:
        extra = set(d).difference(names, ("type",))
        if extra:
            raise ValueError(f"{name} has unexpected fields {', '.join(sorted(extra))}")
    kw = {n: d[n] for n in names if n in d}
    for n in _TUPLE_FIELDS.get(cls, ()):
        kw[n] = tuple(kw[n])
    return cls(**kw)


def coalesce_key(x: Event | Intent) -> tuple[str, str] | None:
    """Key under which a newer event may replace a queued older one; None: never replaced.

    Only :class:`QuoteUpdated` is replaceable, per contract (see the module docstring).
    """
    if type(x) is QuoteUpdated:
        return ("QuoteUpdated", x.contract_id)
    return None


def is_intent(x: object) -> bool:
    """Whether ``x`` is an operator intent (as opposed to an engine event)."""
    return type(x) in _INTENT_CLASSES


_INTENT_CLASSES = frozenset(INTENT_TYPES.values())
