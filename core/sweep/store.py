"""A sweep's directory: its manifest, its append-only trial ledger, and the results.

Layout of ``--out DIR``::

    manifest.json     what the sweep is (settings, space, profile, data fingerprint); a resume
                      must match it
    trials.jsonl      one line per finished trial — the sweep's ledger, append-only; each line
                      is one ``write`` with O_APPEND, so an interrupted sweep leaves whole lines
                      (a torn last line after a kill is cut off when the sweep is reopened)
    study.db          Optuna's RDB storage (``--method optuna`` with the default SQLite URL)
    trials.parquet    one row per trial: parameters, objective, validation metrics
    test.parquet      the held-out test of the best trials by validation (scored once, after)
    summary.json      PBO, deflated Sharpe, stability and the verdict
    report.html       the self-contained report

Everything except the ledger is rewritten whole through a temporary file and a rename.
Every finished trial is also counted in the project's trial ledger
(:mod:`core.backtest.ledger`) so the deflated Sharpe of any later backtest or sweep on the
same data pays for it; :func:`SweepStore.sync_global_ledger` appends exactly the trials not
yet there (so a crash or a resume never counts one twice or drops one).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.sweep.trial import TrialResult

MANIFEST = "manifest.json"
LEDGER = "trials.jsonl"


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def ledger_data_hash(bars: pd.DataFrame) -> str:
    """The data key of the project's trial ledger for these bars (the one definition:
    core.backtest.ledger.data_key), so backtests and sweep trials count together."""
    from core.backtest.ledger import data_key

    return data_key(bars)


class SweepStore:
    """Reads and writes one sweep directory (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ manifest
    @property
    def manifest_path(self) -> Path:
        """``DIR/manifest.json``."""
        return self.root / MANIFEST

    def exists(self) -> bool:
        """Whether the directory already holds a sweep."""
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        """The stored manifest.

        Raises:
            ConfigError: Missing or unreadable manifest.
        """
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{self.root}: no sweep to resume here (no {MANIFEST})",
                              hint="start it without --resume, or point --out at the sweep's "
                                   "directory") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{self.manifest_path}: unreadable ({exc})",
                              hint="start a new sweep in another --out directory") from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Store the manifest (atomically)."""
        write_atomic(self.manifest_path,
                     json.dumps(_jsonable(manifest), indent=2, sort_keys=True).encode())

    def check_resume(self, manifest: dict[str, Any]) -> None:
        """Refuse to continue a sweep whose identity differs from ``manifest``.

        Raises:
            ConfigError: Naming each field that differs.
        """
        old = self.read_manifest()
        diffs = [k for k in ("identity", "space", "data", "profile")
                 if json.dumps(old.get(k), sort_keys=True) != json.dumps(_jsonable(manifest.get(k)),
                                                                         sort_keys=True)]
        if diffs:
            detail = []
            for k in diffs:
                a, b = old.get(k), _jsonable(manifest.get(k))
                if isinstance(a, dict) and isinstance(b, dict):
                    keys = sorted(x for x in set(a) | set(b) if a.get(x) != b.get(x))
                    detail.append(f"{k} ({', '.join(keys[:6])})")
                else:
                    detail.append(k)
            raise ConfigError(f"{self.root} holds a different sweep: {'; '.join(detail)} differ",
                              hint="resume with the same data, profile, space and settings, or "
                                   "start a new sweep with another --out")

    # ------------------------------------------------------------------ ledger
    @property
    def ledger_path(self) -> Path:
        """``DIR/trials.jsonl``."""
        return self.root / LEDGER

    def repair_ledger(self) -> int:
        """Cut a torn last line (a kill during a write); returns the bytes removed."""
        p = self.ledger_path
        if not p.exists():
            return 0
        data = p.read_bytes()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data[: data.rfind(b"\n") + 1]
        write_atomic(p, keep)
        return len(data) - len(keep)

    def append(self, result: TrialResult) -> None:
        """Append one finished trial as one line (one ``write`` with O_APPEND).

        One write per line is atomic against the sweep process dying (Ctrl-C, a kill): the
        line is in the file or not. There is no fsync per line (it would cost more than a
        short trial); :meth:`sync` flushes at the end, and a machine crash can at worst
        leave a torn last line, which :meth:`repair_ledger` cuts off.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(_jsonable(result.to_dict()), sort_keys=True) + "\n"
        fd = os.open(self.ledger_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def sync(self) -> None:
        """fsync the ledger (at the end of a run, cancelled or not)."""
        if self.ledger_path.exists():
            fd = os.open(self.ledger_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def results(self) -> dict[int, TrialResult]:
        """Every finished trial by number (the first line of a number wins)."""
        out: dict[int, TrialResult] = {}
        if not self.ledger_path.exists():
            return out
        for line in self.ledger_path.read_text(encoding="utf-8").splitlines():
            try:
                r = TrialResult.from_dict(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue  # a torn line: the trial simply runs again
            out.setdefault(int(r.number), r)
        return out

    # ------------------------------------------------------------------ project ledger
    def sync_global_ledger(self, results: list[TrialResult], *, sweep_id: str, data_hash: str,
                           profile: str, signals: str, path: Path | None = None) -> int:
        """Append the finished trials the project's trial ledger does not hold yet.

        Returns:
            How many were appended.
        """
        from core.backtest.ledger import append_trial, read_trials

        have = {int(r.get("trial", -1)) for r in read_trials(path)
                if r.get("kind") == "sweep" and r.get("sweep_id") == sweep_id}
        added = 0
        for r in sorted(results, key=lambda r: r.number):
            if r.status != "ok" or r.number in have:
                continue
            sr = r.metrics.get("sharpe")
            append_trial({"kind": "sweep", "sweep_id": sweep_id, "trial": r.number,
                          "data_hash": data_hash, "profile": profile, "signals": signals,
                          "params": r.params, "trades": r.metrics.get("trades"),
                          "net_pnl": r.metrics.get("net_pnl"),
                          "sharpe_per_period": sr if isinstance(sr, float) and math.isfinite(sr)
                          else None}, path=path)
            added += 1
        return added

    # ------------------------------------------------------------------ results
    def write_parquet(self, name: str, frame: pd.DataFrame) -> Path:
        """Write ``DIR/name`` atomically."""
        path = self.root / name
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        return path

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``DIR/name`` atomically (NaN/inf become null: strict JSON)."""
        return write_atomic(self.root / name,
                            json.dumps(_strict(_jsonable(obj)), indent=2, sort_keys=True).encode())


def _strict(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strict(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def trials_frame(results: list[TrialResult], keys: list[str]) -> pd.DataFrame:
    """One row per trial: number, status, ``param.<key>`` columns, objective, metrics, folds."""
    rows = []
    for r in sorted(results, key=lambda r: r.number):
        row: dict[str, Any] = {"trial": r.number, "status": r.status, "message": r.message,
                               "objective": r.objective, "eligible": r.eligible,
                               "seconds": r.seconds}
        for k in keys:
            row[f"param.{k}"] = r.params.get(k)
        # Sorted: a trial read back from the ledger (sorted JSON keys) and one just computed
        # give the same columns in the same order.
        for k in sorted(r.metrics):
            row[f"val_{k}"] = r.metrics[k]
        for f in sorted(r.folds, key=lambda f: f["fold"]):
            row[f"fold{f['fold']}_net_pnl"] = f["net_pnl"]
            row[f"fold{f['fold']}_trades"] = f["trades"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    for k in keys:
        col = f"param.{k}"
        if col in frame and frame[col].map(type).nunique() > 1:
            frame[col] = frame[col].astype(str)  # mixed categorical values: keep Parquet happy
    return frame
