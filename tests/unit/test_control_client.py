"""Socket locations, the per-subscriber shedding policy, and the blocking client against a real
server on a background loop."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.control import (
    CommandFailed,
    ControlClient,
    ControlError,
    EngineNotRunning,
    list_sockets,
    run_dir,
    socket_path,
)
from core.control.fanout import Subscriber
from core.domain import events as E
from tests.unit.control_fixtures import FakeEngine, ServerThread, short_dir


# ---------------------------------------------------------------------------- paths
def test_socket_path_prefers_the_runtime_dir(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.delenv("SCALPDESK_RUN_DIR", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert socket_path("topstep_50k") == tmp_path / "scalpdesk" / "topstep_50k.sock"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("SCALPDESK_HOME", str(tmp_path / "home"))
    assert socket_path("demo") == tmp_path / "home" / "run" / "demo.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert run_dir() == tmp_path / "home" / "run"
    monkeypatch.setenv("SCALPDESK_RUN_DIR", str(tmp_path / "override"))
    assert socket_path("demo") == tmp_path / "override" / "demo.sock"


@pytest.mark.parametrize("bad", ["", "../x", ".hidden", "a/b"])
def test_socket_path_refuses_names_that_are_not_file_names(bad: str) -> None:
    with pytest.raises(ControlError, match="not a profile name"):
        socket_path(bad)


def test_list_sockets_lists_only_sockets(tmp_path: Path) -> None:
    assert list_sockets(tmp_path / "missing") == []
    (tmp_path / "notes.sock").write_text("not a socket")
    (tmp_path / "demo.sock.lock").write_text("")
    with short_dir() as d:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(d / "b.sock"))
        s2 = socket.socket(socket.AF_UNIX)
        s2.bind(str(d / "a.sock"))
        (d / "a.sock.lock").write_text("")
        assert list_sockets(d) == [d / "a.sock", d / "b.sock"]
        s.close()
        s2.close()
    assert list_sockets(tmp_path) == []


# ---------------------------------------------------------------------------- shedding policy
def _drain(sub: Subscriber) -> list[E.Event]:
    async def go() -> list[E.Event]:
        return [await sub.get() for _ in range(len(sub))]
    return asyncio.run(go())


def q(contract: str, ts: int) -> E.QuoteUpdated:
    return E.QuoteUpdated(contract, 1.0, 1.25, None, None, ts)


def test_quotes_coalesce_per_contract_in_place() -> None:
    sub = Subscriber(10)
    for ev in (q("A", 1), E.Heartbeat(2, 1, 0.0), q("B", 3), q("A", 4), q("A", 5)):
        sub.put(ev)
    # A keeps its place in the queue but carries the newest value; nothing was dropped.
    assert _drain(sub) == [q("A", 5), E.Heartbeat(2, 1, 0.0), q("B", 3)]
    assert sub.coalesced == 2 and sub.dropped_total == 0 and sub.drop_report() is None
    sub.put(q("A", 6))                         # after a read, a new quote queues again
    assert _drain(sub) == [q("A", 6)]


def test_overflow_drops_quotes_first_then_the_oldest_other_event() -> None:
    sub = Subscriber(3)
    sub.put(E.Heartbeat(1, 1, 0.0))
    sub.put(q("A", 2))
    sub.put(E.Heartbeat(3, 2, 0.0))
    sub.put(E.Heartbeat(4, 3, 0.0))           # over the bound: the quote goes first
    assert dict(sub.dropped) == {"QuoteUpdated": 1}
    sub.put(E.Heartbeat(5, 4, 0.0))           # no quote left: the oldest event goes
    assert dict(sub.dropped) == {"QuoteUpdated": 1, "Heartbeat": 1}
    assert [e.seq for e in _drain(sub)] == [2, 3, 4]  # type: ignore[union-attr]
    report = sub.drop_report()
    assert report is not None and report.code == "control-drops" and report.level == "warning"
    assert "2 events dropped" in report.message and report.ts_ns == 5
    assert sub.drop_report() is None           # reported once


# ---------------------------------------------------------------------------- blocking client
@pytest.fixture
def engine() -> Iterator[tuple[ServerThread, ControlClient]]:
    with short_dir() as d, ServerThread(FakeEngine(), d / "demo.sock") as st:
        yield st, ControlClient(st.path, timeout=5)


def test_client_runs_every_command(engine: tuple[ServerThread, ControlClient]) -> None:
    st, cli = engine
    assert cli.is_running()
    assert cli.call("status")["mode"] == "ACTIVE"
    assert cli.call("pause")["mode"] == "PAUSED"
    assert cli.call("resume")["mode"] == "ACTIVE"
    assert cli.call("arm")["armed"] is True
    assert cli.call("disarm")["armed"] is False
    assert cli.call("flatten")["position"] == 0
    assert cli.call("ack", alert_id="feed-2")["entries_blocked"] == "reconciliation"
    assert cli.call("ack")["alerts"] == []
    assert cli.call("kill")["killed"] is True
    with pytest.raises(CommandFailed, match="arm refused") as err:
        cli.call("arm")
    assert err.value.hint == "re-arm after a kill is explicit: `scalpdesk ctl rearm`"
    assert cli.call("rearm")["killed"] is False
    with pytest.raises(ValueError, match="unknown command"):
        cli.call("launch")


def wait_until(pred: Callable[[], bool]) -> None:
    """Poll a condition another thread makes true (bounded, so a bug fails instead of hanging)."""
    pause = threading.Event()
    for _ in range(1_000):
        if pred():
            return
        pause.wait(0.01)
    raise AssertionError("condition never became true")


def test_client_streams_typed_or_raw_events(engine: tuple[ServerThread, ControlClient]) -> None:
    st, cli = engine
    got: list[object] = []

    def read(raw: bool) -> None:
        stream = cli.stream_events(raw=raw)
        got.append(next(stream))
        got.append(next(stream))
        stream.close()

    for raw in (False, True):
        t = threading.Thread(target=read, args=(raw,))
        t.start()
        wait_until(lambda: st.subscribers() == 1)
        st.publish(E.Heartbeat(1, 1, 0.5), q("MES", 2))
        t.join(10)
        wait_until(lambda: st.subscribers() == 0)   # the server sees the reader leave
    assert got[:2] == [E.Heartbeat(1, 1, 0.5), q("MES", 2)]
    assert got[2:] == [E.to_dict(E.Heartbeat(1, 1, 0.5)), E.to_dict(q("MES", 2))]


def test_no_engine_is_a_clear_error() -> None:
    with short_dir() as d:
        cli = ControlClient(d / "topstep_50k.sock")
        assert not cli.is_running()
        with pytest.raises(EngineNotRunning) as err:
            cli.call("status")
        assert str(err.value) == (
            f"no running engine for profile topstep_50k at {d / 'topstep_50k.sock'}\n"
            "  fix: start one with `scalpdesk live --profile topstep_50k`")
        s = socket.socket(socket.AF_UNIX)      # a stale socket: the file is there, no one listens
        s.bind(str(d / "topstep_50k.sock"))
        s.close()
        with pytest.raises(EngineNotRunning):
            cli.call("status")
        with pytest.raises(EngineNotRunning):
            next(cli.stream_events())


def test_a_silent_engine_times_out_with_a_hint() -> None:
    with short_dir() as d:
        srv = socket.socket(socket.AF_UNIX)    # accepts connections, never answers
        srv.bind(str(d / "demo.sock"))
        srv.listen()
        try:
            with pytest.raises(ControlError, match="did not answer `status` within 0.2 s"):
                ControlClient(d / "demo.sock", timeout=0.2).call("status")
        finally:
            srv.close()
