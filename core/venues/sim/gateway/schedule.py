"""A fault schedule for ``scalpdesk sim run --faults``.

Grammar: comma-separated items ``KIND[:A[:B]]`` where times are seconds after the server
started:

==================  ======================================================================
``drop:T``          at T, drop every hub connection (no close handshake)
``close:T``         at T, close every hub connection with a SignalR Close (type 7)
``logout:T``        at T, send ``GatewayLogout`` on both hubs
``stall:T[:D]``     at T, silent market-data stall for D seconds (default 30; pings go on)
``userstall:T[:D]`` the same on the user hub
``429:T[:D]``       at T, answer every REST call with 429 for D seconds (default 10)
``5xx:P``           from the start, answer a share P (0..1) of REST calls with 503
``delay:MS``        from the start, delay every REST response by MS milliseconds
``dup:P``, ``reorder:P``, ``loss:P``   hub event duplication / reordering / loss rates
``timeout:N``       the next N mutations are executed but their response is delayed 15 s
``wrapped``         user events in the observed ``[{action,data}]`` shape
==================  ======================================================================
Repeat a kind to schedule it several times (``drop:30,drop:90``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core.errors import ConfigError

_TIMED = {"drop", "close", "logout", "stall", "userstall", "429"}
_RATES = {"5xx": "rest_5xx_rate", "dup": "dup_prob", "reorder": "reorder_prob",
          "loss": "loss_prob"}


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    """One item of a fault schedule."""

    kind: str
    at_s: float = 0.0
    value: float = 0.0


def parse_fault_spec(spec: str | None) -> list[ScheduledFault]:
    """Parse ``--faults``; all problems are reported at once.

    Raises:
        ConfigError: Unknown kinds or bad numbers (each listed, with the grammar as hint).
    """
    out: list[ScheduledFault] = []
    problems: list[str] = []
    for raw in (spec or "").split(","):
        item = raw.strip()
        if not item:
            continue
        kind, *nums = item.split(":")
        kind = kind.lower()
        try:
            vals = [float(n) for n in nums]
        except ValueError:
            problems.append(f"{item!r}: numbers expected after ':'")
            continue
        if kind in _TIMED:
            if not vals or vals[0] < 0 or len(vals) > 2:
                problems.append(f"{item!r}: give the start second, e.g. {kind}:30")
                continue
            dur = vals[1] if len(vals) > 1 else (10.0 if kind == "429" else 30.0)
            out.append(ScheduledFault(kind, vals[0], dur))
        elif kind in _RATES:
            if len(vals) != 1 or not 0.0 <= vals[0] <= 1.0:
                problems.append(f"{item!r}: give a probability 0..1, e.g. {kind}:0.05")
                continue
            out.append(ScheduledFault(kind, 0.0, vals[0]))
        elif kind in ("delay", "timeout"):
            if len(vals) != 1 or vals[0] < 0:
                problems.append(f"{item!r}: give one non-negative number, e.g. {kind}:200")
                continue
            out.append(ScheduledFault(kind, 0.0, vals[0]))
        elif kind == "wrapped" and not vals:
            out.append(ScheduledFault(kind))
        else:
            problems.append(f"{item!r}: unknown fault kind {kind!r}")
    if problems:
        raise ConfigError("bad --faults", problems=problems,
                          hint="e.g. --faults drop:30,stall:60:20,429:120:10,dup:0.01 "
                               "(see `scalpdesk sim run --help`)")
    return out


async def run_fault_schedule(gw: object, items: list[ScheduledFault],
                             log: object = None) -> None:
    """Apply ``items`` to a running SimGateway at their times (``log(str)`` reports each)."""
    say = log if callable(log) else (lambda _m: None)
    for it in items:
        if it.kind in _RATES:
            gw.set_faults(**{_RATES[it.kind]: it.value})  # type: ignore[attr-defined]
        elif it.kind == "delay":
            gw.set_faults(rest_delay_ms=it.value)  # type: ignore[attr-defined]
        elif it.kind == "timeout":
            gw.set_faults(timeout_after_accept=int(it.value))  # type: ignore[attr-defined]
        elif it.kind == "wrapped":
            gw.set_faults(user_shape="wrapped")  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for it in sorted((i for i in items if i.kind in _TIMED), key=lambda i: i.at_s):
        await asyncio.sleep(max(0.0, t0 + it.at_s - loop.time()))
        say(f"fault: {it.kind} at {it.at_s:g}s" + (f" for {it.value:g}s" if it.kind in
                                                     ("stall", "userstall", "429") else ""))
        if it.kind == "drop":
            gw.drop_hub_connections()  # type: ignore[attr-defined]
        elif it.kind == "close":
            gw.drop_hub_connections(graceful=True)  # type: ignore[attr-defined]
        elif it.kind == "logout":
            gw.send_logout()  # type: ignore[attr-defined]
        elif it.kind == "429":
            gw.storm_429(it.value)  # type: ignore[attr-defined]
        else:
            field = "stall_market" if it.kind == "stall" else "stall_user"
            gw.set_faults(**{field: True})  # type: ignore[attr-defined]
            loop.call_later(it.value, lambda f=field: gw.set_faults(**{f: False}))  # type: ignore[attr-defined]
