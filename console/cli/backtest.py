"""`scalpdesk backtest …`: run a strategy over bars with real costs and prop-firm risk rules.

A thin shell over core.backtest.workflow.run_backtest_request (the console's backtest pane
calls the same function): options in, blocks printed with rich, one progress bar per stage.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import (bar_from_seconds, check_output_path, console, progress_task,
                                run_cli, say)
from core.backtest.workflow_io import Block, Table
from core.datasets.bars import BAR_CHOICES


class _StageBars:
    """The workflow's ``progress(stage, fraction)`` as one rich bar per stage.

    A bar is closed before anything is printed, so tables never interleave with a live bar.
    """

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self._stage: str | None = None
        self._advance = None
        self._done = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if stage != self._stage:
            self.close()
            self._stack = ExitStack()
            total = None if math.isnan(fraction) else 1.0
            self._advance = self._stack.enter_context(progress_task(stage, total))
            self._stage, self._done = stage, 0.0
        if not math.isnan(fraction) and self._advance is not None:
            self._advance(fraction - self._done)
            self._done = fraction

    def close(self) -> None:
        """End the current bar (if any)."""
        if self._stack is not None:
            self._stack.close()
        self._stack, self._stage, self._advance = None, None, None


def render_block(block: Block) -> None:
    """Print one workflow block: a message through ``say``, a table through rich."""
    if not isinstance(block, Table):
        say(block.text, style=block.style)
        return
    from rich.table import Table as RichTable

    tab = RichTable(title=block.title, show_header=block.header is not None)
    names = block.header or ("",) * (len(block.rows[0]) if block.rows else 2)
    for k, name in enumerate(names):
        tab.add_column(name, justify=block.align[k] if block.align else "left",
                       no_wrap=bool(block.no_wrap and block.no_wrap[k]),
                       overflow="fold" if block.fold and block.fold[k] else "ellipsis")
    for row in block.rows:
        tab.add_row(*row)
    console.print(tab)


def backtest(
    ctx: typer.Context,
    data: Annotated[str, typer.Option("--data", "-d", help=(
        "Bars: a file/directory (Parquet, CSV, DBN, TopstepX JSON) or a catalog root such "
        "as MES (see --bar)."))],
    profile: Annotated[str | None, typer.Option("--profile", "-p", help=(
        "Profile name or TOML path (account_1k, topstep_50k_combine, …). Its costs, risk "
        "rules, bracket and fill assumptions are applied."))] = None,
    strategy: Annotated[str | None, typer.Option(
        "--strategy", help="Built-in strategy: random (entries by coin flip) or sma-cross.")] = None,
    signals: Annotated[Path | None, typer.Option(
        "--signals", help="Parquet/CSV with timestamp, direction (-1/0/1), confidence.")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="A trained model: its name under models/ or its directory.")] = None,
    bar: Annotated[str | None, typer.Option(
        "--bar", metavar=BAR_CHOICES, help=(
            "Bar size of catalog data. Default: the model's bar size with --model, else the "
            "only size the catalog holds; a file's own size is always used."))] = None,
    bar_seconds: Annotated[int | None, typer.Option(
        "--bar-seconds", hidden=True, help="Old spelling of --bar (seconds).")] = None,
    walk_forward_: Annotated[bool, typer.Option(
        "--walk-forward", help="Also report per-fold results over consecutive time folds.")] = False,
    folds: Annotated[int, typer.Option("--folds", min=1, max=100,
                                       help="Number of walk-forward folds.")] = 5,
    baseline_seeds: Annotated[int, typer.Option(
        "--baseline-seeds", min=0, max=100_000,
        help="Random-entry runs with identical exits (0 = skip).")] = 200,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1,
                                      help="Seed of random strategies/baseline.")] = 0,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write a self-contained HTML report here.")] = None,
    trades_out: Annotated[Path | None, typer.Option(
        "--trades-out", help="Write the trade log (.parquet or .csv).")] = None,
    resolve_1s: Annotated[str | None, typer.Option(
        "--resolve-1s", help=("1-second bars (file or catalog root) to settle bars where both "
                              "stop and target were reachable, instead of assuming the worst."))] = None,
    in_sample: Annotated[bool, typer.Option(
        "--in-sample", help=("With --model: also trade bars the model was trained on (by "
                             "default they get no signals; in-sample results prove nothing)."))] = False,
    min_confidence: Annotated[float | None, typer.Option(
        "--min-confidence", min=0.0, max=1.0, help=(
            "Trade only signals at or above this calibrated confidence. Default: with --model "
            "the floor the model was trained and judged with (its config.json), else the "
            "profile's risk.min_confidence. The summary says which applied."))] = None,
    capital: Annotated[str | None, typer.Option(
        "--capital", metavar="AMOUNTS", help=(
            "Also run the same signals at each starting capital, e.g. 100,1000,10000,100000: "
            "trades, entries skipped for minimum size, fees, slippage and impact, return, "
            "drawdown and verdict in one table (and in --report)."))] = None,
) -> None:
    """Backtest a strategy with real costs and prop-firm risk rules: summary, baseline, verdict.

    Examples:

    \b
      scalpdesk backtest --data MES --model mes_lgbm --profile account_1k
      scalpdesk backtest --data bars.parquet --strategy sma-cross --report out.html
      scalpdesk backtest --data MES --signals preds.parquet --walk-forward --folds 4
      scalpdesk backtest --data BTCUSDT --model btc_lgbm --profile crypto_spot_1k --capital 100,1000,10000,100000
    """
    root_profile = getattr(ctx.obj, "profile", None) if ctx.obj is not None else None
    prof_name = profile or (str(root_profile) if root_profile else "demo")
    if report is not None:
        check_output_path(report, (".html", ".htm"), "--report")
    if trades_out is not None:  # a .txt name used to receive Parquet bytes
        check_output_path(trades_out, (".parquet", ".csv"), "--trades-out")

    bar_opt = bar_from_seconds(bar, bar_seconds)
    capitals = None
    if capital is not None:
        from core.backtest.capital import parse_capitals

        capitals = tuple(run_cli(lambda: parse_capitals(capital)))

    from core.backtest.workflow import BacktestRequest, run_backtest_request

    request = BacktestRequest(
        data=data, profile=prof_name, strategy=strategy, signals=signals, model=model,
        bar=bar_opt, walk_forward=walk_forward_, folds=folds, baseline_seeds=baseline_seeds,
        seed=seed, report=report, trades_out=trades_out, resolve_1s=resolve_1s,
        in_sample=in_sample, capitals=capitals, min_confidence=min_confidence)
    bars = _StageBars()

    def emit(block: Block) -> None:
        bars.close()
        render_block(block)

    try:
        run_cli(lambda: run_backtest_request(request, bars, emit=emit))
    finally:
        bars.close()
