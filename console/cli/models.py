"""`scalpdesk models …`: list and inspect trained models (models/NAME/)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from console.cli.common import console, fail, run_cli, say
from core.money import money

app = typer.Typer(help="List and inspect trained models.", no_args_is_help=True)

DirOpt = Annotated[Path | None, typer.Option(
    "--models-dir", help="Where models live (default models/, or $SCALPDESK_MODELS).")]


def _dir(models_dir: Path | None) -> Path:
    from core.ml.artifacts import default_models_dir
    return models_dir or default_models_dir()


@app.command("list")
def list_cmd(models_dir: DirOpt = None) -> None:
    """One line per model: kind, instrument, bar size, when, and its verdict.

    Example:

    \b
      scalpdesk models list
    """
    from core.ml.artifacts import list_artifacts

    rows = run_cli(lambda: list_artifacts(_dir(models_dir)))
    if not rows:
        console.print(f"no models in {_dir(models_dir)} — train one with "
                      "`scalpdesk train --synthetic 5` or `scalpdesk train --data FILE`")
        return
    say(f"models in {_dir(models_dir)} (the full verdict: scalpdesk models show NAME)",
        style="italic")
    t = Table(header_style="bold", box=None, padding=(0, 1), pad_edge=False,
              collapse_padding=True)
    for col in ("name", "kind", "instrument", "bar", "label", "created (UTC)"):
        # Key columns are never cut or split (a timestamp broken over two lines misreads).
        t.add_column(col, no_wrap=True, overflow="ignore" if col != "name" else "fold")
    t.add_column("verdict", overflow="fold", ratio=1)
    for r in rows:
        if "error" in r:
            t.add_row(r["name"], "-", "-", "-", "-", "-",
                      Text("unreadable: " + r["error"], style="red"))
            continue
        # The verdict's label ("no edge after costs"); its numbers are in `models show`.
        verdict = Text((r.get("verdict") or "").split(":")[0],
                       style="green" if r.get("edge") else "red")
        t.add_row(r["name"], str(r.get("kind")), str(r.get("instrument")),
                  _bar(r.get("bar_seconds")), str(r.get("label")), _created(r.get("created")),
                  verdict)
    console.print(t)


def _bar(seconds: Any) -> str:
    from core.datasets.bars import bar_name
    return bar_name(int(seconds)) if isinstance(seconds, (int, float)) and seconds else "-"


def _created(text: Any) -> str:
    """``2026-12-03T19:25:39+00:00`` → ``2026-12-03 19:25`` (one column, never split)."""
    import pandas as pd
    try:
        return pd.Timestamp(str(text)).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(text or "-")


def _f(x: Any, fmt: str = "{:.3f}") -> str:
    return fmt.format(x) if isinstance(x, (int, float)) and math.isfinite(x) else "-"


@app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="Model name (a directory under models/).")],
             models_dir: DirOpt = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print the raw model card.")] = False) -> None:
    """The model card: data span and hash, features, label, parameters, folds, verdict.

    Examples:

    \b
      scalpdesk models show mes_lgbm
      scalpdesk models show mes_lgbm --json > card.json
    """
    import pandas as pd

    from core.ml.base import read_json

    path = _dir(models_dir) / name
    if not (path / "model_card.json").is_file():
        raise fail(f"no model {name!r} in {_dir(models_dir)}", "list them with `scalpdesk models list`")
    card = run_cli(lambda: read_json(path / "model_card.json"))
    if as_json:
        console.print_json(json.dumps(card))
        return
    d = card.get("data", {})

    def ts(ns: Any, zone: str = " UTC") -> str:
        return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M") + zone if ns else "-"

    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold")
    info.add_column(overflow="fold")
    m = card.get("model", {})
    lab = card.get("label", {})
    feats = card.get("features", {})
    for k, v in (
        ("model", f"{m.get('kind')} (seed {m.get('seed')}, {m.get('num_threads')} thread(s), "
                  f"calibration {m.get('calibration')}, best iteration {m.get('best_iteration')})"),
        ("created", str(card.get("created"))),
        ("data", f"{d.get('instrument')} {d.get('bar_seconds')} s bars, {d.get('rows', 0):,} rows "
                 f"({d.get('valid_rows', 0):,} usable), {ts(d.get('start_ns'))} → {ts(d.get('end_ns'))}"),
        ("source", f"{d.get('source')}  hash {d.get('data_hash')}"),
        ("features", f"{len(feats.get('names', []))} of set {feats.get('set')!r} "
                     f"(version {feats.get('set_version')})"),
        ("label", ", ".join(f"{k}={v}" for k, v in lab.items() if v is not None)),
        ("params", json.dumps(m.get("params") or {})),
        ("code", f"{card.get('code_revision')}  " + " ".join(
            f"{k} {v}" for k, v in (card.get("libraries") or {}).items())),
    ):
        info.add_row(k, Text(str(v)))
    console.print(info)
    say("folds (out of sample)", style="italic")
    t = Table(header_style="bold", box=None, padding=(0, 1), pad_edge=False,
              collapse_padding=True)
    for col in ("fold", "test from (UTC)", "rows", "AUC dir", "bal.acc", "logloss/prior",
                "trades", "$/trade"):
        t.add_column(col, justify="left" if col in ("fold", "test from (UTC)") else "right",
                     no_wrap=True, overflow="ignore")
    for f in card.get("folds", []):
        te, tr = f.get("test", {}), f.get("trading") or {}
        t.add_row("holdout" if f.get("holdout") else str(f.get("fold")),
                  ts(f.get("spans", {}).get("test_start"), ""), f"{f.get('rows', {}).get('test', 0):,}",
                  _f(te.get("auc")), _f(te.get("balanced_accuracy")),
                  f"{_f(te.get('log_loss'))}/{_f(te.get('log_loss_prior'))}",
                  str(tr.get("trades", "-")), money(tr.get("expectancy"), signed=True))
    console.print(t)
    for n in card.get("notes", []):
        say("note: " + n)
    for u in card.get("updates", []):
        console.print(Text(f"update {u.get('created')}: log loss {_f(u.get('old_log_loss'), '{:.4f}')}"
                           f" → {_f(u.get('new_log_loss'), '{:.4f}')}"))
    edge = (card.get("summary") or {}).get("edge")
    console.print(Text.assemble(("VERDICT: ", "bold"),
                                (card.get("verdict", "-"), "bold green" if edge else "bold red")))
