"""`scalpdesk ctl` as an operator runs it, against a real control socket served by a stand-in
engine on a background event loop."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.domain import events as E
from tests.unit.control_fixtures import FakeEngine, ServerThread, short_dir

runner = CliRunner()


@pytest.fixture
def rundir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with short_dir() as d:
        monkeypatch.setenv("SCALPDESK_RUN_DIR", str(d))
        yield d


@pytest.fixture
def engine(rundir: Path) -> Iterator[ServerThread]:
    with ServerThread(FakeEngine(), rundir / "demo.sock") as st:
        yield st


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, ["ctl", *args], catch_exceptions=False)


def test_status_human_and_json(engine: ServerThread) -> None:
    res = run("status", "--profile", "demo")
    assert res.exit_code == 0, res.output
    out = res.output
    assert "mode" in out and "ACTIVE" in out and "long 2 @ 5000.25" in out
    assert "−$37.50" in out                                   # day P&L in the money format
    assert "recon-1 (needs ack)" in out and "live-3" in out
    assert "blocked: reconciliation" in out
    res = run("status", "--json")                             # the only engine: found alone
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["position"] == 2 and st["control"]["subscribers"] == 0


def test_every_action_reaches_the_engine(engine: ServerThread) -> None:
    eng: FakeEngine = engine.target
    for cmd, expect in [("pause", "paused: mode PAUSED"), ("resume", "resumed: mode ACTIVE"),
                        ("arm", "armed: mode ACTIVE, armed yes"), ("disarm", "armed no"),
                        ("flatten", "flatten done: mode ACTIVE, armed no, flat"),
                        ("ack", "acknowledged all alerts"),
                        ("kill", "killed: mode HALTED"), ("rearm", "re-armed: mode ACTIVE")]:
        res = run(cmd, "--socket", str(engine.path))
        assert res.exit_code == 0, res.output
        assert expect in res.output, (cmd, res.output)
    assert eng.calls == ["pause", "resume", "arm", "disarm", "flatten", "ack:None", "kill",
                         "rearm"]


def test_arm_that_the_engine_declines_is_not_reported_as_done(engine: ServerThread) -> None:
    eng: FakeEngine = engine.target

    async def quiet_arm() -> dict:
        return await eng.status()              # a real engine declines by staying disarmed

    eng.killed = True
    eng.arm = quiet_arm  # type: ignore[method-assign]
    res = run("arm")
    assert res.exit_code == 1
    assert "the engine did not arm" in res.output and "ctl rearm` first" in res.output


def test_ack_one_alert_and_an_engine_refusal(engine: ServerThread) -> None:
    res = run("ack", "recon-1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["entries_blocked"] == ""
    res = run("ack", "nope")
    assert res.exit_code == 1
    assert "error: no alert nope" in res.output and "fix: `scalpdesk ctl status`" in res.output


def test_no_running_engine_exits_2_with_the_way_out(rundir: Path) -> None:
    res = run("status", "--profile", "topstep_50k")
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert f"no running engine for profile topstep_50k at {rundir / 'topstep_50k.sock'}" in text
    assert "start one with `scalpdesk live --profile topstep_50k`" in text
    res = run("status")                                        # nothing in the run dir at all
    assert res.exit_code == 2 and "no running engine" in res.output
    s = socket.socket(socket.AF_UNIX)                          # a dead engine's socket
    s.bind(str(rundir / "old.sock"))
    s.close()
    res = run("pause")
    assert res.exit_code == 2 and "stale sockets of stopped engines: old" in res.output


def test_several_engines_need_a_choice(engine: ServerThread, rundir: Path) -> None:
    with ServerThread(FakeEngine(), rundir / "topstep_50k.sock"):
        res = run("status")
        assert res.exit_code == 2
        assert "several engines are running: demo, topstep_50k" in res.output
        assert "--profile NAME" in res.output
        assert run("status", "--profile", "topstep_50k").exit_code == 0
    res = run("status", "--profile", "demo", "--socket", str(engine.path))
    assert res.exit_code == 2 and "not both" in res.output


def test_events_stream_until_the_engine_stops(rundir: Path) -> None:
    st = ServerThread(FakeEngine(), rundir / "demo.sock").__enter__()
    events = [E.Heartbeat(1_700_000_000_123_000_000, 7, 12.5),
              E.QuoteUpdated("MES", 5000.0, 5000.25, None, None, 1_700_000_000_200_000_000),
              E.Alert(1_700_000_000_300_000_000, "recon-1", "critical", "recon",
                      "broker position differs", True)]

    def feed() -> None:
        for _ in range(1_000):                 # wait for the CLI to subscribe (bounded)
            if st.subscribers():
                break
            threading.Event().wait(0.01)
        st.publish(*events)
        st.__exit__(None, None, None)          # the engine stops: the stream ends

    t = threading.Thread(target=feed)
    t.start()
    res = run("events")
    t.join(10)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("22:13:20.123Z  Heartbeat") and "seq=7" in lines[0]
    assert "Alert" in lines[1] and "needs_ack=True" in lines[1]
    assert not any("QuoteUpdated" in ln for ln in lines)      # quotes only with --quotes
    assert "the engine closed the stream" in res.output


def test_events_json_prints_every_event_raw(rundir: Path) -> None:
    st = ServerThread(FakeEngine(), rundir / "demo.sock").__enter__()
    q = E.QuoteUpdated("MES", 5000.0, 5000.25, None, None, 2)

    def feed() -> None:
        for _ in range(1_000):
            if st.subscribers():
                break
            threading.Event().wait(0.01)
        st.publish(q)
        st.__exit__(None, None, None)

    t = threading.Thread(target=feed)
    t.start()
    res = run("events", "--json", "--profile", "demo")
    t.join(10)
    assert res.exit_code == 0, res.output
    assert E.from_dict(json.loads(res.output.splitlines()[0])) == q


def test_stop_with_a_bad_policy_exits_2_before_calling(engine: ServerThread) -> None:
    res = run("stop", "--on-exit", "maybe", "--socket", str(engine.path))
    assert res.exit_code == 2 and "flatten or leave" in res.output
