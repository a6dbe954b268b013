"""The trial ledger: one JSON line per training run, backtest or sweep member, append-only.

Deflated statistics need to know how many things were tried. Every backtest, every sweep
trial and every training configuration (``scalpdesk train``, ``--no-save`` runs included)
appends here under the data's key (:func:`data_key`); :func:`trial_summary` tells the
deflated Sharpe ratio how many trials there were and how much their Sharpe ratios varied,
and the train verdict widens its interval for the same count.
Default location: ``data/trials.jsonl`` (override with ``SCALPDESK_LEDGER``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.clock import Clock, LiveClock


def ledger_path() -> Path:
    """Where the trial ledger lives."""
    return Path(os.environ.get("SCALPDESK_LEDGER", Path("data") / "trials.jsonl"))


@dataclass(frozen=True)
class TrialSummary:
    """What the deflated Sharpe ratio needs from the ledger."""

    n_trials: int
    sr_variance: float | None  #: variance of per-period Sharpe across trials (None if < 2)


def append_trial(record: dict[str, Any], *, path: Path | None = None, clock: Clock | None = None) -> None:
    """Append one trial (a single line write with O_APPEND, so concurrent writers don't interleave)."""
    p = path or ledger_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    row = {"ts_ns": (clock or LiveClock()).now_ns(), **record}
    line = json.dumps(row, default=_default, sort_keys=True) + "\n"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return str(obj)


def read_trials(path: Path | None = None, *, data_hash: str | None = None) -> list[dict[str, Any]]:
    """All trials (optionally only those on the same data); unreadable lines are skipped."""
    p = path or ledger_path()
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line after a crash must not hide the rest
        if data_hash is None or row.get("data_hash") == data_hash:
            out.append(row)
    return out


def trial_summary(path: Path | None = None, *, data_hash: str | None = None) -> TrialSummary:
    """Count trials and the variance of their per-period Sharpe ratios."""
    rows = read_trials(path, data_hash=data_hash)
    srs = [r["sharpe_per_period"] for r in rows
           if isinstance(r.get("sharpe_per_period"), (int, float)) and math.isfinite(r["sharpe_per_period"])]
    var = float(np.var(srs, ddof=1)) if len(srs) >= 2 else None
    return TrialSummary(n_trials=max(1, len(rows)), sr_variance=var)


def data_key(bars: pd.DataFrame) -> str:
    """The trial ledger's data key: a cheap fingerprint of the bars, so backtests, training
    runs and sweep trials on the same data are counted together."""
    import hashlib

    ts = bars["timestamp"].to_numpy(np.int64)
    close = bars["close"].to_numpy(float)
    h = hashlib.sha256(f"{len(ts)}:{ts[:1]}:{ts[-1:]}:{close.sum():.6f}".encode())
    h.update(np.ascontiguousarray(close[:: max(1, len(close) // 4096)]).tobytes())
    return h.hexdigest()[:16]


def trial_counts(data_hash: str, path: Path | None = None) -> dict[str, int]:
    """Trials on one data key by kind ("train", "backtest", sweep kinds …)."""
    out: dict[str, int] = {}
    for row in read_trials(path, data_hash=data_hash):
        kind = str(row.get("kind", "other"))
        out[kind] = out.get(kind, 0) + 1
    return out


def trials_line(data_hash: str, path: Path | None = None) -> str:
    """One line saying how many trials the ledger holds on this data, by kind."""
    counts = trial_counts(data_hash, path)
    total = sum(counts.values())
    train = counts.pop("train", 0)
    back = counts.pop("backtest", 0)
    other = sum(counts.values())
    parts = [f"{train} training configuration{'s' if train != 1 else ''}",
             f"{back} backtest{'s' if back != 1 else ''}"]
    if other:
        parts.append(f"{other} sweep trial{'s' if other != 1 else ''}")
    return (f"trial ledger: {total} trial{'s' if total != 1 else ''} on this data "
            f"({', '.join(parts)}); verdicts and deflated Sharpe ratios count them all "
            f"({ledger_path()})")
