"""`scalpdesk bench engine`: the live engine's decision latency, kill → flat, memory."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, progress_task, run_cli


def register(app: typer.Typer) -> None:
    """Add the ``bench engine`` command to the bench group."""

    @app.command("engine")
    def bench_engine(
        runs: Annotated[int, typer.Option(help="Measured runs; medians are reported.", min=1)] = 3,
        bars: Annotated[int, typer.Option(help="Closed 1-s bars per latency run.", min=200)] = 3000,
        hours: Annotated[float, typer.Option(help="Session length of the memory replay.",
                                             min=0.1)] = 8.0,
    ) -> None:
        """Measure the live engine: print → order decision latency, kill → flat, restart, memory.

        Latency: the print that closes a bar → every step ran (features, LightGBM, decision,
        bracket, risk check) and the entry was handed to the venue; in process, a model
        trained on synthetic 1-s bars. Kill → flat: against the local simulator on loopback,
        until REST confirms flat. Restart: a crash mid-position that lost its bracket → the
        restarted engine's protective stop working at the broker. Memory: RSS growth over a session of 1-s bars.

        Example: scalpdesk bench engine --runs 5
        """
        from rich.table import Table

        from core.bench import engine as be

        with progress_task("decision latency (trains a small model first)", None):
            lat = run_cli(lambda: be.decision_latency(bars=bars, runs=runs))
        with progress_task("kill → flat against the simulator", None):
            kills = run_cli(lambda: be.kill_to_flat(runs=max(runs, 3)))
        with progress_task("restart mid-position → protective stop, against the simulator", None):
            restarts = run_cli(lambda: be.restart_to_protected(runs=max(runs, 3)))
        with progress_task(f"memory over {hours:g} h of 1-s bars", None):
            before, growth, n = run_cli(lambda: be.memory_growth(hours=hours))
        tab = Table("measure", f"median of {runs}", "all runs", "target",
                    title="live engine (2-core machine)")
        tab.add_row("print → decision, p50 (µs)", f"{be.median([r.p50_us for r in lat]):,.0f}",
                    ", ".join(f"{r.p50_us:,.0f}" for r in lat), "")
        tab.add_row("print → decision, p99 (µs)", f"{be.median([r.p99_us for r in lat]):,.0f}",
                    ", ".join(f"{r.p99_us:,.0f}" for r in lat), "≤ 1,000")
        tab.add_row("print → entry order at the venue, p99 (µs)",
                    f"{be.median([r.order_p99_us for r in lat]):,.0f}",
                    ", ".join(f"{r.order_p99_us:,.0f} ({r.orders} orders)" for r in lat), "≤ 1,000")
        tab.add_row("kill → flat verified (s)", f"{be.median(kills):.3f}",
                    ", ".join(f"{k:.3f}" for k in kills), "≤ 1")
        tab.add_row("restart mid-position → stop working (s)", f"{be.median(restarts):.3f}",
                    ", ".join(f"{k:.3f}" for k in restarts), "≤ 3")
        tab.add_row(f"RSS growth over {n:,} bars (MB)", f"{growth:.1f}",
                    f"from {before:,.0f} MB", "≤ 50")
        console.print(tab)
