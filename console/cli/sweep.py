"""`scalpdesk sweep`: many walk-forward backtests on Dask, and how far to trust the best one.

Registered as a plain command (``app.command("sweep")(sweep.sweep)`` in app.py). Ctrl-C
stops cleanly: trials in flight are dropped, every finished one is already in the ledger,
and ``--resume`` continues; a second Ctrl-C aborts at once (the ledger stays whole).
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from console.cli.common import console, err_console, fail, make_progress, run_cli, say
from core.datasets.bars import BAR_CHOICES


def _settings(space: Any, manifest: dict[str, Any] | None, **cli: Any) -> Any:
    """Command line > resumed manifest > the space's [sweep] table > defaults."""
    from core.sweep.context import SweepSettings

    base = dict((manifest or {}).get("identity") or {})
    if manifest:
        base["trials"] = manifest.get("trials", SweepSettings.trials)
    merged: dict[str, Any] = {}
    for key in SweepSettings.__dataclass_fields__:
        for layer in (cli, base, space.settings):
            value = layer.get("strategy" if layer is space.settings and key == "source" else key)
            if value is not None:
                merged[key] = value
                break
    if "source" not in merged:
        raise fail("choose the signals: --strategy sma-cross|random, --model NAME or --retrain",
                   "or set strategy = \"sma-cross\" in the space's [sweep] table")
    return SweepSettings(**merged)


def _print_outcome(out: Any) -> None:
    from rich.table import Table

    a = out.analysis
    say(a.verdict.text())
    test_of = {t.number: t for t in a.tests}
    tab = Table(title="best trials: validation (chosen here), held-out test (scored once, after)",
                header_style="bold", box=None, title_justify="left")
    for col in ("#", "objective", "val n", "val net $", "val SR/d", "test n", "test net $",
                "test SR/d"):
        tab.add_column(col, justify="right", no_wrap=True, overflow="ignore")

    def f(x: Any, fmt: str = "{:,.2f}") -> str:
        return fmt.format(x) if isinstance(x, (int, float)) and math.isfinite(x) else "-"

    for r in a.top:
        t = test_of.get(r.number)
        tm = t.metrics if t is not None and t.status == "ok" else {}
        tab.add_row(f"#{r.number}", f(r.objective, "{:.3f}"), f(r.metrics["trades"], "{:,}"),
                    f(r.metrics["net_pnl"]), f(r.metrics["sharpe"], "{:.3f}"),
                    f(tm.get("trades", math.nan), "{:,}"), f(tm.get("net_pnl", math.nan)),
                    f(tm.get("sharpe", math.nan), "{:.3f}"))
    if a.top:
        console.print(tab)
        console.print("best parameters: " + ", ".join(f"{k} = {v}" for k, v in a.best.params.items()),
                      highlight=False)
    for note in out.notes:
        say(f"note: {note}")
    if out.errors:
        say(f"warning: {len(out.errors)} trial(s) failed, e.g. #{out.errors[0].number}: "
            f"{out.errors[0].message} (rerun with --resume to retry them)")
    c = a.counts
    console.print(f"{c['trials']:,} trials ({c['ok']:,} completed, {c['invalid']:,} refused as "
                  f"invalid combinations) in {out.seconds:,.1f} s on {out.workers} worker(s) "
                  f"({out.pool})", highlight=False)
    for key in ("trials", "test", "summary", "report"):
        if key in out.paths:
            console.print(f"{key:>8}: {out.paths[key]}", highlight=False)


class _CtrlC:
    """First Ctrl-C: stop after the trials in flight; second: abort now."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._old: Any = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        err_console.print("stopping: dropping trials in flight, keeping every finished one "
                          "(Ctrl-C again to abort now)")

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def sweep(
    ctx: typer.Context,
    data: Annotated[str | None, typer.Option(
        "--data", "-d", help="Bar file or directory, or a catalog symbol such as MES "
        "(default with --resume: the sweep's own).")] = None,
    space: Annotated[str | None, typer.Option(
        "--space", "-s", help="Space TOML (format: profiles/sweeps/sweep_example.toml; "
        "'sweep_example' finds that file). Default with --resume: the sweep's own copy.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Sweep directory: ledger, Parquet results, report (required).")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Base profile (default: demo; with --resume: the sweep's).")] = None,
    method: Annotated[str | None, typer.Option(
        help="grid (every point), random (seeded draws) or optuna (TPE). Default: the space's, "
        "else random.")] = None,
    trials: Annotated[int | None, typer.Option(
        help="How many trials (random/optuna); a grid runs every point and needs at least "
        "that many. With --resume a larger number extends the sweep.", min=1)] = None,
    folds: Annotated[int | None, typer.Option(help="Validation folds (default 6).", min=1,
                                              max=50)] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the search and the trials.",
                                             min=0)] = None,
    strategy: Annotated[str | None, typer.Option(
        help="Built-in signals: sma-cross (knobs signal.fast, signal.slow) or random "
        "(signal.rate).")] = None,
    model: Annotated[str | None, typer.Option(
        help="A saved model's signals (its training bars get none).")] = None,
    retrain: Annotated[bool, typer.Option(
        "--retrain", help="Refit the model on every fold (model.* parameters can be swept).")] = False,
    model_kind: Annotated[str | None, typer.Option(help="Learner for --retrain.")] = None,
    bar: Annotated[str | None, typer.Option("--bar", metavar=BAR_CHOICES,
                                            help="Bar size of catalog data.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="LocalCluster worker processes (default: one per core; 0 = run in this process).",
        min=0)] = None,
    cluster: Annotated[str | None, typer.Option(
        help="Join an existing Dask scheduler instead, e.g. tcp://10.0.0.5:8786.")] = None,
    storage: Annotated[str | None, typer.Option(
        help="Optuna storage URL (default sqlite in --out; postgresql://user@host/db lets "
        "several machines share one study).")] = None,
    study: Annotated[str | None, typer.Option(help="Optuna study name (to share one).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue the interrupted sweep in --out (same data, space, profile "
        "and settings).")] = False,
    report: Annotated[Path | None, typer.Option(
        help="HTML report path (default OUT/report.html).")] = None,
) -> None:
    """Tune parameters over walk-forward folds; report PBO, deflated Sharpe, stability and a
    held-out test, and say whether the best parameters can be trusted.

    Examples:

    \b
      scalpdesk sweep --data mes_1m.parquet --space sweep_example --strategy sma-cross --out sw1
      scalpdesk sweep --data MES --bar 1m --space my.toml --method optuna --trials 300 --out sw2
      scalpdesk sweep --data MES --space my.toml --retrain --folds 4 --cluster tcp://10.0.0.5:8786 --out sw3
      scalpdesk sweep --out sw1 --resume            # after Ctrl-C, a crash or a lost worker
    """
    if out is None:
        raise fail("--out DIR is required (the sweep's ledger, results and report go there)",
                   "e.g. --out sweeps/stop_target")
    sources = [x for x in (strategy, model, "retrain" if retrain else None) if x]
    if len(sources) > 1:
        raise fail("choose one of --strategy, --model and --retrain")
    if strategy is not None and strategy not in ("sma-cross", "random"):
        raise fail(f"--strategy {strategy!r} is unknown", "use sma-cross or random")
    if method is not None and method not in ("grid", "random", "optuna"):
        raise fail(f"--method {method!r} is unknown", "use grid, random or optuna")
    root_profile = getattr(ctx.obj, "profile", None) if ctx.obj is not None else None

    def prepare() -> Any:
        import tomllib

        from core.config import load_profile, profile_from_dict
        from core.sweep.session import SweepRequest
        from core.sweep.space import load_space, parse_space
        from core.sweep.store import SweepStore
        from core.training.data_source import load_bars

        store = SweepStore(out)
        manifest = store.read_manifest() if resume and store.exists() else None
        if resume and manifest is None:
            store.read_manifest()  # the clear "no sweep to resume here" error
        if space is not None:
            sp = load_space(space)
            text = Path(sp.source).read_text(encoding="utf-8")
        elif manifest is not None:
            text = manifest["space_text"]
            sp = parse_space(tomllib.loads(text), source=manifest.get("space_source", "space"))
        else:
            raise fail("--space FILE is required", "start from profiles/sweeps/sweep_example.toml")
        if profile or root_profile or manifest is None:
            prof = load_profile(profile or (str(root_profile) if root_profile else "demo"))
        else:
            prof = profile_from_dict(manifest["profile"], source=f"{out}/manifest.json")
        src = data or (manifest or {}).get("data_source")
        if not src:
            raise fail("--data is required", "a bar file, a directory, or a catalog symbol")
        frame, bar_s, desc = load_bars(src, bar=bar)
        if Path(src).exists():  # remembered for --resume from any directory
            src = str(Path(src).resolve())
        source = "retrain" if retrain else ("model" if model else strategy)
        st = _settings(sp, manifest, method=method, trials=trials, folds=folds, seed=seed,
                       source=source, model=model, model_kind=model_kind)
        console.print(f"data: {desc}: {len(frame):,} bars of {bar_s} s · profile {prof.name} · "
                      f"{st.method}, {st.trials} trials × {st.folds} folds · signals {st.source}",
                      highlight=False)
        return SweepRequest(bars=frame, bar_seconds=float(bar_s), profile=prof, space=sp,
                            settings=st, out=out, data_source=src, space_text=text,
                            resume=resume, workers=workers, cluster=cluster, storage=storage,
                            study=study, report=report)

    req = run_cli(prepare)
    from core.sweep.session import run_sweep

    with make_progress(transient=True) as prog, _CtrlC() as ctrl_c:
        task = prog.add_task("trials", total=None)
        last = [-1]

        def progress(p: Any) -> None:
            best = f" · best {p.best:.3f}" if p.best is not None else ""
            desc = "held-out test" if p.phase == "test" else f"trials{best}"
            prog.update(task, completed=p.done, total=p.total, description=desc)
            step = max(1, p.total // 10)
            if not sys.stderr.isatty() and p.phase == "trials" and p.done // step != last[0]:
                last[0] = p.done // step
                eta = f", ETA {p.eta_s:,.0f} s" if p.eta_s is not None else ""
                err_console.print(f"trials {p.done:,}/{p.total:,}{best}{eta}", highlight=False)

        outcome = run_cli(lambda: run_sweep(req, progress=progress,
                                            should_stop=ctrl_c.event.is_set))
    if outcome.cancelled:
        n = len(outcome.results)
        say(f"cancelled: {n:,} finished trial(s) are in {outcome.paths['ledger']} "
            f"(consistent; nothing half-written)", stderr=True)
        say(f"  resume: scalpdesk sweep --out {out} --resume", stderr=True)
        raise typer.Exit(130)
    _print_outcome(outcome)
