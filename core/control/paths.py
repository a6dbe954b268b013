"""Where control sockets live, and the errors of the control socket.

One socket per profile: ``$XDG_RUNTIME_DIR/scalpdesk/<profile>.sock`` (a per-user tmpfs that
the system empties at logout), else ``$SCALPDESK_HOME/run/<profile>.sock``
(``~/.scalpdesk/run/<profile>.sock``). ``SCALPDESK_RUN_DIR`` overrides the directory (tests,
unusual setups). The directory is 0700 and the socket 0600: only the user can reach the engine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.errors import CoreError
from core.profile_files import scalpdesk_home

#: Overrides the socket directory.
ENV_RUN_DIR = "SCALPDESK_RUN_DIR"
#: AF_UNIX paths longer than this do not fit in sockaddr_un on Linux (108 bytes with the NUL).
MAX_PATH_BYTES = 107


class ControlError(CoreError):
    """The control socket cannot be set up or reached, or the engine refused a command."""


class EngineNotRunning(ControlError):
    """Nothing is listening on the socket (no file, or a stale file of a dead engine).

    Args:
        path: The socket tried.
        profile: The profile it belongs to, when known (for the message).
    """

    def __init__(self, path: Path, profile: str | None = None) -> None:
        name = profile or profile_of(path)
        super().__init__(f"no running engine for profile {name} at {path}",
                         hint=f"start one with `scalpdesk live --profile {name}`")
        self.path = path
        self.profile = name


class CommandFailed(ControlError):
    """The engine answered ``ok: false`` (the message and hint are the engine's)."""


def run_dir() -> Path:
    """The directory of control sockets (see the module docstring for the order of choices)."""
    env = os.environ.get(ENV_RUN_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and Path(xdg).is_dir():
        return Path(xdg) / "scalpdesk"
    return scalpdesk_home() / "run"


def socket_path(profile_name: str) -> Path:
    """The control socket of the engine running ``profile_name`` (the profile's ``name``).

    Raises:
        ControlError: Not usable as a file name.
    """
    if not profile_name or "/" in profile_name or "\0" in profile_name \
            or profile_name.startswith("."):
        raise ControlError(f"not a profile name: {profile_name!r}",
                           hint="give the profile's name, e.g. --profile demo")
    return run_dir() / f"{profile_name}.sock"


def profile_of(path: Path) -> str:
    """The profile a socket belongs to (its file name without ``.sock``)."""
    return path.name[:-5] if path.name.endswith(".sock") else path.name


def list_sockets(directory: Path | None = None) -> list[Path]:
    """Control sockets present in ``directory`` (default :func:`run_dir`), sorted by name.

    Stale sockets of dead engines are listed too (only a connect tells them apart).
    """
    d = run_dir() if directory is None else directory
    try:
        entries = sorted(d.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [p for p in entries if p.name.endswith(".sock") and _is_socket(p)]


def _is_socket(p: Path) -> bool:
    try:
        return stat.S_ISSOCK(p.lstat().st_mode)
    except OSError:
        return False


def prepare_dir(directory: Path) -> None:
    """Create the socket directory 0700, or tighten one of ours to 0700.

    Raises:
        ControlError: It belongs to another user, or is not a directory.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = directory.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise ControlError(f"{directory} is not a directory",
                           hint=f"remove it or set {ENV_RUN_DIR} to another directory")
    if st.st_uid != os.getuid():
        # Someone else could replace our socket with theirs: never serve from there.
        raise ControlError(f"socket directory {directory} belongs to another user",
                           hint=f"set {ENV_RUN_DIR} to a directory of your own")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(directory, 0o700)


def check_length(path: Path) -> None:
    """Refuse a socket path the kernel cannot bind (with the way out)."""
    if len(os.fsencode(path)) > MAX_PATH_BYTES:
        raise ControlError(f"socket path too long for a Unix socket ({len(os.fsencode(path))} "
                           f"bytes, at most {MAX_PATH_BYTES}): {path}",
                           hint=f"set {ENV_RUN_DIR} to a shorter directory")
