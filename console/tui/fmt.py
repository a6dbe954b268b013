"""Pure formatting helpers for the console's panes (no widgets, no clocks: easy to test).

Every "now" here is the engine's ``ts_ns`` from its status — against the simulator the engine
runs on the replay's market time, so ages and deadlines must be measured on that clock, not
the console's.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
CT = ZoneInfo("America/Chicago")
DASH = "—"


def money(x: Any, *, sign: bool = False) -> str:
    """``$1,234.50`` / ``−$12.00`` (``+$3.00`` with ``sign``); a dash for a missing value."""
    if x is None:
        return DASH
    try:
        v = float(x)
    except (TypeError, ValueError):
        return DASH
    head = "−" if v < 0 else ("+" if sign and v > 0 else "")
    return f"{head}${abs(v):,.2f}"


def money0(x: Any) -> str:
    """Whole dollars, ``$1,700`` (gauges: cents would not fit)."""
    if x is None:
        return DASH
    try:
        v = float(x)
    except (TypeError, ValueError):
        return DASH
    return f"{'−' if v < 0 else ''}${abs(v):,.0f}"


def price(x: Any) -> str:
    """A futures price with two decimals (MES ticks are 0.25), or a dash."""
    if x is None:
        return DASH
    try:
        return f"{float(x):,.2f}"
    except (TypeError, ValueError):
        return DASH


def duration(seconds: float | None) -> str:
    """``4.2 s`` / ``12 s`` / ``3m05s`` / ``2h14m`` (a dash for None, ``0 s`` floor)."""
    if seconds is None:
        return DASH
    s = max(float(seconds), 0.0)
    if s < 10:
        return f"{s:.1f} s"
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def age(ts_ns: Any, now_ns: Any) -> str:
    """How long before ``now_ns`` the event at ``ts_ns`` happened (engine clock)."""
    if not ts_ns or not now_ns:
        return DASH
    return duration((int(now_ns) - int(ts_ns)) / 1e9)


def clock_in(ts_ns: Any, tz: ZoneInfo, label: str) -> str:
    """``15:10 CT`` for a UTC nanosecond timestamp."""
    if not ts_ns:
        return DASH
    t = datetime.fromtimestamp(int(ts_ns) / 1e9, tz=timezone.utc).astimezone(tz)
    return f"{t:%H:%M} {label}"


def utc_clock(ts_ns: Any) -> str:
    """``14:32:08 UTC`` (a dash for a missing time)."""
    if not ts_ns:
        return DASH
    t = datetime.fromtimestamp(int(ts_ns) / 1e9, tz=timezone.utc)
    return f"{t:%H:%M:%S} UTC"


def deadline(flatten_at_ns: Any, now_ns: Any) -> str:
    """``in 1h23m (16:10 ET / 15:10 CT)`` — the engine's next flatten deadline."""
    if not flatten_at_ns:
        return DASH
    left = (int(flatten_at_ns) - int(now_ns)) / 1e9 if now_ns else None
    head = "passed" if left is not None and left < 0 else f"in {duration(left)}"
    return f"{head} ({clock_in(flatten_at_ns, ET, 'ET')} / {clock_in(flatten_at_ns, CT, 'CT')})"


def gauge(used: Any, limit: Any, width: int = 12) -> tuple[str, float]:
    """A text gauge ``██████░░░░░░`` of ``used`` against ``limit`` and the fraction used."""
    try:
        u, lim = max(float(used), 0.0), float(limit)
    except (TypeError, ValueError):
        return "░" * width, 0.0
    frac = min(u / lim, 1.0) if lim > 0 else 0.0
    full = round(frac * width)
    return "█" * full + "░" * (width - full), frac


def side_word(direction: Any) -> str:
    """UP / FLAT / DOWN for -1/0/1 (a dash otherwise)."""
    return {1: "UP", 0: "FLAT", -1: "DOWN"}.get(direction if isinstance(direction, int)
                                                else _int(direction), DASH)


def _int(x: Any) -> int | None:
    try:
        return int(x)
    except (TypeError, ValueError):
        return None
