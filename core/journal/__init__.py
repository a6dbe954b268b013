"""The engine journal: one SQLite file, append-only, that the engine rebuilds its state from.

Design (ARCHITECTURE.md ideas 5 and 6):

* **File.** SQLite in WAL mode with ``synchronous=FULL``: every commit is fsynced to the WAL
  before the call returns, so what the journal acknowledged survives ``kill -9`` and a power
  cut, and a reader (``scalpdesk`` in another shell, the console) never blocks the writer. The
  file is created 0600 (parent directories 0700); SQLite gives ``-wal``/``-shm`` the same mode.
  A ``meta`` table holds the schema version; a file of another version, a foreign SQLite file
  or a non-SQLite file is refused with a clear :class:`JournalError` (never migrated or touched).
  Default location: :func:`default_path` — ``$SCALPDESK_HOME/journal/<profile>.sqlite``
  (``~/.scalpdesk/journal/<profile>.sqlite``).
* **Events.** ``events(seq, ts_ns, run_id, type, dedupe_key UNIQUE, payload JSON)`` holds
  :mod:`core.domain.events` objects as :func:`~core.domain.events.to_dict` JSON; ``replay()``
  decodes them back. Raw broker events carry a dedupe key (:func:`order_key` on order id +
  update time, :func:`fill_key` on the fill id) so a duplicated or replayed broker event is
  journaled once. Triggers make ``events``, ``intent_log`` and ``risk`` append-only in the file
  itself.
* **Write-ahead orders.** ``next_tag(run_id)`` allocates ``{run_id}-{seq}`` durably (a tag is
  never handed out twice, even by a restart reusing the run id). ``record_intent`` commits the
  intent as ``journaled`` BEFORE the engine sends it; ``mark`` moves it to ``submitted`` →
  ``confirmed`` | ``rejected`` | ``refused`` | ``unknown`` → ``resolved`` and appends every
  change to ``intent_log``. ``unresolved()`` is what a restart must look up at the broker by tag
  — never re-send.
* **State.** ``save_risk``/``last_risk`` keep ``RiskKernel.snapshot()`` dicts (only when they
  changed, so a per-bar save costs nothing on quiet bars); ``set_checkpoint``/``checkpoint``
  keep small named values (the newest broker trade time reconciled, …).

Cost: each commit is one fsync (~0.1–2 ms on an SSD). Journal what must survive (orders,
fills, positions, risk transitions, alerts, bars); batch bursts with ``append_many``; don't
journal every quote.

This package imports only :mod:`core.domain` and the standard library
(tests/architecture/test_boundaries.py), so it can be read without the engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.journal.schema import (
    INTENT_STATUSES,
    SCHEMA_VERSION,
    UNRESOLVED_STATUSES,
    JournalError,
)
from core.journal.store import IntentRecord, Journal, RunInfo, fill_key, order_key


def default_path(profile_name: str) -> Path:
    """Where the engine of a profile keeps its journal.

    ``$SCALPDESK_HOME/journal/<profile>.sqlite``, ``~/.scalpdesk/journal/<profile>.sqlite`` when
    ``SCALPDESK_HOME`` is not set (the user's own files, never the checkout).
    """
    if not profile_name or "/" in profile_name or profile_name.startswith("."):
        raise ValueError(f"not a profile name: {profile_name!r}")
    env = os.environ.get("SCALPDESK_HOME")
    home = Path(env).expanduser() if env else Path.home() / ".scalpdesk"
    return home / "journal" / f"{profile_name}.sqlite"


__all__ = [
    "INTENT_STATUSES", "SCHEMA_VERSION", "UNRESOLVED_STATUSES", "IntentRecord", "Journal",
    "JournalError", "RunInfo", "default_path", "fill_key", "order_key",
]
