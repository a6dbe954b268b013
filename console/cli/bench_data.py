"""`scalpdesk bench data`: load, validate, RTH filter and resample times and peak memory."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, progress_task, run_cli


def register(app: typer.Typer) -> None:
    """Add the ``bench data`` command to the bench group."""

    @app.command("data")
    def bench_data(
        rows: Annotated[int, typer.Option(help="1-second rows to generate (users' file: 33,200,000).",
                                          min=1000)] = 1_000_000,
        runs: Annotated[int, typer.Option(help="Measured runs; the median is reported.", min=1)] = 3,
        csv_lines: Annotated[int, typer.Option(
            help="Also time importing a 1-minute CSV of this many lines (users' file: 2,330,000; 0 = skip).",
            min=0)] = 0,
        seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the synthetic data.")] = 0,
    ) -> None:
        """Time the data pipeline on synthetic 1-second bars (generated once, then reused).

        Each run is a fresh process, so the peak memory is the pipeline's own. Inputs are cached
        under .bench/ (set SCALPDESK_BENCH_DIR to move them).

        Examples:

        \b
          scalpdesk bench data --rows 33200000 --runs 3
          scalpdesk bench data --csv-lines 2330000
        """
        from rich.table import Table

        from core.bench import data as bd

        with progress_task(f"preparing {rows:,} synthetic rows", total=None) as advance:
            path = run_cli(lambda: bd.synth_file(rows, seed, progress=advance))
        results = []
        with progress_task("measuring", total=runs) as advance:
            for _ in range(runs):
                results.append(run_cli(lambda: bd.run_isolated("pipeline", path)))
                advance(1)
        med = bd.median_of(results)
        table = Table("step", f"median of {runs} (s)", "all runs (s)", title=f"{med['rows']:,} 1-second rows")
        for key, label in (("load_s", "load"), ("validate_s", "validate"),
                           ("rth_filter_s", f"RTH filter → {med['rth_rows']:,} rows"),
                           ("resample_1m_s", f"resample to 1 min → {med['minute_rows']:,} bars")):
            table.add_row(label, f"{med[key]:.2f}", ", ".join(f"{r[key]:.2f}" for r in results))
        totals = [r["load_s"] + r["validate_s"] + r["rth_filter_s"] for r in results]
        table.add_row("[bold]load + validate + RTH[/]", f"{sorted(totals)[len(totals) // 2]:.2f}",
                      ", ".join(f"{t:.2f}" for t in totals))
        table.add_row("peak memory (GB)", f"{med['peak_rss_bytes'] / 1e9:.2f}",
                      ", ".join(f"{r['peak_rss_bytes'] / 1e9:.2f}" for r in results))
        console.print(table)
        if csv_lines:
            with progress_task(f"preparing a {csv_lines:,}-line CSV", total=None):
                cpath = run_cli(lambda: bd.csv_file(csv_lines, seed))
            cres = [run_cli(lambda: bd.run_isolated("csv", cpath)) for _ in range(runs)]
            cm = bd.median_of(cres)
            ct = Table("step", f"median of {runs} (s)", "all runs (s)", title=f"{cm['lines']:,}-line 1-minute CSV")
            ct.add_row("import (read + parse + time zone)", f"{cm['import_s']:.2f}",
                       ", ".join(f"{r['import_s']:.2f}" for r in cres))
            ct.add_row("validate", f"{cm['validate_s']:.2f}", ", ".join(f"{r['validate_s']:.2f}" for r in cres))
            ct.add_row("peak memory (GB)", f"{cm['peak_rss_bytes'] / 1e9:.2f}", "")
            console.print(ct)
