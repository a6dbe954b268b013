"""Host the engine in its own process and run the console attached to it.

``scalpdesk live`` (without ``--headless``) and ``scalpdesk demo`` call :func:`run_hosted`:

1. the engine starts as ``python -m console live … --headless`` in a NEW SESSION
   (``start_new_session``: a closed terminal's SIGHUP or a Ctrl-C never reaches it), its
   output appended to a log file in the user's directory;
2. the console waits for the engine's control socket and attaches as a plain client;
3. on quit the console's answer decides: ``flatten`` (flatten through the socket, then stop),
   ``leave`` (stop; positions stay under their brackets) or ``detach`` (the engine keeps
   running; ``scalpdesk attach`` comes back). If the console dies instead, the engine keeps
   trading under its brackets and the log says the console detached.

The engine is started with the caller's ``--on-exit`` policy, so a SIGTERM from outside
(a logout, ``kill``) does what the profile says; on quit the console sends the answer as
``stop on_exit=…`` through the socket (SIGTERM only if the socket does not answer).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: How long the engine may take to open its socket (venue login, model warm-up, history).
START_TIMEOUT_S = 120.0
#: How long a stopping engine may take (it flattens or cancels, then writes its report).
STOP_TIMEOUT_S = 90.0


class HostError(Exception):
    """The engine could not be started or reached (message + fix, for the CLI's exit 2)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def default_log_path(name: str) -> Path:
    """The hosted engine's log: ``$SCALPDESK_HOME/logs/NAME-engine.log`` (appended)."""
    home = Path(os.environ.get("SCALPDESK_HOME", Path.home() / ".scalpdesk")).expanduser()
    return home / "logs" / f"{name}-engine.log"


def _note(log: Path, text: str) -> None:
    # A line of the host's own in the engine's log (whole-line appends do not interleave).
    try:
        with log.open("a", encoding="utf-8") as f:
            f.write(f"console: {text}\n")
    except OSError:
        pass


def _tail(log: Path, n: int = 15) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def start_engine(live_argv: list[str], socket_path: Path, log_path: Path, *,
                 env: dict[str, str] | None = None, on_exit: str = "flatten",
                 timeout_s: float = START_TIMEOUT_S) -> subprocess.Popen[bytes]:
    """Start ``scalpdesk live --headless`` in its own session and wait for its socket.

    Args:
        live_argv: The `live` arguments (``--profile``, ``--model`` …), without
            ``--headless``, ``--on-exit`` or ``--socket`` (added here).
        socket_path: Where the engine's control socket will be.
        log_path: The engine's stdout and stderr are appended here.
        env: The engine's environment (default: this process's).
        on_exit: The engine's own shutdown policy (SIGTERM, `ctl stop` without an answer).
        timeout_s: Seconds to wait for the socket.

    Raises:
        HostError: An engine already serves that socket, or the engine exited or stayed
            silent (the log's last lines are in the message).
    """
    from core.control.client import ControlClient

    client = ControlClient(socket_path, timeout=2.0)
    if client.is_running():
        raise HostError(f"an engine already runs at {socket_path}",
                        f"attach to it: `scalpdesk attach --socket {socket_path}`, or stop it "
                        "with `scalpdesk ctl kill` first")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "console", "live", *live_argv, "--headless",
            "--on-exit", on_exit, "--socket", str(socket_path)]
    with log_path.open("ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env=env if env is not None else dict(os.environ))
    _note(log_path, f"started the engine (pid {proc.pid}): {' '.join(argv[3:])}")
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise HostError(f"the engine exited (code {proc.returncode}) before opening its "
                            f"socket; the end of {log_path}:\n{_tail(log_path)}",
                            "fix what the log says, or run `scalpdesk live … --headless` to "
                            "see it directly")
        if socket_path.exists() and client.is_running():
            return proc
        time.sleep(0.1)
    stop_engine(proc)
    raise HostError(f"the engine did not open {socket_path} within {timeout_s:.0f} s; the end "
                    f"of {log_path}:\n{_tail(log_path)}", "see the engine's log")


def stop_engine(proc: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM the engine (its shutdown: cancel/leave, session report) and wait for it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()          # stuck: the broker's brackets still protect the position
            proc.wait(10)
    return int(proc.returncode or 0)


def finish(answer: str | None, proc: subprocess.Popen[bytes], socket_path: Path,
           log_path: Path, say: Callable[[str], None]) -> int:
    """Do what the quit answer says with the hosted engine; returns the exit code."""
    from core.control.client import ControlClient

    if answer in (None, "detach"):
        _note(log_path, "detached; the engine keeps running under its brackets")
        say(f"the engine keeps running (pid {proc.pid}); log {log_path}\n"
            f"  come back: scalpdesk attach --socket {socket_path}\n"
            f"  stop it:   scalpdesk ctl kill --socket {socket_path}, then kill {proc.pid}")
        return 0
    _note(log_path, f"quit: {answer}; stopping the engine")
    if answer == "flatten":
        say("flattening…")
    try:
        # The engine applies the answer itself (flatten verified, or leave) and exits.
        ControlClient(socket_path).call("stop", on_exit=answer)
        proc.wait(STOP_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - the signal path below still stops it
        say(f"stop through the socket failed: {exc} — stopping with SIGTERM (the engine's "
            "policy applies)")
    code = stop_engine(proc)
    say(_tail(log_path, 6))
    return 0 if code in (0, -signal.SIGTERM) else code


def run_hosted(live_argv: list[str], socket_path: str | Path, *, on_exit: str = "flatten",
               log_path: Path | None = None, backtest: Any = None,
               env: dict[str, str] | None = None,
               say: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> int:
    """Start the engine in its own process, run the console on it, act on the quit answer.

    Args:
        live_argv: `scalpdesk live` arguments for the engine (``["--profile", "demo",
            "--model", "mes_lgbm"]``); ``--headless``, ``--on-exit`` and ``--socket`` are
            added.
        socket_path: The engine's control socket.
        on_exit: The shutdown policy, the quit dialog's default (``flatten`` | ``leave``).
        log_path: The engine's log (default :func:`default_log_path` of the socket's name).
        backtest: A :data:`~console.tui.app.BacktestRunner` for the `b` key (None: none).
        env: The engine's environment (default: this process's).
        say: Where the host's own messages go (stderr).

    Returns:
        The exit code for the CLI (0: done, 1: the console failed; the engine kept running).

    Raises:
        HostError: The engine could not be started (see :func:`start_engine`).
    """
    from console.tui.app import ConsoleApp

    socket_path = Path(socket_path)
    log_path = log_path or default_log_path(socket_path.stem)
    proc = start_engine(live_argv, socket_path, log_path, env=env, on_exit=on_exit)
    say(f"engine started (pid {proc.pid}); its log: {log_path}")
    app = ConsoleApp(socket_path, hosted=True, on_exit=on_exit, backtest=backtest)
    try:
        answer = app.run()
    except BaseException as exc:
        _note(log_path, f"the console died ({exc!r}); the engine keeps trading under its "
                        "brackets")
        say(f"the console failed: {exc!r}; the engine keeps running (pid {proc.pid}): "
            f"`scalpdesk attach --socket {socket_path}`")
        if isinstance(exc, Exception):
            return 1
        raise
    if app.return_code not in (0, None) and answer is None:
        _note(log_path, "the console ended with an error; the engine keeps trading under its "
                        "brackets")
        say(f"the console failed; the engine keeps running (pid {proc.pid}): "
            f"`scalpdesk attach --socket {socket_path}`")
        return 1
    return finish(answer, proc, socket_path, log_path, say)

