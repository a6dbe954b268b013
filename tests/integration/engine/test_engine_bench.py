"""The engine's simulator benchmarks run end to end (figures are measured, never asserted)."""

from __future__ import annotations

from core.bench import engine as be


def test_kill_and_restart_benchmarks_measure_something() -> None:
    kills = be.kill_to_flat(runs=1)
    restarts = be.restart_to_protected(runs=1)
    assert len(kills) == 1 and kills[0] > 0
    assert len(restarts) == 1 and restarts[0] > 0
