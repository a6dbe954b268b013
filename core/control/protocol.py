"""The control socket's wire protocol: newline-delimited JSON, one object per line.

Request::

    {"id": 7, "cmd": "status"}
    {"id": 8, "cmd": "ack", "args": {"alert_id": "recon-1"}}

Response (one line per request, same ``id``)::

    {"id": 7, "ok": true, "result": {...}}
    {"id": 8, "ok": false, "error": "what went wrong", "hint": "how to fix it"}

``events`` answers ``{"id": n, "ok": true, "result": {"subscribed": true, ...}}`` and then
streams ``{"event": {...}}`` lines (:func:`core.domain.events.to_dict`) until the client
disconnects. A request that is not JSON, not an object, or names an unknown command gets an
``ok: false`` response (``id`` null when it could not be read) and the connection stays open.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from core.domain import events as E

#: Commands and the arguments each accepts.
COMMANDS: dict[str, tuple[str, ...]] = {
    "status": (), "pause": (), "resume": (), "flatten": (), "kill": (), "rearm": (),
    "arm": (), "disarm": (), "ack": ("alert_id",), "events": (), "stop": ("on_exit",),
}
#: Longest request line accepted (bytes).
LINE_LIMIT = 64 * 1024

_HINT = ('send one JSON object per line, e.g. {"id": 1, "cmd": "status"}; commands: '
         + ", ".join(COMMANDS))


@dataclass(frozen=True, slots=True)
class Request:
    """A well-formed request."""

    id: Any
    cmd: str
    args: dict[str, Any]


def _default(o: Any) -> Any:
    # Engine status values may be numpy scalars, enums, events or sets: give JSON their value.
    if isinstance(o, Enum):
        return o.value
    if type(o) in E.TYPES.values():
        return E.to_dict(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def dumps(msg: dict[str, Any]) -> bytes:
    """One protocol line (JSON + newline)."""
    return (json.dumps(msg, separators=(",", ":"), default=_default) + "\n").encode()


def error_response(rid: Any, error: str, hint: str = "") -> dict[str, Any]:
    """An ``ok: false`` response."""
    return {"id": rid, "ok": False, "error": error, "hint": hint}


def parse_request(line: bytes) -> tuple[Request | None, dict[str, Any] | None]:
    """Read one request line: ``(request, None)`` or ``(None, error response)``."""
    try:
        msg = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, error_response(None, f"bad request: not JSON ({exc})", _HINT)
    if not isinstance(msg, dict):
        return None, error_response(None, "bad request: not a JSON object", _HINT)
    rid = msg.get("id")
    cmd = msg.get("cmd")
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        return None, error_response(rid, f"unknown command {cmd!r}",
                                    "commands: " + ", ".join(COMMANDS))
    args = msg.get("args") or {}
    if not isinstance(args, dict):
        return None, error_response(rid, "bad request: args must be a JSON object", _HINT)
    extra = sorted(set(args) - set(COMMANDS[cmd]))
    if extra:
        takes = ", ".join(COMMANDS[cmd]) or "no arguments"
        return None, error_response(rid, f"`{cmd}` does not take {', '.join(extra)}",
                                    f"`{cmd}` takes {takes}")
    if cmd == "ack" and args.get("alert_id") is not None and not isinstance(args["alert_id"], str):
        return None, error_response(rid, "alert_id must be a string or null",
                                    'e.g. {"cmd": "ack", "args": {"alert_id": "recon-1"}}')
    return Request(rid, cmd, dict(args)), None
