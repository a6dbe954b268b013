"""The backtest workflow as one call: a request in, a report out (issue 10, Build 4).

``scalpdesk backtest`` and the console's backtest pane both call
:func:`run_backtest_request`; neither restates a step. The workflow loads the bars, builds
the signals (guarding a model's training data), runs the compiled backtester, the
random-entry baseline, walk-forward folds and capital scaling when asked, then the honest
end (ledger, deflated Sharpe, verdict, Combine estimate, HTML report). It never prints:
every message is a block handed to ``emit`` and kept in the report; progress goes to one
``progress(stage, fraction)`` callback.

Example:
    >>> req = BacktestRequest(data="bars.parquet", strategy="sma-cross")  # doctest: +SKIP
    >>> rep = run_backtest_request(req)                                   # doctest: +SKIP
    >>> rep.verdict.label, rep.baseline_percentile                        # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.backtest.workflow_io import Block, Emit, Line, Output, Progress, Table
from core.money import money

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from core.backtest.baseline import BaselineResult
    from core.backtest.capital import CapitalTable
    from core.backtest.engine import BacktestResult
    from core.backtest.stats import Stats
    from core.backtest.verdict import Verdict
    from core.config import Profile

__all__ = ["BacktestReport", "BacktestRequest", "Block", "Line", "Progress", "Table",
           "run_backtest_request"]


@dataclass(frozen=True)
class BacktestRequest:
    """Everything one backtest run needs (the CLI's options, without the CLI).

    Attributes:
        data: Bars: a file/directory or a catalog root such as ``MES``.
        profile: Profile name, TOML path or a loaded Profile.
        strategy: A built-in strategy (exactly one of strategy, signals, model).
        signals: A Parquet/CSV signals file.
        model: A trained model's name or directory.
        bar: Bar size of catalog data ("1m", …); None: the model's or the only one.
        walk_forward: Also run consecutive time folds, each a fresh account.
        folds: Number of walk-forward folds.
        baseline_seeds: Random-entry runs (0 = skip).
        seed: Seed of random strategies and the baseline.
        report: Write a self-contained HTML report here.
        trades_out: Write the trade log here (.parquet or .csv).
        resolve_1s: 1-second bars to settle same-bar stop/target ambiguity.
        in_sample: With a model, also trade its training bars (proves nothing).
        capitals: Also run the same signals at each starting capital.
        min_confidence: Confidence floor; None: the model's training floor (its config.json)
            with --model, else the profile's ``risk.min_confidence``.
    """

    data: str
    profile: str | Profile = "demo"
    strategy: str | None = None
    signals: Path | None = None
    model: str | None = None
    bar: str | None = None
    walk_forward: bool = False
    folds: int = 5
    baseline_seeds: int = 200
    seed: int = 0
    report: Path | None = None
    trades_out: Path | None = None
    resolve_1s: str | None = None
    in_sample: bool = False
    capitals: tuple[float, ...] | None = None
    min_confidence: float | None = None


@dataclass(frozen=True)
class BacktestReport:
    """What one run produced.

    Attributes:
        blocks: Every printed line and table, in order.
        title: The summary table's title (profile · signals · bars).
        result: The backtester's result (trades, equity curve, params).
        stats: The run's statistics.
        verdict: The verdict.
        baseline: The random-entry baseline (None when skipped or no trades).
        n_trials: Trials on the same data in the ledger, this run included.
        deflated_sharpe: Deflated Sharpe probability (None with under 3 trading days).
        capital: The capital-scaling table when asked.
        floor: The confidence floor applied and where it came from.
        report_path: The HTML report written, if any.
        trades_path: The trade log written, if any.
    """

    blocks: tuple[Block, ...]
    title: str
    result: BacktestResult
    stats: Stats
    verdict: Verdict
    baseline: BaselineResult | None = None
    n_trials: int = 1
    deflated_sharpe: float | None = None
    capital: CapitalTable | None = None
    floor: tuple[float, str] = (0.0, "")
    report_path: Path | None = None
    trades_path: Path | None = None
    stitched_equity: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def equity(self) -> pd.DataFrame:
        """The equity curve (timestamp, equity, drawdown)."""
        return self.result.equity

    @property
    def baseline_percentile(self) -> float | None:
        """The strategy's percentile in its random-entry baseline (None without one)."""
        return None if self.baseline is None else self.baseline.percentile

    @property
    def lines(self) -> tuple[str, ...]:
        """Every block as plain text, in order (a log or a test reads these)."""
        return tuple(b.text if isinstance(b, Line) else b.text() for b in self.blocks)


def run_backtest_request(request: BacktestRequest, progress: Progress | None = None, *,
                         emit: Emit | None = None) -> BacktestReport:
    """Run one backtest end to end: bars → signals → backtest → baseline → verdict → files.

    Args:
        request: What to run.
        progress: ``progress(stage, fraction)``; fraction NaN while a stage has no total.
        emit: Receives each printed block as soon as it exists (the CLI prints it then).

    Returns:
        The report: printed blocks, stats, verdict, equity curve, baseline percentile.

    Raises:
        CoreError: Bad input (unknown profile, data or model; wrong bar size; no signal
            source; every bar in the model's training data). Nothing is written then.
    """
    from core.backtest import run_backtest
    from core.backtest.baseline import random_baseline
    from core.backtest.honesty import honesty, walk_forward
    from core.backtest.ledger import data_key
    from core.backtest.workflow_inputs import (load_bars, make_signals, no_signal_spans,
                                               why_no_trades)
    from core.config import load_profile

    req = request
    out = Output(emit, progress)
    prof = load_profile(req.profile) if isinstance(req.profile, str) else req.profile
    model_bar = None
    if req.model:
        from core.ml.artifacts import model_bar_seconds

        model_bar = model_bar_seconds(req.model)
    prof, floor = confidence_floor(prof, req.model, req.min_confidence)
    with out.stage("loading bars", measured=False):
        bars, bsec = load_bars(req.data, req.bar, model_bar=model_bar, model_name=req.model)
    bars_1s = None
    if req.resolve_1s:
        from core.errors import DataError

        with out.stage("loading 1-second bars", measured=False):
            bars_1s, sec1 = load_bars(req.resolve_1s, "1s" if not Path(req.resolve_1s).exists()
                                      else None)
        if sec1 != 1:
            raise DataError(f"--resolve-1s {req.resolve_1s}: holds {sec1:g}-second bars, not "
                            "1-second", hint="point it at 1-second bars of the same instrument")
        # Settling from finer bars is the profile's "resolve" mode.
        prof = replace(prof, strategy=replace(prof.strategy, same_bar="resolve"))
    sig = make_signals(bars, req.strategy, req.signals, req.model, req.seed, out, req.in_sample)
    with out.stage("backtest") as prog:
        res = run_backtest(bars, sig, profile=prof, seed=req.seed, progress=prog,
                           bars_1s=bars_1s)
    title = f"{prof.name} · {sig.name} · {len(bars):,} bars of {bsec:g} s"
    out.add(summary_table(res, title, floor))
    for note in res.params.get("notes", []):
        out.say(f"note: {note}")
    why = () if len(res.trades) else ("why no trades: " + why_no_trades(sig, prof),)
    for line in why:
        out.say("note: " + line)
    base = None
    if req.baseline_seeds > 0 and len(res.trades):  # no trades: nothing to compare
        with out.stage(f"random baseline ({req.baseline_seeds} seeds)") as prog:
            base = random_baseline(bars, res, prof, n_seeds=req.baseline_seeds, seed=req.seed,
                                   bars_1s=bars_1s, progress=prog)
        out.say(base.summary())
    stitched, fold_rows = walk_forward(bars, sig, prof, req.folds, out) if req.walk_forward \
        else (None, None)
    trades_path = None
    if req.trades_out is not None:
        trades_path = _write_trades(res.trades, req.trades_out)
        out.say(f"trades written: {trades_path}")
    cap = _capital(bars, sig, prof, req.capitals, req.seed, out) if req.capitals else None
    hon = honesty(res, prof, base, req.report, title, out, data_hash=data_key(bars),
                  stitched=stitched, folds=fold_rows,
                  shaded=no_signal_spans(bars, req.model, req.in_sample), extra_notes=why,
                  in_sample=bool(req.model and req.in_sample), capital=cap)
    return BacktestReport(blocks=tuple(out.blocks), title=title, result=res, stats=hon.stats,
                          verdict=hon.verdict, baseline=base, n_trials=hon.n_trials,
                          deflated_sharpe=hon.deflated_sharpe, capital=cap, floor=floor,
                          report_path=hon.report_path, trades_path=trades_path,
                          stitched_equity=stitched)


def confidence_floor(prof: Profile, model: str | None, override: float | None
                     ) -> tuple[Profile, tuple[float, str]]:
    """The confidence floor a run applies, and where it came from (issue 11, found 4).

    A model is judged at training with the floor in its config.json; a backtest of it at
    another floor would tell a different story about the same model. So: ``--min-confidence``
    when given, else the model's training floor, else the profile's ``risk.min_confidence``.
    The floor goes through core.training.trading.training_profile, the rule train uses (a
    floor below the first sizing step moves that step down with it).

    Returns:
        The profile with that floor, and (floor, where it came from in words).
    """
    from core.training.trading import training_profile

    if override is not None:
        return training_profile(prof, override), (float(override), "--min-confidence")
    if model:
        import json

        from core.ml.artifacts import resolve_model_dir

        cfg = json.loads((resolve_model_dir(model) / "config.json").read_text(encoding="utf-8"))
        floor = cfg.get("min_confidence")
        if isinstance(floor, (int, float)):
            how = "floor, chosen on its validation bars" if \
                (cfg.get("floor") or {}).get("chosen_on") == "validation" else "training floor"
            return training_profile(prof, float(floor)), (
                float(floor), f"model {model}'s {how}, from its config.json")
    return prof, (float(prof.risk.min_confidence), f"profile {prof.name}'s risk.min_confidence")


def summary_table(res: Any, title: str, floor: tuple[float, str] | None = None) -> Table:
    """The run's key/value summary: trades, P&L, costs, exits, risk events, refusals."""
    from core.backtest.engine import denial_lines

    t = res.trades
    gross = float(t["gross_pnl"].sum()) if len(t) else 0.0
    costs = float((t["commission"] + t["slippage"]).sum()) if len(t) else 0.0
    rows = (
        *((("confidence floor", f"{floor[0]:.0%} ({floor[1]})"),) if floor else ()),
        ("trades", f"{len(t):,}"),
        ("net P&L (after costs)", money(res.net_pnl)),
        ("gross P&L / costs", f"{money(gross)} / {money(costs)}"),
        ("win rate", f"{(t['net_pnl'] > 0).mean():.1%}" if len(t) else "-"),
        ("max drawdown", money(abs(float(res.equity['drawdown'].min())))
         if len(res.equity) else "-"),
        ("exit reasons", ", ".join(f"{k} {v}" for k, v in
                                   t["exit_reason"].value_counts().items() if v) or "-"),
        ("same-bar ambiguity", f"{res.ambiguity.share_affected:.1%} of trades; net "
                               f"{money(res.ambiguity.pessimistic_pnl)} (pessimistic) … "
                               f"{money(res.ambiguity.optimistic_pnl)} (optimistic)"),
        ("risk events", ", ".join(f"{k} {v}" for k, v in
                                  res.risk_events["event"].value_counts().items()) or "none"),
        ("entries refused", "\n".join(denial_lines(res.params.get("denials", {}))) or "none"),
        ("final balance", money(res.params['final_balance'])),
    )
    # The row names are never cut; long values wrap in their cell.
    return Table(title, None, rows, no_wrap=(True, False), fold=(False, True))


def _write_trades(trades: pd.DataFrame, path: Path) -> Path:
    """The trade log, written whole or not at all (temp file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix == ".csv":
        trades.to_csv(tmp, index=False)
    else:
        trades.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def _capital(bars: pd.DataFrame, sig: Any, prof: Any, capitals: tuple[float, ...], seed: int,
             out: Output) -> CapitalTable:
    """`--capital`: the same signals at each starting capital, as one table."""
    from core.backtest.capital import capital_table, display_table

    with out.stage(f"capital scaling ({len(capitals)} capitals)", measured=False):
        table = capital_table(bars, sig, prof, list(capitals), seed=seed)
    head, rows = display_table(table.frame)
    n = len(head)
    out.add(Table("capital scaling: the same signals at each starting capital", tuple(head),
                  tuple(tuple(r) for r in rows),
                  align=tuple("left" if k == 0 else "right" for k in range(n)),
                  no_wrap=tuple(k == 0 for k in range(n))))
    for note in table.notes:
        out.say("note: " + note, style="dim")
    return table
