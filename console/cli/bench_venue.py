"""`scalpdesk bench venue`: the TopstepX client against the local simulator on loopback."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from console.cli.common import console, err_console, progress_task, run_cli

#: Targets of issue 5 (quotes/s, ms, s).
TARGET_QUOTES_PER_S = 5000.0
TARGET_ACK_P99_MS = 20.0
TARGET_RESYNC_S = 5.0


def register(app: typer.Typer) -> None:
    """Add the ``bench venue`` command to the bench group."""

    @app.command("venue")
    def bench_venue(
        runs: Annotated[int, typer.Option(min=1, help="Runs (fresh simulator + client each); medians reported.")] = 3,
        quotes: Annotated[int, typer.Option(min=1000, help="Quotes the simulator pushes per run.")] = 50_000,
        orders: Annotated[int, typer.Option(min=10, help="Market orders placed per run (alternating buy/sell).")] = 200,
        drops: Annotated[int, typer.Option(min=0, help="Hub drops per run (reconnect + resubscribe + resync).")] = 5,
        outage: Annotated[float, typer.Option(min=0.0, help="Seconds the simulator is down (restart) per run; 0 = skip.")] = 2.0,
        transport: Annotated[str, typer.Option(
            help="Hub transport: signalrcore (the default the client uses) or aiohttp (in-loop alternative).")] = "signalrcore",
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print connection events.")] = False,
    ) -> None:
        """Measure quote throughput, place → acknowledgement latency and recovery time.

        The simulator runs in its own process on 127.0.0.1; the client is the unchanged TopstepX
        client. REST rate limits are lifted on both sides for the measurement. A bare HTTP ping
        to the same server is shown as the floor of what any client could reach on this machine.

        Example:

        \b
          scalpdesk bench venue --runs 3
        """
        import asyncio
        import statistics

        from rich.table import Table

        from core.venues.topstepx.bench import run_bench

        log = (lambda m: err_console.print(m, highlight=False, markup=False)) if verbose else None
        summaries = []
        with progress_task("bench venue", total=runs * 3) as advance:
            for _ in range(runs):
                res = run_cli(lambda: asyncio.run(run_bench(
                    quotes=quotes, orders=orders, drops=drops, outage_s=outage, transport=transport,
                    progress=advance, log=log)))
                summaries.append(res.summary())

        def med(key: str) -> float:
            vals = [s[key] for s in summaries if not math.isnan(s[key])]
            return statistics.median(vals) if vals else float("nan")

        def runs_of(key: str, fmt: str) -> str:
            return ", ".join(format(s[key], fmt) for s in summaries)

        rows = [
            ("quotes/s received + processed", "quotes_per_s", ",.0f", f"≥ {TARGET_QUOTES_PER_S:,.0f}",
             med("quotes_per_s") >= TARGET_QUOTES_PER_S),
            ("quotes lost", "quotes_lost", ".0f", "0", med("quotes_lost") == 0),
            ("HTTP ping p50 / p99 (ms, floor)", None, None, "", None),
            ("place → ack p50 (ms)", "ack_p50_ms", ".1f", "", None),
            ("place → ack p99 (ms)", "ack_p99_ms", ".1f", f"≤ {TARGET_ACK_P99_MS:g}",
             med("ack_p99_ms") <= TARGET_ACK_P99_MS),
            ("place → ack max (ms)", "ack_max_ms", ".1f", "", None),
            ("place → first hub event p50 / p99 (ms)", None, None, "", None),
            ("hub drop → resynced median (s)", "drop_resync_median_s", ".2f", "", None),
            ("hub drop → resynced max (s)", "drop_resync_max_s", ".2f", f"≤ {TARGET_RESYNC_S:g}",
             med("drop_resync_max_s") <= TARGET_RESYNC_S),
            ("outage: reachable → resynced (s)", "outage_resync_max_s", ".2f", f"≤ {TARGET_RESYNC_S:g}",
             (math.isnan(med("outage_resync_max_s")) or med("outage_resync_max_s") <= TARGET_RESYNC_S)),
        ]
        table = Table("measure", f"median of {runs}", "runs", "target", "",
                      title=f"TopstepX client ({transport} hubs) ↔ simulator (loopback): {quotes:,} quotes, {orders} orders, "
                            f"{drops} drops, {outage:g} s outage")
        for label, key, fmt, target, ok in rows:
            if key is None:
                a, b = ("ping_p50_ms", "ping_p99_ms") if "ping" in label else ("event_p50_ms", "event_p99_ms")
                table.add_row(label, f"{med(a):.1f} / {med(b):.1f}",
                              ", ".join(f"{s[a]:.1f}/{s[b]:.1f}" for s in summaries), "", "")
                continue
            mark = "" if ok is None else ("[green]ok[/]" if ok else "[red]missed[/]")
            table.add_row(label, format(med(key), fmt), runs_of(key, fmt), target, mark)
        console.print(table)
