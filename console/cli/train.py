"""`scalpdesk train`: purged walk-forward training with an honest verdict.

Registered as a plain command (``app.command("train")(train.train)`` in app.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from console.cli.common import (bar_from_seconds, check_output_path, console, fail,
                                progress_task, run_cli, say, wrap_message)
from core.datasets.bars import BAR_CHOICES
from core.money import money

app = typer.Typer(help="Train models with purged walk-forward validation.", no_args_is_help=True)

MODEL_HELP = ("lightgbm (default; trees, fast, least prone to overfit), ff (feed-forward net), "
              "lstm, tcn (dilated causal convolutions), transformer (attention over the last "
              "--window bars). Nets need PyTorch.")


def _profile(ctx: typer.Context | None, profile: str | None) -> Any:
    from core.config import load_profile
    if profile is None and ctx is not None and ctx.obj is not None and getattr(ctx.obj, "profile", None):
        profile = str(ctx.obj.profile)
    return run_cli(lambda: load_profile(profile or "demo"))


def _date(ns: int) -> str:
    import pandas as pd
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M")


def _f(x: float, fmt: str = "{:.3f}") -> str:
    return fmt.format(x) if x is not None and math.isfinite(x) else "-"


_CLASSIFICATION_COLS = ("fold", "test from", "rows", "AUC", "bal.acc", "recall D/F/U",
                        "logloss/prior")
_TRADING_COLS = ("fold", "test from", "trades", "$/trade", "random")


def _fold_cells(r: Any) -> dict[str, str]:
    m, tr = r.metrics, r.trading
    rec = "/".join(_f(v, "{:.2f}").replace("0.", ".", 1) for v in m.recall.values())
    return {
        "fold": "hold" if r.is_holdout else str(r.number),
        "test from": _date(r.spans["test_start"])[5:], "rows": f"{r.rows['test']:,}",
        "AUC": _f(m.auc), "bal.acc": _f(m.balanced_accuracy), "recall D/F/U": rec,
        "logloss/prior": f"{_f(m.log_loss, '{:.3f}')}/{_f(m.log_loss_prior, '{:.3f}')}",
        "trades": "-" if tr is None else f"{tr.trades:,}" + ("" if tr.counts else "*"),
        "$/trade": money(tr.expectancy if tr else None, signed=True),
        "random": money(tr.baseline_expectancy if tr else None, signed=True),
    }


def fold_table(results: list, title: str = "walk-forward folds (out of sample)",
               columns: tuple[str, ...] = _CLASSIFICATION_COLS + _TRADING_COLS[2:]) -> Table:
    """One row per fold: test period, rows, directional AUC, balanced accuracy, recalls, trades."""
    t = Table(title=title or None, header_style="bold", pad_edge=False, box=None, padding=(0, 1),
              collapse_padding=True, title_justify="left")
    for col in columns:
        # Never truncated: a cut "0.4…" AUC is worse than no table.
        t.add_column(col, justify="left" if col in ("fold", "test from") else "right",
                     no_wrap=True, overflow="ignore")
    for r in results:
        cells = _fold_cells(r)
        t.add_row(*(cells[c] for c in columns), style="dim" if r.is_holdout else None)
    return t


def print_fold_table(results: list, title: str = "walk-forward folds (out of sample)") -> None:
    """The fold table, split in two (classification, then trading) when it is wider than the
    terminal (80 columns, or output piped to a file), so no number is ever cut."""
    from rich.measure import Measurement

    full = fold_table(results, title)
    natural = Measurement.get(console, console.options.update_width(10_000), full).maximum
    if natural <= console.width:
        console.print(full)
        return
    # Titles as plain lines: a table title wraps to the (narrow) table's width.
    say(f"{title}: classification", style="italic")
    console.print(fold_table(results, "", _CLASSIFICATION_COLS))
    say(f"{title}: trading after costs", style="italic")
    console.print(fold_table(results, "", _TRADING_COLS))


def print_outcome(out: Any) -> None:
    """Fold table, notes, verdict (last, in words)."""
    from core.training.report import denial_lines, holdout_sentence, horizon_sentence
    print_fold_table(out.results)
    say("AUC = directional (UP vs DOWN among bars that moved). $/trade after costs from the "
        "backtester with the profile's fills, sizing, risk rules and schedule; random = same "
        "bars and signal bars, coin-flip direction. * < 100 trades: the fold's trading figures "
        "do not count. Accuracy is not shown on purpose (imbalanced classes).", style="dim")
    for line in denial_lines(out.results):
        say("risk rules, " + line, style="dim")
    for n in out.notes:
        say("note: " + n)
    hz = horizon_sentence(out.summary.horizon, out.summary.min_confidence,
                          out.summary.floor_label)
    if hz:
        say(hz)
    say("final: " + holdout_sentence(out.summary))
    for c in out.summary.caveats:
        say("caveat: " + c)
    style = "bold green" if out.summary.edge else "bold red"
    verdict = Text(wrap_message("VERDICT: " + out.summary.verdict,
                                console.width if console.is_terminal else None), style=style)
    verdict.stylize("bold default", 0, len("VERDICT:"))
    console.print(verdict, soft_wrap=True)


def train(
    ctx: typer.Context,
    data: Annotated[str | None, typer.Option(
        "--data", "-d", help="Bar file or directory (Parquet/CSV/DBN/TopstepX JSON), or a catalog "
        "symbol such as MES (see --bar).")] = None,
    synthetic: Annotated[int | None, typer.Option(
        "--synthetic", min=1, max=1_000, help="Train on N trading days of synthetic MES 1-s RTH bars instead "
        "(pure noise unless --planted: a quick check that the pipeline says 'no edge').")] = None,
    planted: Annotated[bool, typer.Option(help="With --synthetic: plant a weak pattern.")] = False,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Profile name or TOML (costs, bracket, label, min confidence).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "lightgbm",
    features: Annotated[str | None, typer.Option(
        "--features", metavar="LIST", help="Fit on these columns only: comma-separated feature "
        "names and/or groups (price_action, microstructure, indicators, time, multi_timeframe, "
        "regime) — your hypothesis, e.g. ret_1m,bar_dir,volume_rel_1h. Default: every feature "
        "of the set. A sparse trigger drowns among 49 columns; each list tried counts as a "
        "trial.")] = None,
    label: Annotated[str | None, typer.Option(
        help="direction (DOWN/FLAT/UP), binary (DOWN/UP) or triple_barrier (the profile's "
        "bracket). Default: the profile's label.kind.")] = None,
    lookahead: Annotated[int | None, typer.Option(min=1, max=86_400, help="Label lookahead in seconds (default: profile).")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1_000.0, help="Label threshold in ticks (default: profile).")] = None,
    threshold_pct: Annotated[float | None, typer.Option(
        "--threshold-pct", min=0.0001, max=100.0, help="Label threshold in percent of the close, e.g. 0.75 (crypto; "
        "default: the profile's label.threshold_pct).")] = None,
    folds: Annotated[int, typer.Option(min=1, max=50, help="Walk-forward folds (sized by row count), plus a final holdout.")] = 4,
    train_days: Annotated[float | None, typer.Option(min=0.01, help="Explicit train length in days (with --val-days, --test-days).")] = None,
    val_days: Annotated[float | None, typer.Option(min=0.01, help="Validation length in days (early stopping + calibration).")] = None,
    test_days: Annotated[float | None, typer.Option(min=0.01, help="Test length (and step) in days.")] = None,
    holdout_days: Annotated[float | None, typer.Option(min=0.01, help="Final holdout in days (default: 15 % of the data).")] = None,
    mode: Annotated[str, typer.Option(help="expanding (train from the start) or rolling (fixed length).")] = "expanding",
    embargo: Annotated[float, typer.Option(min=0.0, help="Extra gap in seconds after each purged boundary.")] = 0.0,
    bar: Annotated[str | None, typer.Option(
        "--bar", metavar=BAR_CHOICES, help="Bar size of catalog data. Default: the only size the "
        "catalog holds (with --update: the model's); a file's own size is always used.")] = None,
    bar_seconds: Annotated[int | None, typer.Option(
        "--bar-seconds", hidden=True, help="Old spelling of --bar (seconds).")] = None,
    symbol: Annotated[str | None, typer.Option(help="Instrument root when the files hold several.")] = None,
    name: Annotated[str | None, typer.Option(help="Save as models/NAME (default ROOT_MODEL_LABEL).")] = None,
    models_dir: Annotated[Path | None, typer.Option(help="Where models live (default models/).")] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Report only; save no model.")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write an HTML training report here (fold table, calibration, "
        "expectancy by confidence decile, feature importance, verdict).")] = None,
    min_confidence: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Trade only above this calibrated confidence (default: profile).")] = None,
    auto_floor: Annotated[bool, typer.Option(
        "--auto-floor", help="Choose each fold's confidence floor on its validation bars: the "
        "top share (1-20 %) of UP/DOWN predictions that paid most after costs there, none if no "
        "share paid. The saved model keeps its floor; backtest applies it. For sparse edges.")] = False,
    epochs: Annotated[int | None, typer.Option(min=1, max=10_000, help="Nets: max epochs (early stopping, patience 10).")] = None,
    window: Annotated[int | None, typer.Option(min=1, max=100_000, help="Sequence nets: bars per input window.")] = None,
    device: Annotated[str, typer.Option(help="cpu, or cuda (error if no GPU).")] = "cpu",
    threads: Annotated[int, typer.Option(min=1, max=256, help="Threads per fold (results are deterministic per value).")] = 1,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed for models, baselines and synthetic data.")] = 7,
    workers: Annotated[int | None, typer.Option(min=1, max=1_024, help="Run folds on a local Dask cluster of N processes.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Run folds on an existing Dask scheduler tcp://host:port.")] = None,
    update: Annotated[str | None, typer.Option(
        help="Continue models/NAME on the newest data; replace it only if the newest period is "
        "not worse.")] = None,
    shuffle_labels: Annotated[bool, typer.Option(help="Sanity check: shuffle training labels (must destroy performance).")] = False,
) -> None:
    """Train a model with purged walk-forward validation and print an honest verdict.

    Examples:

    \b
      scalpdesk train --synthetic 5            # noise: must say "no edge"
      scalpdesk train --data MES --name mes_lgbm --report train.html
      scalpdesk train --data mes_1m.parquet --label binary --lookahead 300
      scalpdesk train --data MES --bar 1s --folds 6 --workers 2
      scalpdesk train --data vb.parquet --label binary --threshold 0 --lookahead 300 --auto-floor
      scalpdesk train --data vb.parquet --label binary --threshold 0 --lookahead 300 \\
          --auto-floor --features ret_1m,bar_dir,volume_rel_1h
    """
    from core.clock import LiveClock
    from core.ml.base import MODEL_KINDS
    from core.training.data_source import load_bars, synthetic_bars

    if model not in MODEL_KINDS:
        raise fail(f"--model {model!r} is unknown", f"use one of {', '.join(MODEL_KINDS)}")
    if threshold is not None and threshold_pct is not None:
        raise fail("give --threshold (ticks) or --threshold-pct (percent), not both")
    if (data is None) == (synthetic is None):
        raise fail("give exactly one of --data PATH|SYMBOL or --synthetic DAYS",
                   "e.g. --data bars.parquet, --data MES, or --synthetic 5")
    if auto_floor and min_confidence is not None:
        raise fail("give --min-confidence (a fixed floor) or --auto-floor (chosen on validation), "
                   "not both", "drop one of them")
    from core.features.selection import parse_feature_list
    chosen = parse_feature_list(features)
    if features is not None and chosen is None:
        raise fail("--features is empty", "e.g. --features ret_1m,bar_dir,volume_rel_1h")
    if chosen and update:
        raise fail("--update keeps the model's own features; --features chooses new ones",
                   "drop --features, or train a new model with --name")
    if auto_floor and update:
        raise fail("--update keeps the model's own floor; --auto-floor chooses a new one",
                   "drop --auto-floor, or train a new model with --name")
    prof = _profile(ctx, profile)
    bar = bar_from_seconds(bar, bar_seconds)
    if report is not None:
        check_output_path(report, (".html", ".htm"), "--report")
        if update:
            raise fail("--report describes a training run; --update compares two models",
                       "drop --report, or train with --name instead of --update")
    model_bar = None
    if update:
        from core.ml.artifacts import model_bar_seconds
        model_bar = run_cli(lambda: model_bar_seconds(models_dir / update if models_dir else update))
    with progress_task("reading bars", total=1.0) as adv:
        if synthetic is not None:
            frame, bar_s, source = run_cli(lambda: synthetic_bars(synthetic, seed=seed, planted=planted))
        else:
            frame, bar_s, source = run_cli(lambda: load_bars(
                data, bar=bar, symbol=symbol, progress=adv, model_bar=model_bar,
                model_name=update))
    console.print(f"data: {source}: {len(frame):,} bars of {bar_s} s")
    created = LiveClock().now().isoformat(timespec="seconds")
    if update:
        _run_update(update, models_dir, frame, bar_s, prof, min_confidence, seed, threads,
                    created, source)
        return
    from core.training.pipeline import TrainRequest, train as run_train

    params: dict[str, Any] = {}
    if epochs is not None:
        params["epochs"] = epochs
    if window is not None:
        params["window"] = window
    req = TrainRequest(profile=prof, model_kind=model, label_kind=label, lookahead_seconds=lookahead,
                       threshold_ticks=threshold, threshold_pct=threshold_pct, folds=folds,
                       train_days=train_days,
                       val_days=val_days, test_days=test_days, holdout_days=holdout_days,
                       embargo_seconds=embargo, mode=mode, model_params=params, seed=seed,
                       num_threads=threads, device=device, min_confidence=min_confidence,
                       shuffle_labels=shuffle_labels, workers=workers, cluster=cluster,
                       auto_floor=auto_floor, features=chosen)
    # Every configuration tried on this data is a trial (issue 11): the verdict counts them.
    from core.backtest.ledger import append_trial, data_key, read_trials, trials_line
    key = data_key(frame)
    req.n_trials = len(read_trials(data_hash=key)) + 1
    root = str(frame["symbol"].iloc[0]) if len(frame) else prof.instrument
    from core.domain import root_of
    save_as = None if no_save else (name or f"{root_of(root)}_{model}_{label or prof.label.kind}")
    with progress_task(f"training {model} ({folds} folds + holdout)", total=1.0) as adv:
        last = [0.0]

        def progress(frac: float) -> None:
            adv(frac - last[0])
            last[0] = frac

        out = run_cli(lambda: run_train(frame, bar_s, req, name=save_as, models_dir=models_dir,
                                        created=created, progress=progress, data_source=source))
    append_trial({"kind": "train", "data_hash": key, "model": model, "label": label,
                  "lookahead": lookahead, "threshold": threshold, "threshold_pct": threshold_pct,
                  "min_confidence": "auto" if auto_floor else min_confidence,
                  "features": ",".join(chosen) if chosen else None,
                  "profile": prof.name, "seed": seed, "saved": out.path is not None, "trades": out.summary.trades,
                  "verdict": out.summary.verdict.split(":")[0], "sharpe_per_period": None})
    print_outcome(out)
    say(trials_line(key))
    if out.path:
        say(f"saved model, calibration, scaler and model card to {out.path}")
    if report is not None:
        path = run_cli(lambda: _write_report(report, out, source, model, prof, req))
        say(f"training report written: {path}")


def _write_report(path: Path, out: Any, source: str, model: str, prof: Any, req: Any) -> Path:
    """The HTML training report, costed like the profile's trades."""
    from core.domain import get_instrument
    from core.training.html_report import write_training_report

    inst = get_instrument(prof.instrument)
    cost = prof.costs.commission_round_trip + 2 * prof.costs.slippage_ticks * inst.tick_value
    floor = req.min_confidence if req.min_confidence is not None else prof.risk.min_confidence
    final = next((r for r in out.results if r.is_holdout), None)
    if req.auto_floor and final is not None:
        floor = final.floor   # the saved model's own, chosen on its validation bars
    return write_training_report(
        path, out, title=f"training · {model} · {source}", source=source, model_kind=model,
        min_confidence=float(floor), tick_value=float(inst.tick_value), cost_per_contract=cost)


def _run_update(name: str, models_dir: Path | None, frame: Any, bar_s: int, prof: Any,
                min_confidence: float | None, seed: int, threads: int, created: str,
                source: str) -> None:
    from core.ml.artifacts import default_models_dir
    from core.training.update import update_model

    path = (models_dir or default_models_dir()) / name
    with progress_task(f"updating {name}", total=None):
        out = run_cli(lambda: update_model(
            path, frame, bar_s, profile=prof,
            min_confidence=min_confidence, seed=seed, num_threads=threads, created=created,
            source=source))
    from core.backtest.ledger import append_trial, data_key, trials_line
    key = data_key(frame)  # an update fits a candidate on this data: one more trial on it
    append_trial({"kind": "train", "data_hash": key, "update": name, "profile": prof.name,
                  "min_confidence": min_confidence, "seed": seed, "saved": out.replaced,
                  "sharpe_per_period": None})
    print_fold_table([out.candidate], title="candidate on the newest period")
    style = "green" if out.replaced else "yellow"
    console.print(Text(out.message, style=style))
    say(trials_line(key))
