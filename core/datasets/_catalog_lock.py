"""One writer at a time per catalog: an advisory ``flock`` on ``<catalog>/.write.lock``.

Two ``scalpdesk data import`` runs into one catalog used to read the same month, merge
their own rows and replace the partition — the second rename silently dropped the first
writer's rows (or one cleaned up the other's temp file mid-write: "not found"). Every write
now holds this lock for its whole read-merge-replace. A second writer waits — saying who
holds the lock — and gives up with a clear error after ``timeout`` seconds. ``flock`` locks
die with their process, so a killed writer never leaves a stale lock behind. Readers do
not lock: each partition is replaced atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import DataError

LOCK_NAME = ".write.lock"
#: Seconds a writer waits for another (``$SCALPDESK_LOCK_TIMEOUT`` overrides; 0 = do not wait).
DEFAULT_TIMEOUT_S = 600.0
_POLL_S = 0.2


def default_timeout() -> float:
    """``$SCALPDESK_LOCK_TIMEOUT`` seconds, else :data:`DEFAULT_TIMEOUT_S`."""
    try:
        return max(0.0, float(os.environ.get("SCALPDESK_LOCK_TIMEOUT", DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 512).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "another process"


@contextlib.contextmanager
def write_lock(catalog: Path, what: str, *, timeout: float | None = None,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the catalog's write lock for the ``with`` block.

    Args:
        catalog: The catalog directory (created if missing).
        what: Who is writing, recorded for a waiting writer's message (e.g. ``append MES 1m``).
        timeout: Seconds to wait for another writer; default :func:`default_timeout`.
        on_wait: Called once with a message when this writer has to wait.

    Raises:
        DataError: Another writer held the lock for longer than ``timeout``.
    """
    catalog.mkdir(parents=True, exist_ok=True)
    path = catalog / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        limit = default_timeout() if timeout is None else max(0.0, timeout)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if on_wait is not None:
                on_wait(f"the catalog at {catalog} is being written by {holder}; waiting up to "
                        f"{limit:g} s for it to finish")
            deadline = time.monotonic() + limit
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DataError(
                            f"the catalog at {catalog} is locked by another writer ({holder}) "
                            f"for more than {limit:g} s; nothing was written",
                            hint="let the other import finish and run this again (set "
                                 "SCALPDESK_LOCK_TIMEOUT to wait longer); a lock never "
                                 "outlives its process") from None
                    time.sleep(_POLL_S)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {os.getpid()}: {what}".encode())
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
