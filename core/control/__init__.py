"""The local control socket: how an operator (``scalpdesk ctl``, the console) drives a running
engine from another process.

* :class:`ControlServer` runs inside the engine's event loop and serves a :class:`ControlTarget`
  (status, pause, resume, flatten, kill, rearm, arm, disarm, ack) plus an ``events`` stream fed
  by :meth:`ControlServer.publish` — which never blocks the engine (slow readers get quotes
  coalesced, then dropped, and are told what they missed).
* :class:`ControlClient` is the blocking client the CLI uses.
* :func:`socket_path` says where a profile's socket lives (:mod:`core.control.paths`); the
  protocol is newline-delimited JSON (:mod:`core.control.protocol`).

Standard library only (asyncio, socket, fcntl): no network package is needed for a Unix socket.
"""

from core.control.client import ControlClient
from core.control.paths import (
    CommandFailed,
    ControlError,
    EngineNotRunning,
    list_sockets,
    profile_of,
    run_dir,
    socket_path,
)
from core.control.protocol import COMMANDS
from core.control.server import ControlServer, ControlTarget

__all__ = [
    "COMMANDS", "CommandFailed", "ControlClient", "ControlError", "ControlServer",
    "ControlTarget", "EngineNotRunning", "list_sockets", "profile_of", "run_dir", "socket_path",
]
