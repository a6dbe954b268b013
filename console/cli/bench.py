"""`scalpdesk bench …`: speed and memory measurements (one module per figure family)."""

from __future__ import annotations

import typer

from console.cli import (
    bench_backtest, bench_data, bench_engine, bench_features, bench_inference,
    bench_research, bench_sweep, bench_tui, bench_venue,
)

app = typer.Typer(
    help="Measure speed and memory (figures for the README's Performance section).",
    no_args_is_help=True,
)

for _mod in (bench_data, bench_features, bench_inference, bench_backtest, bench_venue,
             bench_engine, bench_sweep, bench_tui, bench_research):
    _mod.register(app)
