"""`scalpdesk bench sweep`: trials per second with 1 and 2 workers, per-trial overhead, and
200 trials × 6 folds on a month of 1-minute data."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, fail, progress_task, run_cli


def register(app: typer.Typer) -> None:
    """Add the ``bench sweep`` command to the bench group."""

    @app.command("sweep")
    def bench_sweep(
        trials: Annotated[int, typer.Option(help="Trials per sweep.", min=2)] = 200,
        folds: Annotated[int, typer.Option(help="Validation folds per trial.", min=1)] = 6,
        days: Annotated[int, typer.Option(help="Trading days of 1-minute bars.", min=5)] = 21,
        runs: Annotated[int, typer.Option(help="Runs per worker count (medians reported).",
                                          min=1)] = 3,
        workers: Annotated[str, typer.Option(
            help="Comma-separated worker counts; 0 = in this process, no Dask.")] = "1,2",
        retrain: Annotated[bool, typer.Option(
            "--retrain", help="The heavy case: refit LightGBM on every fold of every trial.")] = False,
        seed: Annotated[int, typer.Option(help="Seed of the synthetic data.", min=0)] = 0,
    ) -> None:
        """Time sweeps of the benchmark workload on a LocalCluster of 1 and 2 workers.

        The workload (core/bench/sweep.py): 21 trading days of synthetic MES bars resampled
        to 1 minute (~28,700 bars), the shipped example space (SMA-cross speeds, stop,
        target, time stop, max risk per trade), seeded random search, 6 folds + a held-out
        test, the $1k rules with every risk rule on. "total" is the whole command's work
        (cluster start, trials, held-out test, analysis, report); trials/s counts the trial
        phase only; overhead is wall time × workers per trial minus the time inside it.

        Example: scalpdesk bench sweep --runs 3 --workers 1,2
        """
        from rich.table import Table

        from core.bench import sweep as bs

        try:
            counts = [int(x) for x in workers.split(",") if x.strip()]
        except ValueError:
            raise fail(f"--workers {workers!r}: give numbers such as 1,2") from None
        if not counts or min(counts) < 0:
            raise fail("--workers needs at least one count >= 0", "e.g. --workers 1,2")
        with progress_task(f"{days} days of 1-minute bars", None):
            bars = run_cli(lambda: bs.month_of_bars(days, seed))
        results: dict[int, list[bs.SweepRun]] = {}
        for n in counts:
            with progress_task(f"{trials} trials × {folds} folds on {n or 'no'} worker(s)",
                               runs) as adv:
                for _ in range(runs):
                    results.setdefault(n, []).append(run_cli(lambda: bs.run_once(
                        bars, workers=n, trials=trials, folds=folds, retrain=retrain)))
                    adv(1)
        kind = "retrain LightGBM per fold" if retrain else "sma-cross example space"
        tab = Table("workers", "total s", "trials/s", "in-trial ms", "overhead ms/trial",
                    "all runs (total s)",
                    title=f"sweep: {trials} trials × {folds} folds, {len(bars):,} one-minute bars "
                          f"({days} days), {kind}; medians of {runs}")
        for n, rs in results.items():
            tab.add_row(str(n) if n else "0 (in-process)",
                        f"{bs.median([r.total_s for r in rs]):,.1f}",
                        f"{bs.median([r.trials_per_s for r in rs]):,.2f}",
                        f"{bs.median([r.compute_ms for r in rs]):,.1f}",
                        f"{bs.median([r.overhead_ms for r in rs]):,.1f}",
                        ", ".join(f"{r.total_s:.1f}" for r in rs))
        console.print(tab)
        errors = sum(r.errors for rs in results.values() for r in rs)
        if errors:
            console.print(f"[red]{errors} trial(s) failed[/]")
            raise typer.Exit(1)
