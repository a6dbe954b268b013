"""`scalpdesk bench tui`: key → kill, frame gaps under a quote storm, the console's CPU."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, progress_task, run_cli

#: Targets of issue 10 (ms, ms, % of one core).
TARGET_KILL_MS = 100.0
TARGET_GAP_MS = 250.0
TARGET_CPU_PCT = 20.0


def register(app: typer.Typer) -> None:
    """Add the ``bench tui`` command to the bench group."""

    @app.command("tui")
    def bench_tui(
        runs: Annotated[int, typer.Option(min=1, help="Runs (a fresh engine stand-in and "
                                          "console each); medians reported.")] = 3,
        seconds: Annotated[float, typer.Option(min=1.0, help="Length of each measured "
                                               "window (idle, 100/s, 1,000/s).")] = 5.0,
        presses: Annotated[int, typer.Option(min=1, help="ctrl+k presses per run.")] = 5,
        fps: Annotated[float, typer.Option(min=1.0, max=60.0, help="The console's frame "
                                           "rate (15 locally, 5 over SSH).")] = 15.0,
    ) -> None:
        """Measure the console: key → kill, max frame gap at 1,000 quotes/s, CPU at 100/s.

        The engine is a stand-in behind the real control socket in its own process,
        streaming QuoteUpdated events through the real fan-out; the console is the real app,
        headless (layout and rendering, no terminal writes). Targets: kill ≤ 100 ms, no frame
        gap over 250 ms at 1,000 quotes/s, CPU ≤ 20 % of a core at 100 quotes/s.

        Example:

        \b
          scalpdesk bench tui --runs 5
        """
        from rich.table import Table

        from console.tui.bench import run_tui_bench, summary

        with progress_task("bench tui", total=runs) as advance:
            results = run_cli(lambda: run_tui_bench(runs=runs, seconds=seconds,
                                                    presses=presses, fps=fps,
                                                    progress=advance))
        s = summary(results)
        t = Table(title=f"console figures, median of {runs} runs ({fps:g} fps, {seconds:g} s "
                        "windows)")
        for col in ("figure", "target", "median", "runs"):
            t.add_column(col)

        def ok(v: float, target: float) -> str:
            return "[green]ok[/green]" if v <= target else "[red]over[/red]"

        t.add_row("ctrl+k → kill received by the engine", f"≤ {TARGET_KILL_MS:g} ms",
                  f"{s['kill_ms_median']:.1f} ms (max {s['kill_ms_max']:.1f}) "
                  f"{ok(s['kill_ms_median'], TARGET_KILL_MS)}",
                  " ".join(f"{min(r.kill_ms, default=float('nan')):.0f}–"
                           f"{max(r.kill_ms, default=float('nan')):.0f}" for r in results))
        t.add_row("max frame gap at 1,000 quotes/s", f"≤ {TARGET_GAP_MS:g} ms",
                  f"{s['max_gap_ms']:.0f} ms (p99 {s['p99_gap_ms']:.0f}, "
                  f"{s['frames_per_s']:.1f} fps) {ok(s['max_gap_ms'], TARGET_GAP_MS)}",
                  " ".join(f"{r.max_gap_ms:.0f}" for r in results))
        t.add_row("quotes/s reaching the console at 1,000/s", "—",
                  f"{s['quotes_seen_per_s']:.0f}", " ".join(str(r.quotes_seen) for r in results))
        t.add_row("console CPU at 100 quotes/s", f"≤ {TARGET_CPU_PCT:g} %",
                  f"{s['cpu_pct_100']:.1f} % {ok(s['cpu_pct_100'], TARGET_CPU_PCT)}",
                  " ".join(f"{r.cpu_pct_100:.1f}" for r in results))
        t.add_row("console CPU at 1,000 quotes/s", "—", f"{s['cpu_pct_1000']:.1f} %",
                  " ".join(f"{r.cpu_pct_1000:.1f}" for r in results))
        t.add_row("console CPU idle (heartbeats only)", "—", f"{s['cpu_pct_idle']:.1f} %",
                  " ".join(f"{r.cpu_pct_idle:.1f}" for r in results))
        console.print(t)
