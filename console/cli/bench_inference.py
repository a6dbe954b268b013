"""`scalpdesk bench inference`: per-bar latency of live inference, and one training fold."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, fail, progress_task, run_cli


def register(app: typer.Typer) -> None:
    """Add the ``bench inference`` command to the bench group."""

    @app.command("inference")
    def bench_inference(
        models: Annotated[str, typer.Option(
            help="Comma-separated model kinds to measure.")] = "lightgbm,ff,lstm,tcn,transformer",
        bars: Annotated[int, typer.Option(help="Bars fed one at a time per run.", min=100)] = 2000,
        runs: Annotated[int, typer.Option(help="Runs per model; medians are reported.", min=1)] = 3,
        fold: Annotated[bool, typer.Option(
            "--fold/--no-fold", help="Also time one LightGBM walk-forward fold on a month of "
            "RTH 1-second bars (~470k rows × 49 features).")] = False,
        fold_days: Annotated[int, typer.Option(help="Trading days for --fold.", min=2)] = 21,
        threads: Annotated[int, typer.Option(help="LightGBM threads for --fold.", min=1)] = 2,
    ) -> None:
        """Per-bar latency (p50/p99/max) of streaming features + model + calibration.

        Target: LightGBM p99 ≤ 1 ms per bar. Each model is trained briefly on synthetic bars
        through the real pipeline, saved, loaded as the live engine would, warmed up, then
        fed bars one by one. Medians of --runs runs.

        Examples:

        \b
          scalpdesk bench inference --runs 3
          scalpdesk bench inference --fold
        """
        import statistics

        from rich.table import Table

        from core.ml.base import MODEL_KINDS
        from core.bench.inference import fold_bench, latency_bench

        kinds = [k.strip() for k in models.split(",") if k.strip()]
        bad = [k for k in kinds if k not in MODEL_KINDS]
        if bad:
            raise fail(f"unknown model kind(s): {', '.join(bad)}", f"use {', '.join(MODEL_KINDS)}")
        with progress_task("training and measuring", total=1.0) as adv:
            last = [0.0]

            def progress(f: float) -> None:
                adv(f - last[0])
                last[0] = f

            res = run_cli(lambda: latency_bench(kinds, bars=bars, runs=runs, progress=progress))
        t = Table(title=f"per-bar inference latency, µs (median of {runs} runs × {bars:,} bars)",
                  header_style="bold")
        for col in ("model", "p50", "p99", "max", "features p50", "p99 of each run", "target"):
            t.add_column(col, justify="right" if col != "model" else "left")
        for kind, rs in res.items():
            med = {k: statistics.median(getattr(r, k) for r in rs)
                   for k in ("p50_us", "p99_us", "max_us", "features_p50_us")}
            target = ("[green]p99 ≤ 1 ms ✓[/]" if med["p99_us"] <= 1000 else "[red]p99 > 1 ms ✗[/]") \
                if kind == "lightgbm" else "< 10 ms" + (" ✓" if med["p99_us"] < 10_000 else " ✗")
            t.add_row(kind, f"{med['p50_us']:,.0f}", f"{med['p99_us']:,.0f}", f"{med['max_us']:,.0f}",
                      f"{med['features_p50_us']:,.0f}",
                      ", ".join(f"{r.p99_us:,.0f}" for r in rs), target)
        console.print(t)
        if fold:
            fr = []
            with progress_task(f"one LightGBM fold on {fold_days} RTH days", total=runs) as adv:
                for _ in range(runs):
                    fr.append(run_cli(lambda: fold_bench(days=fold_days, threads=threads)))
                    adv(1)
            r0 = fr[0]
            med = statistics.median(r.fold_s for r in fr)
            ft = Table(title=f"one walk-forward fold: {r0.rows:,} rows × {r0.features} features, "
                             f"{r0.train_rows:,} training rows, {threads} thread(s)", header_style="bold")
            for col in ("step", f"median of {runs} (s)", "all runs (s)"):
                ft.add_column(col, justify="right" if col != "step" else "left")
            ft.add_row("features (batch)", f"{statistics.median(r.features_s for r in fr):.1f}",
                       ", ".join(f"{r.features_s:.1f}" for r in fr))
            ft.add_row("labels", f"{statistics.median(r.labels_s for r in fr):.1f}",
                       ", ".join(f"{r.labels_s:.1f}" for r in fr))
            ft.add_row("fold: fit + calibrate + score + trading eval", f"{med:.1f}",
                       ", ".join(f"{r.fold_s:.1f}" for r in fr))
            console.print(ft)
            console.print(("[green]" if med <= 60 else "[red]") +
                          f"fold target ≤ 60 s: {med:.1f} s[/]")
