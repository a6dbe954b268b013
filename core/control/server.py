"""The engine side of the control socket: :class:`ControlServer` serving a :class:`ControlTarget`.

Runs in the engine's event loop. Commands await the target's methods one request at a time per
connection; ``events`` turns a connection into a stream fed by :meth:`ControlServer.publish`,
which never blocks (see :mod:`core.control.fanout`). A bad request gets an error response and
the connection stays usable; a target method that raises gets an error response and the engine
keeps running.

One engine per socket: the server holds an ``flock`` on ``<socket>.lock`` for its lifetime (the
kernel drops it when the process dies, even by ``kill -9``), so a second server refuses to start
without any race, and a socket file left by a dead engine is recognised as stale (nothing
answers a connect) and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import stat
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from core.control.fanout import Subscriber
from core.control.paths import ControlError, check_length, prepare_dir, profile_of
from core.control.protocol import LINE_LIMIT, dumps, error_response, parse_request
from core.domain import events as E
from core.errors import CoreError

log = logging.getLogger(__name__)


@runtime_checkable
class ControlTarget(Protocol):
    """What the control socket drives (the live engine implements it).

    Every method returns a JSON-able mapping, usually the new status.
    """

    async def status(self) -> dict[str, Any]: ...
    async def pause(self) -> dict[str, Any]: ...
    async def resume(self) -> dict[str, Any]: ...
    async def flatten(self) -> dict[str, Any]: ...
    async def kill(self) -> dict[str, Any]: ...
    async def rearm(self) -> dict[str, Any]: ...
    async def arm(self) -> dict[str, Any]: ...
    async def disarm(self) -> dict[str, Any]: ...
    async def ack(self, alert_id: str | None = None) -> dict[str, Any]: ...
    async def stop(self, on_exit: str | None = None) -> dict[str, Any]: ...


class ControlServer:
    """A Unix socket (0600, in a 0700 directory) through which the operator controls the engine.

    Args:
        target: The engine (or anything with the :class:`ControlTarget` methods).
        path: The socket, usually ``socket_path(profile.name)``.
        queue_size: Events held per ``events`` subscriber before shedding.

    Use ``async with ControlServer(engine, path) as srv:`` and have the engine call
    ``srv.publish(event)`` for every event it emits.
    """

    def __init__(self, target: ControlTarget, path: str | Path, *, queue_size: int = 1024) -> None:
        self.target = target
        self.path = Path(path)
        self.queue_size = queue_size
        self._server: asyncio.AbstractServer | None = None
        self._lock_fd: int | None = None
        self._inode: int | None = None
        self._subs: set[Subscriber] = set()
        self._conns: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}
        self._gone = Counter[str]()          # drops of subscribers that disconnected
        self.invalid = 0                     #: published objects that were not events

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Bind the socket.

        Raises:
            ControlError: Another engine serves this socket, the path is not a socket, the
                directory is someone else's, or the path is too long.
        """
        check_length(self.path)
        prepare_dir(self.path.parent)
        self._lock_fd = _acquire_lock(self.path)
        try:
            self._remove_stale()
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path),
                                                           limit=LINE_LIMIT)
            # bind() made the file with the umask's mode; nobody else could reach it meanwhile
            # because the directory is 0700. Tighten it before the first client arrives.
            os.chmod(self.path, 0o600)
            self._inode = self.path.lstat().st_ino
        except BaseException:
            self._release_lock()
            raise
        log.info("control socket listening at %s", self.path)

    async def close(self) -> None:
        """Stop serving: subscribers see the stream end; the socket file is removed."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._conns.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                # Only our own file: never a socket a newer engine bound meanwhile.
                if self.path.lstat().st_ino == self._inode:
                    self.path.unlink()
        self._release_lock()

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _remove_stale(self) -> None:
        try:
            st = self.path.lstat()
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ControlError(f"{self.path} exists and is not a socket",
                               hint="move that file away; the control socket needs its name")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.path))
        except (ConnectionRefusedError, FileNotFoundError):
            log.info("removing the stale control socket of a dead engine: %s", self.path)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        finally:
            probe.close()
        # We hold the lock, yet something answers: a process that serves without the lock.
        raise _already_served(self.path)

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)           # closing the descriptor releases the flock
            self._lock_fd = None

    # ---------------------------------------------------------------- events out
    def publish(self, event: E.Event | Mapping[str, Any]) -> None:
        """Hand an event to every ``events`` subscriber; never blocks, never raises.

        Call it from the server's event loop thread. With no subscriber it returns at once. A
        mapping is decoded with :func:`~core.domain.events.from_dict`; one that is not a valid
        event is counted in :attr:`invalid` and logged, not forwarded (the engine must not die
        of a bad event; checked only while someone listens).
        """
        if not self._subs:
            return
        if isinstance(event, Mapping):
            try:
                event = E.from_dict(dict(event))
            except (ValueError, TypeError) as exc:
                self.invalid += 1
                if self.invalid in (1, 10, 100) or self.invalid % 1000 == 0:
                    log.warning("control: not an event (%d so far): %s", self.invalid, exc)
                return
        for sub in self._subs:
            sub.put(event)  # type: ignore[arg-type]

    def stats(self) -> dict[str, Any]:
        """Subscribers, and events dropped or coalesced for slow readers (for ``status``)."""
        dropped = Counter(self._gone)
        for s in self._subs:
            dropped.update(s.dropped)
        return {"subscribers": len(self._subs), "dropped": dict(dropped),
                "coalesced": sum(s.coalesced for s in self._subs), "invalid": self.invalid}

    # ---------------------------------------------------------------- connections
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns[writer] = task
        try:
            await self._session(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            # The client left, or close() is stopping us. Not re-raised: this is the task's
            # top, and Python 3.11 logs a cancelled connection handler as an error.
            pass
        finally:
            self._conns.pop(writer, None)
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                await _send(writer, error_response(None, "request line too long",
                                                   f"keep each request under {LINE_LIMIT} bytes"))
                return
            if not line:
                return
            if not line.strip():
                continue
            req, err = parse_request(line)
            if err is not None:
                await _send(writer, err)
                continue
            assert req is not None
            if req.cmd == "events":
                await self._stream(req.id, reader, writer)
                return
            await _send(writer, await self._call(req.id, req.cmd, req.args))

    async def _call(self, rid: Any, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        fn = getattr(self.target, cmd, None)
        if fn is None:
            return error_response(rid, f"this engine does not support `{cmd}`",
                                  "update the engine, or use a command it has")
        try:
            result = await fn(**args)
        except CoreError as exc:
            # A deliberate refusal (e.g. an unknown alert id): the engine's words and fix.
            return error_response(rid, exc.message, exc.hint or "")
        except Exception as exc:  # noqa: BLE001 - report, never take the engine down
            log.exception("control command %s failed", cmd)
            return error_response(rid, f"{cmd} failed in the engine: {exc}",
                                  "see the engine's log for the details")
        if cmd == "status" and isinstance(result, dict):
            result = {**result, "control": self.stats()}
        return {"id": rid, "ok": True, "result": result}

    async def _stream(self, rid: Any, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        sub = Subscriber(self.queue_size)
        self._subs.add(sub)
        try:
            await _send(writer, {"id": rid, "ok": True,
                                 "result": {"subscribed": True, "queue": self.queue_size,
                                            "profile": profile_of(self.path)}})
            pump = asyncio.create_task(_pump(sub, writer))
            watch = asyncio.create_task(_until_eof(reader))
            try:
                done, _ = await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (pump, watch):
                    t.cancel()
                await asyncio.gather(pump, watch, return_exceptions=True)
            for t in done:
                exc = None if t.cancelled() else t.exception()
                if exc is not None and not isinstance(exc, ConnectionError):
                    raise exc                  # a bug: let asyncio report it
        finally:
            self._subs.discard(sub)
            self._gone.update(sub.dropped)


async def _until_eof(reader: asyncio.StreamReader) -> None:
    # Whatever a subscriber sends after `events` is ignored; EOF means it left.
    while await reader.read(4096):
        pass


async def _pump(sub: Subscriber, writer: asyncio.StreamWriter) -> None:
    while True:
        ev = await sub.get()
        report = sub.drop_report()
        if report is not None:
            writer.write(dumps({"event": E.to_dict(report)}))
        writer.write(dumps({"event": E.to_dict(ev)}))
        await writer.drain()           # waits for this reader only; publish never does


async def _send(writer: asyncio.StreamWriter, msg: dict[str, Any]) -> None:
    writer.write(dumps(msg))
    await writer.drain()


def _already_served(path: Path) -> ControlError:
    name = profile_of(path)
    return ControlError(f"another engine is already serving profile {name} at {path}",
                        hint=f"one engine per profile: look at it with `scalpdesk ctl status "
                             f"--profile {name}`, or stop it before starting another")


def _acquire_lock(path: Path) -> int:
    lock = path.with_name(path.name + ".lock")
    for _ in range(3):
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _already_served(path) from None
        # The file we locked must still be the one at that name (not one removed meanwhile).
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise ControlError(f"could not lock {lock}", hint="try again")
