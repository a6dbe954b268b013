"""Keep numba's on-disk cache honest across modules.

numba invalidates a cached function only when ITS OWN source file changes; a cached caller
keeps the old machine code of callees defined in other files. The backtest loop calls the
risk kernel (core/risk/kernel.py) and the fill rules (fills.py), so editing the kernel alone
would leave a stale compiled loop — two different rule sets, silently. This module hashes
the sources the compiled backtest depends on and flushes the dependants' caches when the
hash changes. It never raises: at worst numba simply recompiles.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
DEPENDENCIES = ("risk/layout.py", "risk/limits.py", "risk/sizing.py", "risk/breakers.py",
                "risk/events.py", "risk/kernel.py", "strategy/steps.py", "backtest/fills.py",
                "backtest/loop.py", "backtest/prep.py", "risk/params.py")


def sources_hash() -> str:
    """SHA-256 over the compiled backtest's source files."""
    h = hashlib.sha256()
    for rel in DEPENDENCIES:
        try:
            h.update((_ROOT / rel).read_bytes())
        except OSError:
            h.update(rel.encode())
    return h.hexdigest()


def ensure_fresh(dispatchers: list[Any]) -> bool:
    """Flush the caches of ``dispatchers`` if the dependency sources changed. True if flushed."""
    try:
        cache = getattr(dispatchers[0], "_cache", None)
        path = Path(getattr(cache, "_cache_path", ""))
        if not path or not path.is_dir():
            return False
        stamp = path / "scalpdesk_backtest.deps"
        digest = sources_hash()
        if stamp.exists() and stamp.read_text(encoding="utf-8").strip() == digest:
            return False
        for d in dispatchers:
            c = getattr(d, "_cache", None)
            if c is not None and hasattr(c, "flush"):
                c.flush()
        tmp = stamp.with_name(stamp.name + ".tmp")
        tmp.write_text(digest, encoding="utf-8")
        tmp.replace(stamp)
        return True
    except Exception:  # noqa: BLE001 - a cache helper must never break an import
        return False
