"""`scalpdesk bench backtest`: compiled-loop throughput, Python reference, memory, end to end."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, progress_task, run_cli


def register(app: typer.Typer) -> None:
    """Add the ``bench backtest`` command to the bench group."""

    @app.command("backtest")
    def bench_backtest(
        bars: Annotated[int | None, typer.Option(
            help="Bars for the loop throughput (sparse: 1-second bars, default 5,000,000; the "
                 "users' file has 33,200,000. Dense: 1-minute bars, default 1,000,000).",
            min=10_000, show_default=False)] = None,
        dense: Annotated[bool, typer.Option(
            "--dense", help="The dense workload: 1-minute bars, an entry signal at every "
                            "SMA(10)/SMA(30) cross, 8/6-tick bracket, 30-bar time stop.")] = False,
        runs: Annotated[int, typer.Option(help="Measured runs; medians are reported.", min=1)] = 3,
        reference_bars: Annotated[int, typer.Option(
            help="Bars for the plain-Python reference loop (slow: keep it small).",
            min=1000)] = 200_000,
        e2e_bars: Annotated[int, typer.Option(
            help="Also time load → backtest → stats from Parquet on this many bars "
                 "(33,200,000 = the users' file; 0 = skip). Files are cached under .bench/.",
            min=0)] = 0,
        seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    ) -> None:
        """Measure the backtester with every risk rule on: sparse (default) or dense workload.

        Sparse: synthetic 1-s bars, random entries on 0.2 % of the bars, 8/12-tick bracket.
        Dense (--dense): 1,000,000 one-minute bars on real Globex sessions, entries at every
        SMA(10)/SMA(30) cross (~39,000 signals), 1 contract, next-open entry + 1 tick, bracket
        8 stop / 6 target from the fill (stop first on ambiguous bars), 30-bar time stop,
        $0.84 round trip, opposite signals ignored. Report both; never only one.

        Example: scalpdesk bench backtest --dense --runs 5

        The compiled loop is timed with a warm numba cache (compile excluded); "loop" is the
        compiled pass alone, "prepare" the causal inputs (sessions, RTH, ATR, breakers). Wall
        time and CPU time are both shown: on a shared machine CPU time is the honest figure
        for a single-threaded loop.
        """
        from rich.table import Table

        from core.bench import backtest as bb

        if dense:
            bars = bars or 1_000_000
            prof = bb.dense_profile()
            make = bb.dense_bars_and_signals
            kind = "dense: synthetic 1-min bars, SMA(10)/SMA(30) crosses"
        else:
            bars = bars or 5_000_000
            prof = bb.bench_profile()
            make = bb.bars_and_signals
            kind = "sparse: synthetic 1-s bars, random entries on 0.2 % of bars"
        with progress_task(f"generating {bars:,} bars", None):
            b, s = run_cli(lambda: make(bars, seed))
        with progress_task("compiled loop", None):
            loops = run_cli(lambda: bb.time_loop(b, s, prof, runs))
            whole = run_cli(lambda: bb.time_run_backtest(b, s, prof, runs))
        with progress_task("memory", None):
            inp, peak = run_cli(lambda: bb.memory_ratio(b, s, prof))
        rb = b.iloc[:reference_bars].reset_index(drop=True)
        from core.backtest import Signals

        rs = Signals(s.direction[:reference_bars], s.confidence[:reference_bars])
        with progress_task(f"Python reference on {len(rb):,} bars", None):
            ref_bps, same, ref_trades = run_cli(lambda: bb.reference_check(rb, rs, prof))
        n_sig = int((s.direction != 0).sum())
        del b, s
        med_loop = bb.median([r.loop_s for r in loops])
        tab = Table("measure", f"median of {runs}", "all runs",
                    title=f"backtest, {kind}: {bars:,} bars, "
                          f"{n_sig:,} signals, {loops[0].trades:,} trades")
        tab.add_row("compiled loop (bars/s)", f"{bars / med_loop / 1e6:,.1f} M",
                    ", ".join(f"{r.bars_per_s / 1e6:.1f} M" for r in loops))
        med_cpu = bb.median([r.loop_cpu_s for r in loops])
        tab.add_row("compiled loop (bars per CPU-s)", f"{bars / med_cpu / 1e6:,.1f} M",
                    ", ".join(f"{r.bars_per_cpu_s / 1e6:.1f} M" for r in loops))
        tab.add_row("compiled loop (s)", f"{med_loop:.3f}", ", ".join(f"{r.loop_s:.3f}" for r in loops))
        tab.add_row("prepare inputs (s)", f"{bb.median([r.prepare_s for r in loops]):.2f}",
                    ", ".join(f"{r.prepare_s:.2f}" for r in loops))
        tab.add_row("run_backtest() whole (s)", f"{bb.median(whole):.2f}",
                    ", ".join(f"{x:.2f}" for x in whole))
        tab.add_row("run_backtest() (bars/s)", f"{bars / bb.median(whole) / 1e6:,.1f} M", "")
        tab.add_row(f"Python reference (bars/s, {len(rb):,} bars)", f"{ref_bps / 1e3:,.1f} k", "1 run")
        tab.add_row("reference == compiled, trade for trade",
                    f"{'yes' if same else 'NO'} ({ref_trades} trades)", "")
        tab.add_row("input arrays", f"{inp / 1e6:,.0f} MB", "")
        tab.add_row("peak allocated during run_backtest", f"{peak / 1e6:,.0f} MB "
                    f"({peak / inp:.2f}× input)", "tracemalloc")
        console.print(tab)
        if e2e_bars:
            with progress_task(f"preparing {e2e_bars:,}-bar Parquet files", None):
                bp, sp = run_cli(lambda: bb.e2e_files(e2e_bars, seed))
            res = []
            with progress_task("end to end", runs) as adv:
                for _ in range(runs):
                    res.append(run_cli(lambda: bb.end_to_end(bp, sp, prof)))
                    adv(1)
            t2 = Table("step", f"median of {runs} (s)", "all runs (s)",
                       title=f"end to end: {e2e_bars:,} bars, precomputed signals "
                             f"({res[0].trades:,} trades)")
            for key in ("load_s", "backtest_s", "stats_s", "total_s", "cpu_s"):
                vals = [getattr(r, key) for r in res]
                t2.add_row(key.removesuffix("_s"), f"{bb.median(vals):.2f}",
                           ", ".join(f"{v:.2f}" for v in vals))
            console.print(t2)
        if not same:
            raise typer.Exit(1)
