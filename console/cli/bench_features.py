"""`scalpdesk bench features`: batch feature time/memory and streaming per-bar latency."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, progress_task, run_cli


def register(app: typer.Typer) -> None:
    """Add the ``bench features`` command to the bench group."""

    @app.command("features")
    def bench_features(
        rows: Annotated[int, typer.Option(
            help="Synthetic RTH 1-second rows for the batch run (users' RTH data: 15,800,000).",
            min=10_000)] = 1_000_000,
        stream_bars: Annotated[int, typer.Option(
            help="Bars timed one by one through FeatureStream + a LightGBM predict.",
            min=1000)] = 20_000,
        runs: Annotated[int, typer.Option(help="Measured runs; the median is reported.",
                                          min=1)] = 3,
        feature_set: Annotated[str, typer.Option(
            help="Feature set: 'default' (1-second bars), 'default_1m' or 'crypto_1m'.")
        ] = "default",
        seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the synthetic data.")] = 0,
    ) -> None:
        """Time compute_features (batch) and FeatureStream.update (live, per bar).

        Each run is a fresh process, so peak memory is the run's own.

        CPU time is shown beside wall time: a shared machine inflates wall time.

        Inputs are cached under .bench/ (set SCALPDESK_BENCH_DIR to move them).

        Example:

        \b
          scalpdesk bench features --rows 15800000 --runs 3
        """
        import statistics

        from rich.table import Table

        from core.bench import features as bf

        with progress_task(f"preparing {rows:,} synthetic RTH rows", total=None):
            path = run_cli(lambda: bf.rth_file(max(rows, stream_bars + 2_000), seed))
        batch, stream = [], []
        with progress_task("measuring", total=2 * runs) as advance:
            for _ in range(runs):
                batch.append(run_cli(lambda: bf.run_isolated("batch", path, feature_set)))
                advance(1)
                stream.append(run_cli(lambda: bf.run_isolated("stream", path, feature_set)))
                advance(1)

        def row(t: Table, label: str, key: str, rs: list[dict], scale: float = 1.0,
                fmt: str = "{:.2f}") -> None:
            vals = [r[key] * scale for r in rs]
            t.add_row(label, fmt.format(statistics.median(vals)),
                      ", ".join(fmt.format(v) for v in vals))

        bt = Table("batch", f"median of {runs}", "all runs",
                   title=f"compute_features: {batch[0]['rows']:,} rows x "
                         f"{batch[0]['features']} features ({feature_set})")
        row(bt, "wall time (s)", "wall_s", batch)
        row(bt, "CPU time (s)", "cpu_s", batch)
        row(bt, "peak memory (GB)", "peak_rss_bytes", batch, 1e-9)
        row(bt, "output matrix (GB)", "output_bytes", batch, 1e-9)
        console.print(bt)
        st = Table("per bar (µs)", f"median of {runs}", "all runs",
                   title=f"FeatureStream.update + Booster.predict, {stream_bars:,} bars")
        for key, label in (("update_p50_us", "features p50"), ("update_p99_us", "features p99"),
                           ("predict_p50_us", "LightGBM predict p50"),
                           ("predict_p99_us", "LightGBM predict p99"),
                           ("total_p50_us", "total p50"), ("total_p99_us", "total p99")):
            row(st, label, key, stream, fmt="{:.1f}")
        console.print(st)
