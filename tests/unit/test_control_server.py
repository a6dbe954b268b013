"""The control socket's server on real Unix sockets: commands, bad input, permissions, stale and
live sockets, and slow subscribers that must never hold the engine up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.control import ControlError, ControlServer
from core.domain import events as E
from tests.unit.control_fixtures import FakeEngine, short_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_dir() -> Iterator[Path]:
    with short_dir() as d:
        yield d / "run"


@pytest.fixture
async def served(run_dir: Path) -> AsyncIterator[tuple[ControlServer, FakeEngine]]:
    eng = FakeEngine()
    async with ControlServer(eng, run_dir / "demo.sock") as srv:
        yield srv, eng


class Conn:
    """A raw protocol connection (what any client in any language would do)."""

    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.r, self.w = r, w

    @classmethod
    async def open(cls, path: Path) -> Conn:
        return cls(*await asyncio.open_unix_connection(str(path)))

    async def send(self, raw: bytes) -> dict[str, Any]:
        self.w.write(raw)
        await self.w.drain()
        return json.loads(await self.r.readline())

    async def req(self, rid: int, cmd: str, **args: Any) -> dict[str, Any]:
        return await self.send(json.dumps({"id": rid, "cmd": cmd, "args": args}).encode() + b"\n")

    async def close(self) -> None:
        self.w.close()
        await self.w.wait_closed()


async def test_every_command_reaches_the_engine(served: tuple[ControlServer, FakeEngine]) -> None:
    srv, eng = served
    c = await Conn.open(srv.path)
    st = await c.req(1, "status")
    assert st["id"] == 1 and st["ok"] and st["result"]["mode"] == "ACTIVE"
    assert st["result"]["control"] == {"subscribers": 0, "dropped": {}, "coalesced": 0,
                                       "invalid": 0}
    assert (await c.req(2, "pause"))["result"]["mode"] == "PAUSED"
    assert (await c.req(3, "resume"))["result"]["mode"] == "ACTIVE"
    assert (await c.req(4, "arm"))["result"]["armed"] is True
    assert (await c.req(5, "disarm"))["result"]["armed"] is False
    assert (await c.req(6, "flatten"))["result"]["position"] == 0
    assert (await c.req(7, "ack", alert_id="recon-1"))["result"]["entries_blocked"] == ""
    assert (await c.req(8, "ack"))["result"]["alerts"] == []
    killed = await c.req(9, "kill")
    assert killed["result"]["mode"] == "HALTED" and killed["result"]["killed"]
    refused = await c.req(10, "arm")                 # the engine's own refusal, with its fix
    assert refused == {"id": 10, "ok": False, "error": "arm refused: the engine was killed",
                       "hint": "re-arm after a kill is explicit: `scalpdesk ctl rearm`"}
    assert (await c.req(11, "rearm"))["result"]["killed"] is False
    assert eng.calls == ["pause", "resume", "arm", "disarm", "flatten", "ack:recon-1", "ack:None",
                         "kill", "rearm"]
    await c.close()


@pytest.mark.parametrize(("raw", "error", "rid"), [
    (b"this is not json\n", "bad request: not JSON", None),
    (b"[1, 2]\n", "not a JSON object", None),
    (b'{"id": 4, "cmd": "explode"}\n', "unknown command 'explode'", 4),
    (b'{"id": 5}\n', "unknown command None", 5),
    (b'{"id": 6, "cmd": "pause", "args": [1]}\n', "args must be a JSON object", 6),
    (b'{"id": 7, "cmd": "pause", "args": {"now": true}}\n', "`pause` does not take now", 7),
    (b'{"id": 8, "cmd": "ack", "args": {"alert_id": 3}}\n', "alert_id must be a string", 8),
    (b'\xff\xfe\n', "bad request: not JSON", None),
])
async def test_bad_requests_get_an_error_and_the_connection_lives_on(
        served: tuple[ControlServer, FakeEngine], raw: bytes, error: str, rid: Any) -> None:
    srv, eng = served
    c = await Conn.open(srv.path)
    resp = await c.send(raw)
    assert resp["ok"] is False and resp["id"] == rid and error in resp["error"], resp
    assert resp["hint"]
    assert (await c.req(9, "status"))["ok"]          # same connection, still served
    await c.close()
    assert eng.calls == []


async def test_an_engine_failure_is_an_error_response_not_a_crash(
        served: tuple[ControlServer, FakeEngine]) -> None:
    srv, eng = served

    async def broken() -> dict[str, Any]:
        raise RuntimeError("venue exploded")

    eng.flatten = broken  # type: ignore[method-assign]
    c = await Conn.open(srv.path)
    resp = await c.req(1, "flatten")
    assert resp["ok"] is False and "flatten failed in the engine: venue exploded" in resp["error"]
    assert (await c.req(2, "status"))["ok"]
    await c.close()


async def test_an_overlong_line_is_answered_then_closed(
        served: tuple[ControlServer, FakeEngine]) -> None:
    srv, _ = served
    c = await Conn.open(srv.path)
    resp = await c.send(b'{"id": 1, "cmd": "status", "pad": "' + b"x" * 100_000 + b'"}\n')
    assert resp["ok"] is False and "too long" in resp["error"]
    assert await c.r.read() == b""
    await c.close()
    c2 = await Conn.open(srv.path)                   # the server itself is fine
    assert (await c2.req(1, "status"))["ok"]
    await c2.close()


async def test_socket_and_directory_are_private(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o755)
    os.chmod(run_dir, 0o755)                         # a directory of ours that is too open
    async with ControlServer(FakeEngine(), run_dir / "demo.sock") as srv:
        assert stat.S_ISSOCK(srv.path.lstat().st_mode)
        assert stat.S_IMODE(srv.path.lstat().st_mode) == 0o600
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    assert not srv.path.exists()                     # removed on close


async def test_a_stale_socket_of_a_dead_engine_is_replaced(run_dir: Path) -> None:
    path = run_dir / "demo.sock"
    # A real engine process that dies by kill -9: its socket file stays behind.
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import asyncio, os, signal, sys
        from core.control import ControlServer
        from tests.unit.control_fixtures import FakeEngine
        async def main():
            async with ControlServer(FakeEngine(), sys.argv[1]):
                print("serving", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        asyncio.run(main())
    """), str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    with child.stdout:                                 # type: ignore[union-attr]
        assert child.stdout.readline().strip() == "serving"  # type: ignore[union-attr]
    assert child.wait() == -signal.SIGKILL
    assert stat.S_ISSOCK(path.lstat().st_mode)        # left behind
    async with ControlServer(FakeEngine(), path) as srv:
        c = await Conn.open(srv.path)
        assert (await c.req(1, "status"))["ok"]
        await c.close()


async def test_a_second_server_on_a_live_socket_is_refused(
        served: tuple[ControlServer, FakeEngine]) -> None:
    srv, _ = served
    with pytest.raises(ControlError, match="another engine is already serving profile demo"):
        await ControlServer(FakeEngine(), srv.path).start()
    c = await Conn.open(srv.path)                    # the first one is untouched
    assert (await c.req(1, "status"))["ok"]
    await c.close()


async def test_a_live_socket_without_the_lock_is_not_taken_over(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    path = run_dir / "demo.sock"
    other = await asyncio.start_unix_server(lambda r, w: w.close(), path=str(path))
    try:
        with pytest.raises(ControlError, match="already serving"):
            await ControlServer(FakeEngine(), path).start()
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        other.close()
        await other.wait_closed()


async def test_a_file_that_is_not_a_socket_is_left_alone(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    path = run_dir / "demo.sock"
    path.write_text("my notes")
    with pytest.raises(ControlError, match="exists and is not a socket"):
        await ControlServer(FakeEngine(), path).start()
    assert path.read_text() == "my notes"
    with pytest.raises(ControlError, match="too long"):
        await ControlServer(FakeEngine(), run_dir / ("x" * 120 + ".sock")).start()


async def _events(c: Conn) -> dict[str, Any]:
    first = await c.req(1, "events")
    assert first["ok"] and first["result"]["subscribed"]
    return first


async def test_events_stream_typed_events_and_ends_when_the_client_leaves(
        served: tuple[ControlServer, FakeEngine]) -> None:
    srv, _ = served
    c = await Conn.open(srv.path)
    await _events(c)
    srv.publish(E.Heartbeat(1, 1, 0.5))
    srv.publish({"type": "Alert", "ts_ns": 2, "alert_id": "a", "level": "info", "code": "x",
                 "message": "dict events are accepted", "needs_ack": False})
    srv.publish({"type": "OrderUpdated", "ts_ns": 3, "tag": "t"})    # invalid: not forwarded
    srv.publish(E.Heartbeat(4, 2, 1.5))
    got = [E.from_dict(json.loads(await c.r.readline())["event"]) for _ in range(3)]
    assert got == [E.Heartbeat(1, 1, 0.5),
                   E.Alert(2, "a", "info", "x", "dict events are accepted", False),
                   E.Heartbeat(4, 2, 1.5)]
    assert srv.invalid == 1 and srv.stats()["subscribers"] == 1
    await c.close()
    for _ in range(100):                              # the server notices on its next turn
        if srv.stats()["subscribers"] == 0:
            break
        await asyncio.sleep(0.01)
    assert srv.stats()["subscribers"] == 0


class RawReader:
    """A subscriber on a plain non-blocking socket: it reads only when told to (truly slow)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    @classmethod
    async def subscribe(cls, path: Path) -> RawReader:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(s, str(path))
        await loop.sock_sendall(s, b'{"id": 1, "cmd": "events"}\n')
        me = cls(s)
        assert (await me.line())["result"]["subscribed"]
        return me

    async def line(self) -> dict[str, Any]:
        while b"\n" not in self.buf:
            chunk = await asyncio.get_running_loop().sock_recv(self.sock, 1 << 16)
            assert chunk, "stream ended"
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        return json.loads(raw)


async def test_a_slow_subscriber_never_blocks_publish(run_dir: Path) -> None:
    async with ControlServer(FakeEngine(), run_dir / "demo.sock", queue_size=64) as srv:
        slow = await RawReader.subscribe(srv.path)     # subscribes, then reads nothing
        fast = await Conn.open(srv.path)
        await _events(fast)
        last_seen: list[int] = []

        async def read_fast() -> None:
            while True:
                ev = E.from_dict(json.loads(await fast.r.readline())["event"])
                if isinstance(ev, E.Heartbeat):
                    last_seen.append(ev.seq)
                    if ev.seq == N - 1:
                        return

        N = 20_000
        reader = asyncio.create_task(read_fast())
        for i in range(N):                            # publish is synchronous: it cannot wait
            srv.publish(E.Heartbeat(i, i, 0.0))
            srv.publish(E.QuoteUpdated("MES", 5000.0 + i, 5000.25 + i, None, None, i))
            if i % 50 == 0:
                await asyncio.sleep(0)                # let the loop serve the readers
        await asyncio.wait_for(reader, 30)
        assert last_seen == sorted(last_seen) and last_seen[-1] == N - 1
        # The engine's loop is still free: another client is served while `slow` is stuck.
        c = await Conn.open(srv.path)
        st = (await c.req(1, "status"))["result"]["control"]
        assert st["subscribers"] == 2 and st["dropped"].get("Heartbeat", 0) > 0
        assert st["coalesced"] > 0
        await c.close()
        # The slow reader finally reads: in order, told what it missed, up to the newest.
        seqs, alerts = [], []
        while not seqs or seqs[-1] != N - 1:
            ev = E.from_dict((await slow.line())["event"])
            if isinstance(ev, E.Heartbeat):
                seqs.append(ev.seq)
            elif isinstance(ev, E.Alert):
                alerts.append(ev)
        assert seqs == sorted(seqs) and len(seqs) < N
        assert alerts and alerts[0].code == "control-drops" and "Heartbeat" in alerts[0].message
        slow.sock.close()
        await fast.close()


async def test_closing_the_server_ends_streams_and_frees_the_name(run_dir: Path) -> None:
    path = run_dir / "demo.sock"
    srv = ControlServer(FakeEngine(), path)
    await srv.start()
    c = await Conn.open(path)
    await _events(c)
    await srv.close()
    assert await c.r.read() == b""                    # the stream ends, no hang
    await c.close()
    assert not path.exists()
    async with ControlServer(FakeEngine(), path):    # lock released: the name is free again
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(path))
        s.close()
