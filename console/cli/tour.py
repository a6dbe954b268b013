"""`scalpdesk tour`: the research workflow end to end on embedded defaults (synthetic data, no network).

What `scalpdesk demo` printed before the demo became the console trading the simulator.
Each step is a small function so the tour reads like the user's own workflow:
data in → checked → resampled → (research → backtest → simulator) as those layers exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
    path = workdir / "mes_1s_tour.parquet"
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


def _scalpdesk(*args: str, env: dict[str, str] | None = None) -> int:
    """Run a scalpdesk command exactly as a user would type it (same console script)."""
    cmd = [sys.executable, "-m", "console", *args]
    console.print(f"[dim]$ scalpdesk {' '.join(args)}[/dim]", highlight=False)
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=False).returncode


def report_args(workdir: Path, keep: bool) -> list[str]:
    """``--report`` for the tour's backtest only when the files are kept.

    Without ``--keep`` everything lives in a temporary directory that is deleted at the end:
    printing a report path there would point the user at a file that is gone.
    """
    return ["--report", str(workdir / "report.html")] if keep else []


def _research_steps(workdir: Path, data: Path, keep: bool = False) -> bool:
    """Walk-forward training and an out-of-sample backtest of the trained model."""
    _step("4. Research: LightGBM with purged walk-forward validation (honest verdict)")
    rc = _scalpdesk("train", "--data", str(data), "--model", "lightgbm", "--folds", "3",
                    "--name", "demo", "--models-dir", str(workdir / "models"))
    if rc != 0:
        return False
    _step("5. Backtest the model on bars it never saw ($1,000 profile: costs, risk rules, EOD flat)")
    rc = _scalpdesk("backtest", "--data", str(data), "--model", str(workdir / "models" / "demo"),
                    "--profile", "demo", "--baseline-seeds", "50", *report_args(workdir, keep),
                    env={"SCALPDESK_LEDGER": str(workdir / "trials.jsonl")})
    if not keep:
        console.print("HTML report: not written (the tour keeps nothing); "
                      "`scalpdesk tour --keep DIR` writes DIR/report.html", highlight=False)
    return rc == 0


def _venue_steps(data: Path) -> bool:
    """Start the ProjectX-compatible simulator and run the connection check against it."""
    _step("6. Broker: the local TopstepX-compatible simulator and `venue check`")
    cmd = [sys.executable, "-m", "console", "sim", "run", "--data", str(data), "--port", "0",
           "--speed", "10"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    urls: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while len(urls) < 3 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.match(r"\s*(REST|user hub|market hub)\s+(http\S+)", line)
            if m:
                urls[m.group(1)] = m.group(2)
        if len(urls) < 3:
            console.print("[red]the simulator did not start[/]")
            return False
        console.print(f"simulator listening at {urls['REST']}")
        rc = _scalpdesk("venue", "check", "--api-url", urls["REST"], "--user-hub", urls["user hub"],
                        "--market-hub", urls["market hub"], "--seconds", "2",
                        env={"TOPSTEPX_USERNAME": "sim", "TOPSTEPX_API_KEY": "sim-key"})
        return rc == 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def register(app: typer.Typer) -> None:
    """Add the ``tour`` command to the root app."""

    @app.command()
    def tour(
        days: Annotated[int, typer.Option(help="Trading days of synthetic data.", min=1)] = 3,
        seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed.")] = 7,
        keep: Annotated[Path | None, typer.Option(help="Keep the tour's files in this directory.")] = None,
    ) -> None:
        """Walk through the research workflow on synthetic data (no network, nothing left behind).

        Generates MES-like 1-second bars (with a weak planted pattern), imports and validates
        them, filters regular trading hours and resamples to 1 minute; trains LightGBM with
        purged walk-forward validation; backtests the model out of sample under the $1,000
        profile's costs and risk rules with a random-entry baseline and an HTML report; then
        starts the TopstepX-compatible simulator and runs `scalpdesk venue check` against it.

        Examples:

        \b
          scalpdesk tour
          scalpdesk tour --days 5 --keep tour_files

        The console trading the simulator is `scalpdesk demo`.
        """
        with tempfile.TemporaryDirectory(prefix="scalpdesk-tour-") as tmp:
            workdir = keep or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            out = _data_steps(workdir, days, seed)
            ok = _research_steps(workdir, out["path"], keep=keep is not None) \
                and _venue_steps(out["path"])
            console.rule("[green]tour finished" if ok else "[red]tour stopped at a failed step")
            if keep:
                console.print(f"files kept in {workdir} (report: {workdir / 'report.html'})")
            if not ok:
                raise typer.Exit(1)
