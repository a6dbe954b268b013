"""`scalpdesk backtest …`: run a strategy over bars with real costs and prop-firm risk rules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from console.cli.backtest_honesty import data_hash, honesty, walk_forward
from console.cli.common import (bar_from_seconds, check_output_path, console, progress_task,
                                run_cli, say)
from core.datasets.bars import BAR_CHOICES
from core.money import money

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd



def _load_bars(data: str, bar: str | None, *, model_bar: int | None = None,
               model_name: str | None = None) -> tuple[pd.DataFrame, float]:
    """Bars from a file/directory (core.datasets.readers) or a catalog root such as ``MES``.

    The bar size of a catalog root is ``bar``, else the model's, else the only size held
    (core.datasets.bars.choose_bar); a file's size is its own and must agree with both.
    """
    from core.datasets.bars import check_file_bar, choose_bar, looks_like_path
    from core.errors import DataError

    p = Path(data)
    if p.exists():
        from core.datasets.readers import read_bars

        results = read_bars(p)
        if not results:
            raise DataError(f"{p}: no bars found", hint="point --data at a bar file or directory")
        check_file_bar(int(results[0].bar_seconds), bar, source=str(p), model_bar=model_bar,
                       model_name=model_name)
        if len(results) > 1:
            import pandas as pd

            frame = pd.concat([r.frame for r in results], ignore_index=True)
            frame = frame.sort_values("timestamp", kind="stable").drop_duplicates("timestamp")
            frame = frame.reset_index(drop=True)
        else:
            frame = results[0].frame
        return frame, float(results[0].bar_seconds)
    if looks_like_path(data):
        raise FileNotFoundError(2, "no such file", data)
    from core.datasets.catalog import Catalog

    cat, root = Catalog(), data.upper()
    seconds = choose_bar(cat.bar_sizes(root), bar, root=root, where=str(cat.root),
                         model_bar=model_bar, model_name=model_name)
    return cat.load(root, seconds), float(seconds)


def _signals(bars: pd.DataFrame, strategy: str | None, signals: Path | None, model: str | None,
             seed: int, in_sample: bool = False) -> Any:
    from core.backtest import Signals
    from core.errors import ConfigError
    from core.strategy import builtin_signals

    chosen = [x for x in (strategy, signals, model) if x]
    if len(chosen) != 1:
        raise ConfigError("choose exactly one of --strategy, --signals, --model",
                          hint="e.g. --strategy sma-cross, or --signals preds.parquet")
    if strategy:
        return builtin_signals(strategy, bars, seed=seed)
    if signals:
        import pandas as pd

        frame = pd.read_parquet(signals) if signals.suffix == ".parquet" else pd.read_csv(signals)
        return Signals.from_frame(bars, frame, name=signals.name)
    from core.strategy.model import model_signals

    with progress_task(f"predicting with {model}", 1.0) as adv:
        done = [0.0]

        def prog(f: float) -> None:
            adv(f - done[0])
            done[0] = f

        sig = model_signals(bars, str(model), progress=prog)
    return _guard_in_sample(bars, sig, str(model), in_sample)


def _guard_in_sample(bars: pd.DataFrame, sig: Any, model: str, in_sample: bool) -> Any:
    """Never let a model's training data pass for a backtest (the second-worst outcome).

    Bars the saved model was fitted, stopped or calibrated on get no signals unless the user
    asks for them with --in-sample, and then the verdict says it is not evidence.
    """
    import pandas as pd

    from core.errors import ConfigError
    from core.strategy.model import drop_in_sample, in_sample_mask, model_training_span

    span = model_training_span(model)
    mask = in_sample_mask(bars, span)
    if not mask.any():
        return sig
    first, oos = (pd.Timestamp(x, tz="UTC").strftime("%Y-%m-%d %H:%M") for x in span)
    share = f"{int(mask.sum()):,} of {len(bars):,} bars ({mask.mean():.0%})"
    if in_sample:
        say(f"warning: {share} lie in model {model}'s training data ({first} → {oos} UTC); "
            "results on them are in-sample and prove nothing")
        from dataclasses import replace

        return replace(sig, name=f"{sig.name} (IN-SAMPLE)")
    if mask.all():
        raise ConfigError(
            f"every bar of --data lies in model {model}'s training data ({first} → {oos} UTC): "
            "a backtest there is in-sample and proves nothing",
            hint="backtest on bars after the model's holdout start, or pass --in-sample to see "
                 "the (meaningless) in-sample result anyway")
    say(f"note: {share} lie in model {model}'s training data ({first} → {oos} UTC) and get no "
        "signals; only later bars are traded (--in-sample to include them)")
    return drop_in_sample(sig, mask)


def _summary(res: Any, title: str) -> None:
    from rich.table import Table

    from core.backtest.engine import denial_lines

    t = res.trades
    tab = Table(title=title, show_header=False)
    tab.add_column(no_wrap=True)  # the row names are never cut; long values wrap in their cell
    tab.add_column(overflow="fold")
    gross = float(t["gross_pnl"].sum()) if len(t) else 0.0
    costs = float((t["commission"] + t["slippage"]).sum()) if len(t) else 0.0
    rows = [
        ("trades", f"{len(t):,}"),
        ("net P&L (after costs)", money(res.net_pnl)),
        ("gross P&L / costs", f"{money(gross)} / {money(costs)}"),
        ("win rate", f"{(t['net_pnl'] > 0).mean():.1%}" if len(t) else "-"),
        ("max drawdown", money(abs(float(res.equity['drawdown'].min()))) if len(res.equity) else "-"),
        ("exit reasons", ", ".join(f"{k} {v}" for k, v in
                                   t["exit_reason"].value_counts().items() if v) or "-"),
        ("same-bar ambiguity", f"{res.ambiguity.share_affected:.1%} of trades; net "
                               f"{money(res.ambiguity.pessimistic_pnl)} (pessimistic) … "
                               f"{money(res.ambiguity.optimistic_pnl)} (optimistic)"),
        ("risk events", ", ".join(f"{k} {v}" for k, v in
                                  res.risk_events["event"].value_counts().items()) or "none"),
        ("entries refused", "\n".join(denial_lines(res.params.get("denials", {}))) or "none"),
        ("final balance", money(res.params['final_balance'])),
    ]
    for k, v in rows:
        tab.add_row(k, v)
    console.print(tab)
    for note in res.params.get("notes", []):
        say(f"note: {note}")


def _no_signal_spans(bars: pd.DataFrame, model: str | None, in_sample: bool
                     ) -> tuple[tuple[int, int, str], ...]:
    """The model's training span inside the bars, for the report to shade and label."""
    if not model:
        return ()
    import numpy as np

    from core.strategy.model import in_sample_mask, model_training_span

    mask = in_sample_mask(bars, model_training_span(model))
    if not mask.any():
        return ()
    idx = np.flatnonzero(mask)
    ts = bars["timestamp"].to_numpy(np.int64)
    label = ("model's training data: traded (--in-sample), proves nothing" if in_sample
             else "model's training data: no signals (out-of-sample only)")
    return ((int(ts[idx[0]]), int(ts[idx[-1]]), label),)


def _why_no_trades(sig: Any, prof: Any) -> str:
    """Why a run took no trades, with the fix (the first question after "0 trades")."""
    import numpy as np

    d = np.asarray(sig.direction)
    c = np.asarray(sig.confidence, dtype=float)
    floor = float(prof.risk.min_confidence)
    directional = d != 0
    if not directional.any():
        return "no bar carries a long or short signal (check the signals or the model's span)"
    if not (directional & (c >= floor)).any():
        best = float(c[directional].max())
        low = f"{max(0.34, np.floor(best * 100) / 100 - 0.01):.2f}"
        return (f"no signal reached profile {prof.name}'s {floor:.0%} confidence floor (highest "
                f"{best:.0%}); to trade lower-confidence signals, copy the profile and lower the "
                f"floor and the first sizing step: scalpdesk profile new mine --from {prof.name}; "
                f"scalpdesk profile set mine risk.min_confidence {low}; scalpdesk profile set mine "
                f"'risk.confidence_steps[0].min_confidence' {low}")
    return "signals passed the confidence floor but the risk rules refused every entry (above)"


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

        capitals = run_cli(lambda: parse_capitals(capital))

    def work() -> None:
        import os

        from core.backtest import run_backtest
        from core.backtest.baseline import random_baseline
        from core.config import load_profile

        prof = load_profile(prof_name)
        model_bar = None
        if model:
            from core.ml.artifacts import model_bar_seconds

            model_bar = model_bar_seconds(model)
        with progress_task("loading bars", None):
            bars, bsec = _load_bars(data, bar_opt, model_bar=model_bar, model_name=model)
        bars_1s = None
        if resolve_1s:
            from dataclasses import replace

            from core.errors import DataError

            with progress_task("loading 1-second bars", None):
                bars_1s, sec1 = _load_bars(resolve_1s, "1s" if not Path(resolve_1s).exists()
                                           else None)
            if sec1 != 1:
                raise DataError(f"--resolve-1s {resolve_1s}: holds {sec1:g}-second bars, not 1-second",
                                hint="point it at 1-second bars of the same instrument")
            # Settling from finer bars is the profile's "resolve" mode.
            prof = replace(prof, strategy=replace(prof.strategy, same_bar="resolve"))
        sig = _signals(bars, strategy, signals, model, seed, in_sample)
        with progress_task("backtest", 1.0) as adv:
            last = [0.0]

            def prog(f: float) -> None:
                adv(f - last[0])
                last[0] = f

            res = run_backtest(bars, sig, profile=prof, seed=seed, progress=prog, bars_1s=bars_1s)
        title = f"{prof.name} · {sig.name} · {len(bars):,} bars of {bsec:g} s"
        _summary(res, title)
        why = () if len(res.trades) else ("why no trades: " + _why_no_trades(sig, prof),)
        for line in why:
            say("note: " + line)
        base = None
        if baseline_seeds > 0 and len(res.trades):  # no trades: nothing to compare
            with progress_task(f"random baseline ({baseline_seeds} seeds)", 1.0) as adv:
                done = [0.0]

                def bprog(f: float) -> None:
                    adv(f - done[0])
                    done[0] = f

                base = random_baseline(bars, res, prof, n_seeds=baseline_seeds, seed=seed,
                                       progress=bprog)
            say(base.summary())
        stitched, fold_rows = walk_forward(bars, sig, prof, folds) if walk_forward_ \
            else (None, None)
        if trades_out is not None:
            tmp = trades_out.with_name(f".{trades_out.name}.tmp")
            if trades_out.suffix == ".csv":
                res.trades.to_csv(tmp, index=False)
            else:
                res.trades.to_parquet(tmp, index=False)
            os.replace(tmp, trades_out)
            say(f"trades written: {trades_out}")
        cap_table = _capital_table(bars, sig, prof, capitals, seed) if capitals else None
        honesty(res, prof, base, report, title, data_hash=data_hash(bars), stitched=stitched,
                folds=fold_rows, shaded=_no_signal_spans(bars, model, in_sample), extra_notes=why,
                in_sample=bool(model and in_sample), capital=cap_table)

    run_cli(work)


def _capital_table(bars: pd.DataFrame, sig: Any, prof: Any, capitals: list[float],
                   seed: int) -> Any:
    """`--capital`: the same signals at each starting capital, printed as one table."""
    from rich.table import Table

    from core.backtest.capital import capital_table, display_table

    with progress_task(f"capital scaling ({len(capitals)} capitals)", None):
        out = capital_table(bars, sig, prof, capitals, seed=seed)
    head, rows = display_table(out.frame)
    tab = Table(title="capital scaling: the same signals at each starting capital")
    for k, h in enumerate(head):
        tab.add_column(h, justify="left" if k == 0 else "right", no_wrap=k == 0)
    for row in rows:
        tab.add_row(*row)
    console.print(tab)
    for note in out.notes:
        say("note: " + note, style="dim")
    return out
