"""The journal's SQLite schema and how a file is opened, created and checked.

Kept apart from :mod:`core.journal.store` so the on-disk format is readable in one place.
Bump :data:`SCHEMA_VERSION` on any incompatible change; a journal of another version is refused
(never migrated silently under a running engine).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

#: Version of the on-disk format this code reads and writes.
SCHEMA_VERSION = 1
#: Written into the file header (PRAGMA application_id) so a journal is recognisable as one.
APPLICATION_ID = 0x5C41D35C

#: Statuses an intent moves through (see :meth:`core.journal.Journal.mark`).
INTENT_STATUSES = frozenset({"journaled", "submitted", "confirmed", "rejected", "refused",
                             "unknown", "resolved"})
#: Statuses whose outcome a restart must look up by tag (never re-send).
UNRESOLVED_STATUSES = ("journaled", "submitted", "unknown")

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    started_ns INTEGER,
    next_seq INTEGER NOT NULL DEFAULT 0      -- last tag sequence handed out by next_tag
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    type TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,                  -- NULL: never deduplicated
    payload TEXT NOT NULL                    -- JSON of core.domain.events.to_dict
);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_run ON events (run_id, seq);
CREATE TABLE intents (                       -- current state of each write-ahead order
    tag TEXT PRIMARY KEY,
    run_id TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    order_id INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    created_ns INTEGER,
    updated_ns INTEGER
);
CREATE INDEX intents_status ON intents (status);
CREATE TABLE intent_log (                    -- every status change, in order (the audit trail)
    id INTEGER PRIMARY KEY,
    tag TEXT NOT NULL,
    status TEXT NOT NULL,
    order_id INTEGER,
    reason TEXT NOT NULL,
    ts_ns INTEGER
);
CREATE TABLE risk (id INTEGER PRIMARY KEY, ts_ns INTEGER, snapshot TEXT NOT NULL);
CREATE TABLE checkpoints (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ns INTEGER);
"""

# Append-only is enforced by the file itself, not only by this code's manners.
_APPEND_ONLY = ("events", "intent_log", "risk")
_TRIGGERS = "".join(
    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END;\n"
    for t in _APPEND_ONLY for op in ("UPDATE", "DELETE"))


class JournalError(Exception):
    """The journal cannot be opened or was asked to do something it must refuse.

    Attributes:
        hint: How to fix it (may be empty).
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """Open (creating if needed) a journal file and check or create its schema.

    Args:
        path: The SQLite file.
        readonly: Open without write access (a second process watching the journal).

    Returns:
        A connection in autocommit mode (transactions are explicit), WAL, synchronous=FULL.

    Raises:
        JournalError: Not a journal, another schema version, or the file cannot be opened.
    """
    if readonly:
        if not path.exists():
            raise JournalError(f"no journal at {path}", "check the path or the profile name")
        uri = f"file:{path}?mode=ro"
    else:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Create it 0600 before SQLite does: it holds account activity. SQLite gives the
            # -wal and -shm files the database file's permissions.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        uri = f"file:{path}"
    try:
        con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                              timeout=10.0)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open journal {path}: {exc}") from None
    try:
        _prepare(con, path, readonly=readonly)
    except BaseException:
        con.close()
        raise
    return con


def _prepare(con: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise
        raise JournalError(f"{path} is not a scalpdesk journal ({exc})",
                           "give the path of a journal, or a new file name") from None
    # Identify the file before changing anything in it (a foreign SQLite file stays untouched).
    if tables:
        _check_identity(con, path, tables, app_id)
    elif readonly:
        raise JournalError(f"{path} is an empty file, not a journal")
    if not readonly:
        # WAL: readers never block the writer, and a commit is one append to the log.
        # FULL: the WAL is fsynced at every commit, so a journaled intent survives a power
        # cut, not only a crash of this process (the write-ahead guarantee).
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"journal {path}: SQLite refused WAL mode (got {mode})",
                               "put the journal on a local file system")
        con.execute("PRAGMA synchronous=FULL")
    if not tables:
        _create(con)


def _check_identity(con: sqlite3.Connection, path: Path, tables: set[str], app_id: int) -> None:
    if "meta" not in tables or app_id != APPLICATION_ID:
        raise JournalError(f"{path} is an SQLite file but not a scalpdesk journal",
                           "give the path of a journal, or a new file name")
    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else None
    if version != SCHEMA_VERSION:
        raise JournalError(
            f"journal {path} has schema version {version}; this scalpdesk reads and writes "
            f"version {SCHEMA_VERSION}",
            "open it with the scalpdesk version that wrote it, or move the file aside to "
            "start a new journal (the old one stays readable by that version)")


def _create(con: sqlite3.Connection) -> None:
    con.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created it between our look and our lock.
        if con.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone():
            con.execute("ROLLBACK")
            return
        for stmt in (_DDL + _TRIGGERS).split(";\n"):
            if stmt.strip():
                con.execute(stmt)
        con.execute(f"PRAGMA application_id={APPLICATION_ID}")
        con.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
