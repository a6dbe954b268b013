"""The operator side of the control socket: a small blocking client for the CLI and scripts."""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.control.paths import CommandFailed, ControlError, EngineNotRunning
from core.control.protocol import COMMANDS, dumps
from core.domain import events as E

#: Commands that may take a while in the engine (a flatten waits until the broker says flat).
SLOW_COMMANDS: dict[str, float] = {"flatten": 120.0, "kill": 120.0}


class ControlClient:
    """Talks to one engine's control socket (one connection per call).

    Args:
        path: The socket.
        timeout: Seconds to wait for an answer (``flatten`` and ``kill`` wait longer, see
            :data:`SLOW_COMMANDS`).
        profile: The profile the socket belongs to (only for error messages).
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0,
                 profile: str | None = None) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.profile = profile
        self._ids = itertools.count(1)

    def _connect(self, timeout: float | None) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(str(self.path))
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            raise EngineNotRunning(self.path, self.profile) from None
        except PermissionError:
            s.close()
            raise ControlError(f"permission denied on {self.path}",
                               hint="the socket belongs to another user; run ctl as the user "
                                    "that runs the engine") from None
        except OSError:
            s.close()
            raise
        return s

    def is_running(self) -> bool:
        """Whether an engine answers on the socket (a connect succeeds)."""
        try:
            self._connect(self.timeout).close()
        except EngineNotRunning:
            return False
        return True

    def call(self, cmd: str, /, *, timeout: float | None = None, **args: Any) -> Any:
        """Send one command and return its ``result``.

        Args:
            cmd: One of ``status``, ``pause``, ``resume``, ``flatten``, ``kill``, ``rearm``,
                ``arm``, ``disarm``, ``ack``.
            timeout: Seconds to wait (default: the client's, longer for flatten and kill).
            **args: The command's arguments (``ack``: ``alert_id``).

        Raises:
            EngineNotRunning: Nothing listens on the socket.
            CommandFailed: The engine answered ``ok: false`` (its error and hint).
            ControlError: No answer in time, or the connection closed before one.
        """
        if cmd == "events":
            raise ValueError("use stream_events() for `events`")
        if cmd not in COMMANDS:
            raise ValueError(f"unknown command {cmd!r}; commands: {', '.join(COMMANDS)}")
        wait = timeout if timeout is not None else max(self.timeout, SLOW_COMMANDS.get(cmd, 0.0))
        rid = next(self._ids)
        with self._connect(wait) as s, s.makefile("rb") as f:
            s.sendall(dumps({"id": rid, "cmd": cmd, "args": args}))
            resp = _read(f, self.path, cmd, wait)
        if resp is None:
            raise ControlError(f"the engine at {self.path} closed the connection before "
                               f"answering `{cmd}`", hint="check the engine's log")
        return _result(resp)

    def stream_events(self, *, raw: bool = False) -> Iterator[E.Event | dict[str, Any]]:
        """Yield the engine's events as they happen, until the engine goes away.

        Closing the generator (or breaking out of the loop) disconnects.

        Args:
            raw: Yield the JSON mappings as sent instead of event objects.

        Raises:
            EngineNotRunning: Nothing listens on the socket.
            CommandFailed: The engine refused the subscription.
        """
        rid = next(self._ids)
        s = self._connect(self.timeout)
        try:
            with s.makefile("rb") as f:
                s.sendall(dumps({"id": rid, "cmd": "events"}))
                first = _read(f, self.path, "events", self.timeout)
                if first is None:
                    return
                _result(first)
                s.settimeout(None)              # events may be minutes apart
                for line in f:
                    msg = json.loads(line)
                    ev = msg.get("event") if isinstance(msg, dict) else None
                    if ev is None:
                        continue
                    # A newer engine may add fields: ignore them rather than stop the stream.
                    yield ev if raw else E.from_dict(ev, strict=False)
        finally:
            s.close()


def _read(f: Any, path: Path, cmd: str, wait: float | None) -> dict[str, Any] | None:
    try:
        line = f.readline()
    except TimeoutError:
        raise ControlError(f"the engine at {path} did not answer `{cmd}` within {wait:g} s",
                           hint="it may be busy or frozen (the command may still complete): "
                                "watch its heartbeat with `scalpdesk ctl events` or read its "
                                "log") from None
    if not line:
        return None
    return json.loads(line)


def _result(resp: dict[str, Any]) -> Any:
    if resp.get("ok"):
        return resp.get("result")
    raise CommandFailed(str(resp.get("error") or "the engine refused the command"),
                        hint=resp.get("hint") or None)
