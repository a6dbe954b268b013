"""Issue 12, boundary: concurrent writers into one catalog lose nothing.

Two `data import` runs used to read the same month, merge their own rows and replace the
partition, so one writer's rows vanished (both exit 0), or one removed the other's temp
file ("not found"). Now a write holds the catalog's lock; a second writer waits with a
message, or gives up clearly after SCALPDESK_LOCK_TIMEOUT seconds.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.datasets.catalog import Catalog

MES_1M = "mes_1m_frd_2023-11-26_2023-12-11.parquet"


def _import(path: Path, catalog: Path, timeout: str = "120") -> subprocess.Popen:
    env = {**os.environ, "SCALPDESK_LOCK_TIMEOUT": timeout}
    return subprocess.Popen([sys.executable, "-m", "console", "data", "import", str(path),
                             "--catalog", str(catalog)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def parts(shared_data: Path, tmp_path: Path) -> list[Path]:
    """The real MES file dealt into three files by UTC day: each touches both months."""
    frame = pd.read_parquet(shared_data / MES_1M)
    day = frame["ts"].astype("int64") // 86_400_000_000_000
    out = []
    for k in range(3):
        p = tmp_path / f"part{k}.parquet"
        frame[day % 3 == k].to_parquet(p)
        out.append(p)
    return out


def test_three_concurrent_imports_keep_every_row(parts: list[Path], tmp_path: Path,
                                                 shared_data: Path) -> None:
    cat = tmp_path / "catalog"
    procs = [_import(p, cat) for p in parts]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out + err
    loaded = Catalog(cat).load("MES", 60)
    assert len(loaded) == len(pd.read_parquet(shared_data / MES_1M)) == 15_164
    assert loaded["timestamp"].is_monotonic_increasing and loaded["timestamp"].is_unique


def test_a_second_writer_waits_with_a_message_then_writes(parts: list[Path],
                                                          tmp_path: Path) -> None:
    cat = tmp_path / "catalog"
    cat.mkdir()
    fd = os.open(cat / ".write.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"pid 1: a test holding the lock")
        proc = _import(parts[0], cat)
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the writer says it waits, and for whom
        assert "is being written by pid 1: a test holding the lock" in line, line
        assert "waiting" in line
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert len(Catalog(cat).load("MES", 60)) == len(pd.read_parquet(parts[0]))


def test_a_writer_that_cannot_get_the_lock_is_refused_clearly(parts: list[Path],
                                                              tmp_path: Path) -> None:
    cat = tmp_path / "catalog"
    cat.mkdir()
    fd = os.open(cat / ".write.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = _import(parts[0], cat, timeout="0.5")
        out, err = proc.communicate(timeout=120)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert proc.returncode == 2, out + err
    assert "locked by another writer" in err and "nothing was written" in err
    assert "Traceback" not in err
    assert not list(cat.rglob("*.parquet"))


def test_overlapping_appends_to_one_month_keep_both_writers_rows(
        parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic overlap: each partition write is slowed, so without the lock both
    writers read the month before either replaces it (the lost-rows race)."""
    import threading
    import time

    from core.datasets import _catalog_files
    from core.datasets.readers import read_bars

    real = _catalog_files.write_table

    def slow_write(table, path):  # noqa: ANN001, ANN202 - the real writer, made slow
        time.sleep(0.3)
        real(table, path)

    monkeypatch.setattr(_catalog_files, "write_table", slow_write)
    frames = [read_bars(p)[0].frame for p in parts[:2]]
    cat = Catalog(tmp_path / "catalog")
    errors: list[BaseException] = []

    def write(frame: pd.DataFrame) -> None:
        try:
            cat.append(frame, root="MES", bar_seconds=60, source="thread")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f,)) for f in frames]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(cat.load("MES", 60)) == sum(len(f) for f in frames)
