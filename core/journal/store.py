"""The :class:`Journal`: one SQLite file per engine, append-only, write-ahead for orders."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.domain import events as E
from core.journal.schema import INTENT_STATUSES, UNRESOLVED_STATUSES, JournalError, connect

_PAGE = 500         # rows fetched per query by replay (no read transaction held for long)


def order_key(order_id: int, updated_ns: int) -> str:
    """Dedupe key of a raw broker order update: the same (order id, update time) is one event."""
    return f"order:{int(order_id)}:{int(updated_ns)}"


def fill_key(fill_id: int) -> str:
    """Dedupe key of a raw broker fill (trade): its id is unique at the broker."""
    return f"fill:{int(fill_id)}"


def _dumps(x: Any) -> str:
    return json.dumps(x, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class IntentRecord:
    """One write-ahead order as journaled.

    Attributes:
        tag: Deterministic client tag ``{run_id}-{seq}`` (the broker's customTag).
        run_id: The run that allocated the tag (None for a tag not of that shape).
        payload: What the engine meant to send.
        status: ``journaled``, ``submitted``, ``confirmed``, ``rejected``, ``refused``,
            ``unknown`` or ``resolved``.
        order_id: The broker's order id once known.
        reason: Why the last status was set (empty when there is nothing to say).
        created_ns: When it was journaled (None when the journal has no clock).
        updated_ns: When its status last changed.
    """

    tag: str
    run_id: str | None
    payload: dict[str, Any]
    status: str
    order_id: int | None
    reason: str
    created_ns: int | None
    updated_ns: int | None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One engine run seen by the journal.

    Attributes:
        run_id: The run's id (the prefix of its order tags).
        started_ns: When the run first wrote (None without a clock).
        tags: How many order tags it allocated.
        events: How many events it appended; ``first_seq`` / ``last_seq`` bound them.
        last_ts_ns: Time of its newest event.
    """

    run_id: str
    started_ns: int | None
    tags: int
    events: int
    first_seq: int | None
    last_seq: int | None
    last_ts_ns: int | None


class Journal:
    """The engine's durable memory: an append-only event log plus write-ahead order intents.

    Args:
        path: The SQLite file (created 0600 with its parent directories when missing).
        now_ns: Clock for the journal's own timestamps (intents, checkpoints), e.g.
            ``clock.now_ns``; without one those timestamps are NULL. Event times always come
            from the events themselves.
        readonly: Open for reading only (watch a running engine's journal from another process).

    Raises:
        JournalError: The file is not a journal, has another schema version, or cannot be opened.
    """

    def __init__(self, path: str | Path, *, now_ns: Callable[[], int] | None = None,
                 readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._now = now_ns
        self._con = connect(self.path, readonly=readonly)
        # One connection may be used from the engine's loop and a worker thread: serialise.
        self._lock = threading.RLock()
        row = self._con.execute("SELECT snapshot FROM risk ORDER BY id DESC LIMIT 1").fetchone()
        self._last_risk_json: str | None = row[0] if row else None

    # ---------------------------------------------------------------- housekeeping
    def close(self) -> None:
        """Close the file (further calls fail)."""
        with self._lock:
            self._con.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ts(self) -> int | None:
        return None if self._now is None else int(self._now())

    def _write(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``fn`` in one IMMEDIATE transaction: all of it is durable on return, or none."""
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                out = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return out

    @staticmethod
    def _register_run(con: sqlite3.Connection, run_id: str, ts: int | None) -> None:
        con.execute("INSERT INTO runs (run_id, started_ns) VALUES (?, ?) "
                    "ON CONFLICT (run_id) DO NOTHING", (run_id, ts))

    # ---------------------------------------------------------------- events
    @staticmethod
    def _encode(event: E.Event | E.Intent | Mapping[str, Any]) -> tuple[str, int | None, str]:
        # A mapping is checked by decoding it: the log never holds what replay cannot read.
        if isinstance(event, Mapping):
            event = E.from_dict(dict(event))
        d = E.to_dict(event)
        return d["type"], d.get("ts_ns"), _dumps(d)

    def append(self, event: E.Event | E.Intent | Mapping[str, Any], *, run_id: str,
               dedupe_key: str | None = None) -> int | None:
        """Append one event (durable on return).

        Args:
            event: An event or intent of :mod:`core.domain.events`, or its :func:`to_dict`
                mapping (validated the same way).
            run_id: The engine run that saw it.
            dedupe_key: For raw broker events: :func:`order_key` / :func:`fill_key`. An event
                whose key is already in the log is not appended again.

        Returns:
            The event's sequence number, or None when ``dedupe_key`` was already seen.

        Raises:
            ValueError: The mapping is not a valid event.
            TypeError: ``event`` is not an event.
        """
        return self.append_many([(event, dedupe_key)], run_id=run_id)[0]

    def append_many(self, items: Iterable[tuple[E.Event | E.Intent | Mapping[str, Any],
                                                str | None]],
                    *, run_id: str) -> list[int | None]:
        """Append several ``(event, dedupe_key)`` pairs in one transaction (one fsync).

        Use it for bursts (a reconciliation's synthesized events, a batch of quotes): every
        commit of a ``synchronous=FULL`` journal costs one fsync.

        Returns:
            Per item, its sequence number or None when deduplicated.
        """
        rows = [(*self._encode(ev), key) for ev, key in items]
        now = self._ts()

        def write(con: sqlite3.Connection) -> list[int | None]:
            self._register_run(con, run_id, now)
            out: list[int | None] = []
            for typ, ts, payload, key in rows:
                r = con.execute(
                    "INSERT INTO events (ts_ns, run_id, type, dedupe_key, payload) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq",
                    (ts if ts is not None else (now or 0), run_id, typ, key, payload)).fetchone()
                out.append(None if r is None else int(r[0]))
            return out

        return self._write(write)

    def replay(self, since_seq: int = 0, *, types: Iterable[str] | None = None
               ) -> Iterator[tuple[int, E.Event | E.Intent]]:
        """The events after ``since_seq``, oldest first, decoded.

        Args:
            since_seq: Only events with a larger sequence number.
            types: Only these class names (e.g. ``{"FillReceived"}``).

        Yields:
            ``(seq, event)``. Read in pages, so appending while iterating is safe; events
            appended meanwhile are included.
        """
        want = sorted(set(types)) if types is not None else None
        last = int(since_seq)
        while True:
            sql = "SELECT seq, payload FROM events WHERE seq > ?"
            args: list[Any] = [last]
            if want is not None:
                sql += f" AND type IN ({','.join('?' * len(want))})"
                args += want
            with self._lock:
                rows = self._con.execute(sql + f" ORDER BY seq LIMIT {_PAGE}", args).fetchall()
            for seq, payload in rows:
                yield int(seq), E.from_dict(json.loads(payload))
            if len(rows) < _PAGE:
                return
            last = int(rows[-1][0])

    def last_seq(self) -> int:
        """The newest event's sequence number (0 when the log is empty)."""
        with self._lock:
            return int(self._con.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def runs(self) -> list[RunInfo]:
        """Every run that allocated a tag or appended an event, in the order they first wrote."""
        with self._lock:
            rows = self._con.execute(
                "SELECT r.run_id, r.started_ns, r.next_seq, COUNT(e.seq), MIN(e.seq), "
                "MAX(e.seq), MAX(e.ts_ns) FROM runs r LEFT JOIN events e USING (run_id) "
                "GROUP BY r.run_id ORDER BY r.rowid").fetchall()
        return [RunInfo(*r) for r in rows]

    # ---------------------------------------------------------------- write-ahead orders
    def next_tag(self, run_id: str) -> str:
        """Allocate the run's next order tag, ``{run_id}-{seq}`` (durable: never handed out twice,
        also across a restart that reuses ``run_id``)."""
        if not run_id:
            raise ValueError("run_id must not be empty")
        now = self._ts()
        with self._lock:
            seq = self._con.execute(
                "INSERT INTO runs (run_id, started_ns, next_seq) VALUES (?, ?, 1) "
                "ON CONFLICT (run_id) DO UPDATE SET next_seq = next_seq + 1 RETURNING next_seq",
                (run_id, now)).fetchone()[0]
        return f"{run_id}-{int(seq)}"

    def record_intent(self, tag: str, payload: Mapping[str, Any]) -> None:
        """Journal an order intent as ``journaled``; committed (fsynced) before this returns.

        Call it BEFORE sending the order: a crash after the send then always leaves a record
        to look the tag up by.

        Raises:
            JournalError: The tag was already journaled (tags are never reused).
            TypeError: ``payload`` is not JSON-serialisable (nothing is written).
        """
        body = _dumps(dict(payload))
        head, _, tail = tag.rpartition("-")
        run_id = head if head and tail.isdigit() else None
        now = self._ts()

        def write(con: sqlite3.Connection) -> None:
            try:
                con.execute("INSERT INTO intents (tag, run_id, payload, status, created_ns, "
                            "updated_ns) VALUES (?, ?, ?, 'journaled', ?, ?)",
                            (tag, run_id, body, now, now))
            except sqlite3.IntegrityError:
                raise JournalError(f"intent {tag} was already journaled; tags are never reused",
                                   "allocate tags with next_tag()") from None
            con.execute("INSERT INTO intent_log (tag, status, order_id, reason, ts_ns) "
                        "VALUES (?, 'journaled', NULL, '', ?)", (tag, now))

        self._write(write)

    def mark(self, tag: str, status: str, order_id: int | None = None, reason: str = "") -> None:
        """Record an intent's new status (durable on return; every change is kept in the log).

        The journal records what the engine decided; it does not police the order of states
        (a late acknowledgement may legitimately confirm an intent resolved as not found).

        Args:
            tag: The intent's tag.
            status: One of ``submitted``, ``confirmed``, ``rejected``, ``refused``, ``unknown``,
                ``resolved`` (or ``journaled``).
            order_id: The broker's id, when this status brings it (kept when None).
            reason: Why (empty: nothing to say).

        Raises:
            ValueError: Unknown status.
            JournalError: No intent has this tag.
        """
        if status not in INTENT_STATUSES:
            raise ValueError(f"intent status must be one of {', '.join(sorted(INTENT_STATUSES))}; "
                             f"got {status!r}")
        now = self._ts()

        def write(con: sqlite3.Connection) -> None:
            cur = con.execute("UPDATE intents SET status = ?, order_id = COALESCE(?, order_id), "
                              "reason = ?, updated_ns = ? WHERE tag = ?",
                              (status, order_id, reason, now, tag))
            if cur.rowcount == 0:
                raise JournalError(f"no journaled intent has tag {tag}",
                                   "record_intent() must come before mark()")
            con.execute("INSERT INTO intent_log (tag, status, order_id, reason, ts_ns) "
                        "VALUES (?, ?, ?, ?, ?)", (tag, status, order_id, reason, now))

        self._write(write)

    def intent(self, tag: str) -> IntentRecord | None:
        """The intent with this tag, or None."""
        with self._lock:
            row = self._con.execute(f"SELECT {_INTENT_COLS} FROM intents WHERE tag = ?",
                                    (tag,)).fetchone()
        return None if row is None else _intent(row)

    def unresolved(self) -> list[IntentRecord]:
        """Intents whose outcome nobody knows: ``unknown``, or ``journaled``/``submitted`` and
        never answered. A restart looks each up at the broker by tag — it never re-sends one."""
        marks = ",".join("?" * len(UNRESOLVED_STATUSES))
        with self._lock:
            rows = self._con.execute(f"SELECT {_INTENT_COLS} FROM intents WHERE status IN "
                                     f"({marks}) ORDER BY rowid", UNRESOLVED_STATUSES).fetchall()
        return [_intent(r) for r in rows]

    def intent_history(self, tag: str) -> list[tuple[str, int | None, str, int | None]]:
        """Every status the intent went through: ``(status, order_id, reason, ts_ns)``, in order."""
        with self._lock:
            return [tuple(r) for r in self._con.execute(  # type: ignore[misc]
                "SELECT status, order_id, reason, ts_ns FROM intent_log WHERE tag = ? "
                "ORDER BY id", (tag,))]

    # ---------------------------------------------------------------- risk state, checkpoints
    def save_risk(self, snapshot: Mapping[str, Any]) -> bool:
        """Append a risk kernel snapshot (``RiskKernel.snapshot()``) when it changed.

        Returns:
            Whether it was written (an unchanged snapshot is not stored again).
        """
        body = _dumps(dict(snapshot))
        with self._lock:
            if body == self._last_risk_json:
                return False
            now = self._ts()
            self._con.execute("INSERT INTO risk (ts_ns, snapshot) VALUES (?, ?)", (now, body))
            self._last_risk_json = body
        return True

    def last_risk(self) -> dict[str, Any] | None:
        """The newest risk snapshot, or None when none was saved."""
        with self._lock:
            row = self._con.execute("SELECT snapshot FROM risk ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else json.loads(row[0])

    def set_checkpoint(self, name: str, value: Any) -> None:
        """Store a named JSON value (e.g. the newest broker trade time reconciled)."""
        body = _dumps(value)
        with self._lock:
            self._con.execute("INSERT INTO checkpoints (name, value, updated_ns) VALUES (?, ?, ?) "
                              "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                              "updated_ns = excluded.updated_ns", (name, body, self._ts()))

    def checkpoint(self, name: str, default: Any = None) -> Any:
        """A value stored with :meth:`set_checkpoint`, or ``default``."""
        with self._lock:
            row = self._con.execute("SELECT value FROM checkpoints WHERE name = ?",
                                    (name,)).fetchone()
        return default if row is None else json.loads(row[0])


_INTENT_COLS = "tag, run_id, payload, status, order_id, reason, created_ns, updated_ns"


def _intent(row: tuple[Any, ...]) -> IntentRecord:
    tag, run_id, payload, status, order_id, reason, created, updated = row
    return IntentRecord(tag, run_id, json.loads(payload), status, order_id, reason, created,
                        updated)
