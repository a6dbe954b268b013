"""Benchmarks run each measurement in a fresh interpreter; failures are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from core.bench.isolated import peak_rss_bytes, run_in_fresh_process
from core.errors import CoreError


def test_bench_features_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.bench.data as bd
    import core.bench.features as bf
    monkeypatch.setattr(bd, "BENCH_DIR", tmp_path)
    monkeypatch.setattr(bf, "BENCH_DIR", tmp_path)
    res = CliRunner().invoke(app, ["bench", "features", "--rows", "20000", "--stream-bars",
                                   "1000", "--runs", "1"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "compute_features" in res.output and "peak memory" in res.output


def test_fresh_process_errors_are_core_errors() -> None:
    with pytest.raises(CoreError, match="benchmark run failed"):
        run_in_fresh_process("core.bench.data", "measure_csv", path="/no/such/file.csv")
    assert peak_rss_bytes() > 10_000_000
