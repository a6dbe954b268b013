"""The journal on real SQLite files: round trips, dedupe, write-ahead intents that survive
``kill -9``, WAL, schema refusal, a reader beside a writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core.domain import events as E
from core.journal import (
    SCHEMA_VERSION,
    Journal,
    JournalError,
    default_path,
    fill_key,
    order_key,
)
from tests.unit.test_domain_events import SAMPLES

ROOT = Path(__file__).resolve().parents[2]


class Ticker:
    """A deterministic clock for the journal's own timestamps."""

    def __init__(self) -> None:
        self.ns = 1_000

    def __call__(self) -> int:
        self.ns += 1
        return self.ns


@pytest.fixture
def jpath(tmp_path: Path) -> Path:
    return tmp_path / "state" / "journal" / "demo.sqlite"


def test_every_event_and_intent_round_trips_through_the_file(jpath: Path) -> None:
    with Journal(jpath) as j:
        seqs = [j.append(x, run_id="r1") for x in SAMPLES]  # type: ignore[arg-type]
    assert seqs == list(range(1, len(SAMPLES) + 1))
    with Journal(jpath) as j:                                  # read back after a reopen
        back = list(j.replay())
    assert [s for s, _ in back] == seqs
    assert [x for _, x in back] == SAMPLES
    assert all(type(a) is type(b) for (_, a), b in zip(back, SAMPLES))


def test_replay_since_and_by_type(jpath: Path) -> None:
    with Journal(jpath) as j:
        # more than one page, in one transaction (each commit is an fsync)
        j.append_many([(E.Heartbeat(i, i, 0.0) if i % 2 else
                        E.BarClosed("C", i, 60, 1.0, 1.0, 1.0, 1.0, 1.0), None)
                       for i in range(1_202)], run_id="r")
        j.append(E.BarClosed("C", 1_202, 60, 1.0, 1.0, 1.0, 1.0, 1.0), run_id="r")
        assert j.last_seq() == 1_203
        assert [s for s, _ in j.replay(since_seq=1_200)] == [1_201, 1_202, 1_203]
        hb = [x for _, x in j.replay(types={"Heartbeat"})]
        assert len(hb) == 601 and all(type(x) is E.Heartbeat for x in hb)


def test_mappings_are_validated_before_they_are_written(jpath: Path) -> None:
    with Journal(jpath) as j:
        good = E.to_dict(E.Heartbeat(1, 2, 3.0))
        assert j.append(good, run_id="r") == 1
        with pytest.raises(ValueError, match="unknown event type 'Nope'"):
            j.append({"type": "Nope"}, run_id="r")
        with pytest.raises(ValueError, match="missing"):
            j.append({"type": "Heartbeat", "ts_ns": 1}, run_id="r")
        assert j.last_seq() == 1


def test_raw_broker_events_are_journaled_once(jpath: Path) -> None:
    fill = E.FillReceived(10, 77, 5, "r-1", "C", 1, 1, 5000.0, 0.37)
    upd = E.OrderUpdated(11, "r-1", 5, "filled", 1, "market", 1, 1, None, None, "")
    with Journal(jpath) as j:
        assert j.append(fill, run_id="r", dedupe_key=fill_key(77)) == 1
        assert j.append(fill, run_id="r", dedupe_key=fill_key(77)) is None
        assert j.append(upd, run_id="r", dedupe_key=order_key(5, 11)) == 2
        # same order, newer update time: a new event; a replay of either: nothing
        assert j.append(upd, run_id="r", dedupe_key=order_key(5, 12)) == 3
        assert j.append_many([(upd, order_key(5, 11)), (fill, fill_key(78))],
                             run_id="r2") == [None, 4]
    with Journal(jpath) as j:                   # also across a restart
        assert j.append(fill, run_id="r3", dedupe_key=fill_key(77)) is None
        assert j.last_seq() == 4


def test_tags_are_durable_and_never_reused(jpath: Path) -> None:
    with Journal(jpath) as j:
        assert [j.next_tag("run-a") for _ in range(3)] == ["run-a-1", "run-a-2", "run-a-3"]
        assert j.next_tag("run-b") == "run-b-1"
    with Journal(jpath) as j:                   # a restart that reuses the run id continues
        assert j.next_tag("run-a") == "run-a-4"
        j.record_intent("run-a-4", {"side": 1})
        with pytest.raises(JournalError, match="already journaled"):
            j.record_intent("run-a-4", {"side": -1})
        assert j.intent("run-a-4").payload == {"side": 1}  # type: ignore[union-attr]


def test_intent_lifecycle_and_unresolved(jpath: Path) -> None:
    clock = Ticker()
    with Journal(jpath, now_ns=clock) as j:
        tags = [j.next_tag("r") for _ in range(6)]
        for t in tags:
            j.record_intent(t, {"role": "entry", "size": 1})
        j.mark(tags[1], "submitted")
        j.mark(tags[2], "submitted")
        j.mark(tags[2], "confirmed", order_id=901)
        j.mark(tags[3], "submitted")
        j.mark(tags[3], "unknown", reason="timeout")
        j.mark(tags[4], "refused", reason="halted")
        j.mark(tags[5], "submitted")
        j.mark(tags[5], "rejected", reason="insufficient margin")
        assert [i.tag for i in j.unresolved()] == [tags[0], tags[1], tags[3]]
        j.mark(tags[3], "confirmed", order_id=902)        # a late acknowledgement
        j.mark(tags[2], "resolved")                       # order id kept when not given
        with pytest.raises(JournalError, match="no journaled intent has tag r-99"):
            j.mark("r-99", "submitted")
        with pytest.raises(ValueError, match="intent status must be one of"):
            j.mark(tags[0], "sent")
    with Journal(jpath) as j:
        assert [i.tag for i in j.unresolved()] == [tags[0], tags[1]]
        rec = j.intent(tags[3])
        assert rec is not None and (rec.status, rec.order_id, rec.run_id) == ("confirmed", 902, "r")
        assert rec.created_ns is not None and rec.updated_ns > rec.created_ns  # type: ignore[operator]
        assert j.intent(tags[2]).order_id == 901                      # type: ignore[union-attr]
        assert [h[0] for h in j.intent_history(tags[3])] == [
            "journaled", "submitted", "unknown", "confirmed"]
        assert j.intent("nope") is None


def test_risk_snapshots_and_checkpoints_survive_a_reopen(jpath: Path) -> None:
    snap = {"version": 1, "profile": "demo", "floats": {"day_pnl": -12.5, "mll": None},
            "ints": {"mode": 2}}
    with Journal(jpath) as j:
        assert j.last_risk() is None and j.checkpoint("last_trade_ns") is None
        assert j.save_risk(snap) is True
        assert j.save_risk(dict(snap)) is False           # unchanged: not stored again
        j.set_checkpoint("last_trade_ns", 1_700_000_000_000_000_000)
        j.set_checkpoint("last_trade_ns", 1_700_000_000_000_000_001)
    with Journal(jpath) as j:
        assert j.last_risk() == snap
        assert j.save_risk(snap) is False                 # remembered across a reopen
        assert j.checkpoint("last_trade_ns") == 1_700_000_000_000_000_001
        assert j.checkpoint("missing", default=0) == 0


def test_runs_are_listed(jpath: Path) -> None:
    with Journal(jpath, now_ns=Ticker()) as j:
        j.next_tag("r1")
        j.append(E.Heartbeat(5, 1, 0.0), run_id="r1")
        j.append(E.Heartbeat(9, 2, 1.0), run_id="r1")
        j.append(E.Heartbeat(20, 1, 0.0), run_id="r2")
        runs = j.runs()
    assert [(r.run_id, r.tags, r.events, r.first_seq, r.last_seq, r.last_ts_ns) for r in runs] == [
        ("r1", 1, 2, 1, 2, 9), ("r2", 0, 1, 3, 3, 20)]


def test_file_is_wal_full_private_and_append_only(jpath: Path) -> None:
    with Journal(jpath) as j:
        j.append(E.Heartbeat(1, 1, 0.0), run_id="r")
        con = sqlite3.connect(jpath)
        try:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute("DELETE FROM events")
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute("UPDATE events SET type = 'x'")
        finally:
            con.close()
        assert j._con.execute("PRAGMA synchronous").fetchone()[0] == 2   # FULL
        for p in (jpath, jpath.with_name(jpath.name + "-wal")):
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE(jpath.parent.stat().st_mode) == 0o700


def test_other_schema_versions_and_foreign_files_are_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    Journal(old).close()
    con = sqlite3.connect(old)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(JournalError, match=f"schema version {SCHEMA_VERSION + 1}") as err:
        Journal(old)
    assert "move the file aside" in err.value.hint

    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(JournalError, match="not a scalpdesk journal"):
        Journal(foreign)
    con = sqlite3.connect(foreign)                        # refused without being touched
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()

    text = tmp_path / "notes.sqlite"
    text.write_text("hello, this is not a database" * 10)
    with pytest.raises(JournalError, match="not a scalpdesk journal"):
        Journal(text)
    with pytest.raises(JournalError, match="no journal at"):
        Journal(tmp_path / "missing.sqlite", readonly=True)


def _child(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_intents_survive_kill_9_of_the_writer(jpath: Path) -> None:
    child = _child("""
        import os, signal, sys
        from core.journal import Journal
        j = Journal(sys.argv[1])
        t1, t2, t3 = (j.next_tag("live") for _ in range(3))
        j.record_intent(t1, {"role": "entry", "side": 1, "size": 2})
        j.mark(t1, "submitted")
        j.mark(t1, "confirmed", order_id=4242)
        j.record_intent(t2, {"role": "protect", "side": -1, "size": 2, "stop_price": 4990.0})
        j.mark(t2, "submitted")           # sent; the process dies before the answer
        j.record_intent(t3, {"role": "exit", "side": -1, "size": 2})
        print("journaled", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """, str(jpath))
    with child.stdout:                                 # type: ignore[union-attr]
        assert child.stdout.readline().strip() == "journaled"  # type: ignore[union-attr]
    assert child.wait() == -signal.SIGKILL
    with Journal(jpath) as j:
        assert [(i.tag, i.status) for i in j.unresolved()] == [
            ("live-2", "submitted"), ("live-3", "journaled")]
        assert j.intent("live-1").order_id == 4242                 # type: ignore[union-attr]
        assert j.intent("live-2").payload["stop_price"] == 4990.0  # type: ignore[union-attr]
        assert j.next_tag("live") == "live-4"                      # no tag handed out twice


def test_kill_9_mid_stream_leaves_only_whole_transactions(jpath: Path) -> None:
    # The child appends batches of 10 in one transaction each, as fast as it can; it is
    # killed wherever it happens to be. Only whole batches may be in the file afterwards.
    child = _child("""
        import sys
        from core.domain.events import Heartbeat
        from core.journal import Journal
        j = Journal(sys.argv[1])
        n = 0
        while True:
            j.append_many([(Heartbeat(n + i, n + i, 0.0), f"hb:{n + i}") for i in range(10)],
                          run_id="r")
            n += 10
            if n == 200:
                print("going", flush=True)
    """, str(jpath))
    with child.stdout:                                 # type: ignore[union-attr]
        assert child.stdout.readline().strip() == "going"  # type: ignore[union-attr]
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with Journal(jpath) as j:
        seqs = [s for s, _ in j.replay()]
        beats = [x.seq for _, x in j.replay()]                     # type: ignore[union-attr]
    assert len(seqs) >= 200 and len(seqs) % 10 == 0
    assert seqs == list(range(1, len(seqs) + 1)) and beats == list(range(len(seqs)))


def test_a_reader_sees_whole_batches_while_a_writer_appends(jpath: Path) -> None:
    Journal(jpath).close()
    done = threading.Event()

    def write() -> None:
        with Journal(jpath) as w:
            for b in range(60):
                w.append_many([(E.Heartbeat(b * 5 + i, b * 5 + i, 0.0), None) for i in range(5)],
                              run_id="w")
        done.set()

    t = threading.Thread(target=write)
    with Journal(jpath, readonly=True) as r:
        t.start()
        seen = []
        while not done.is_set() or not seen or seen[-1] < 300:
            seqs = [s for s, _ in r.replay()]
            assert len(seqs) % 5 == 0 and seqs == list(range(1, len(seqs) + 1))
            seen.append(len(seqs))
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            r.append(E.Heartbeat(0, 0, 0.0), run_id="x")
    t.join()
    assert seen == sorted(seen) and seen[-1] == 300


def test_default_path_lives_in_the_user_home(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("SCALPDESK_HOME", str(tmp_path))
    assert default_path("topstep_50k") == tmp_path / "journal" / "topstep_50k.sqlite"
    with pytest.raises(ValueError):
        default_path("../etc")
