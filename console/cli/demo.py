"""`scalpdesk demo`: the main job end to end on embedded defaults (synthetic data, no network).

Each step is a small function so the demo reads like the user's own workflow:
data in → checked → resampled → (research → backtest → simulator) as those layers exist.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import console, progress_task, run_cli


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _data_steps(workdir: Path, days: int, seed: int) -> dict:
    """Generate, write, re-read, validate, filter and resample synthetic 1-second bars."""
    from core import calendar
    from core.datasets import synth
    from core.datasets.catalog import Catalog
    from core.datasets.readers import read_bars
    from core.datasets.resample import resample
    from core.datasets.validate import validate

    _step(f"1. Synthetic MES 1-second bars: {days} trading days, seed {seed}, planted pattern")
    path = workdir / "mes_1s_demo.parquet"
    with progress_task("generating", total=days) as advance:
        frame = run_cli(lambda: synth.generate(days, seed, planted=True, progress=advance))
    synth.write_parquet(frame, path)
    console.print(f"wrote {len(frame):,} bars to {path}")

    _step("2. Import and validate (the same path a user's file takes)")
    t0 = time.perf_counter()
    result = run_cli(lambda: read_bars(path))[0]
    report = run_cli(lambda: validate(result.frame, source=str(path), bar_seconds=result.bar_seconds))
    for line in report.summary_lines():
        console.print(f"  {line}", highlight=False, markup=False)
    cat = Catalog(workdir / "catalog")
    added = run_cli(lambda: cat.append(result.frame, root=result.root, bar_seconds=1, source=str(path)))
    console.print(f"catalog: {added.rows_added:,} rows in {added.partitions_written} partition(s) "
                  f"({time.perf_counter() - t0:.2f} s)")

    _step("3. Sessions: regular trading hours and 1-minute bars")
    ts = result.frame["timestamp"].to_numpy()
    rth = calendar.rth_mask(ts)
    minute = run_cli(lambda: resample(result.frame, 60, source_seconds=1))
    console.print(f"RTH rows: {int(rth.sum()):,} of {len(ts):,} ({rth.mean():.1%}); "
                  f"1-minute bars: {len(minute):,} (no bar spans a session break)")
    return {"path": path, "frame": result.frame, "minute": minute, "catalog": cat}


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the root app."""

    @app.command()
    def demo(
        days: Annotated[int, typer.Option(help="Trading days of synthetic data.", min=1)] = 3,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
        keep: Annotated[Path | None, typer.Option(help="Keep the demo's files in this directory.")] = None,
    ) -> None:
        """Run the end-to-end demo on embedded synthetic data (no network, nothing left behind).

        Generates MES-like 1-second bars, imports and validates them, filters regular trading
        hours and resamples to 1 minute.
        """
        with tempfile.TemporaryDirectory(prefix="scalpdesk-demo-") as tmp:
            workdir = keep or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            _data_steps(workdir, days, seed)
            console.rule("[green]demo finished")
            if keep:
                console.print(f"files kept in {workdir}")
