"""`scalpdesk data …`: import, validate, inspect, resample and synthesise market data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import console, err_console, fail, progress_task, run_cli, say
from console.cli.data_synth import synth_crypto as _synth_crypto
from console.cli.data_synth import synth_pattern as _synth_pattern

app = typer.Typer(
    help=(
        "Import, validate, inspect, resample and synthesise market data.\n\n"
        "Typical flow: `scalpdesk data validate FILE` → `scalpdesk data import FILE` → "
        "`scalpdesk data info` → `scalpdesk data resample MES --to 1m`."
    ),
    no_args_is_help=True,
)

FORMATS = ("auto", "parquet", "csv", "dbn", "topstepx", "binance")
CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="Catalog directory (default: data/catalog, or $SCALPDESK_DATA).")]


def _parse_columns(spec: str | None) -> dict[str, str] | None:
    """Turn ``timestamp=Time,volume=Vol`` into a mapping (canonical name → file column)."""
    if not spec:
        return None
    out: dict[str, str] = {}
    for part in spec.split(","):
        if "=" not in part:
            raise fail(f"--columns: {part!r} is not NAME=COLUMN",
                       "e.g. --columns timestamp=Time,volume=Vol")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _read_all(paths: list[Path], fmt: str, symbol: str | None, tz: str | None,
              columns: dict[str, str] | None) -> list:
    from core.datasets.readers import read_bars

    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    results = []
    with progress_task("reading", total=len(paths)) as advance:
        for p in paths:
            results.extend(run_cli(lambda p=p: read_bars(p, format=fmt, symbol=symbol, tz=tz,
                                                         columns=columns)))
            advance(1)
    from core.datasets.readers import merge_klines   # overlapping daily/monthly Binance files
    return merge_klines(results)


def _report_lines(source: str, lines: list[str]) -> list[str]:
    """Report lines without the file name: the header above them already names it once."""
    return [line.replace(f"{source}: ", "", 1) for line in lines]


def _print_report(result, report) -> None:  # noqa: ANN001 - core types, imported lazily
    status = "ok" if report.ok else "FAILED"
    say(f"{status} {result.source} [{result.root}, {result.format}, "
        f"{_bar_name(result.bar_seconds)}]", style=None)
    for line in _report_lines(result.source, report.summary_lines()):
        say(f"    {line}")
    for note in result.notes:
        say(f"    note: {note}")


def _waiting(message: str) -> None:
    """Say why a write pauses (another process holds the catalog's write lock)."""
    say(f"note: {message}", stderr=True)


def _bar_name(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _validate_all(results: list, check_gaps: bool = True) -> list:
    from core.datasets.validate import validate

    reports = []
    with progress_task("validating", total=len(results)) as advance:
        for r in results:
            reports.append(run_cli(lambda r=r: validate(
                r.frame, source=r.source, bar_seconds=r.bar_seconds, row_offset=r.row_offset,
                check_gaps=check_gaps)))
            advance(1)
    return reports


@app.command("validate")
def validate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to check.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "auto",
    symbol: Annotated[str | None, typer.Option(help="Symbol when the file has none (e.g. MES).")] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of naive timestamps (CSV default America/New_York).")] = None,
    columns: Annotated[str | None, typer.Option(help="Column mapping, e.g. timestamp=Time,volume=Vol.")] = None,
) -> None:
    """Check files against the data rules without importing them.

    Reports OHLC violations, unsorted or duplicate timestamps, NaN, off-tick prices and
    negative volume as errors (exit code 2) and gaps in trading hours, contract rolls, price
    jumps anywhere in a session (with their time) and several contracts trading at the same
    times (each judged on its own rows; import them with --by-contract) as warnings. Every
    error names the file, the first bad row and the fix.

    Examples:

    \b
      scalpdesk data validate mes_1m.csv
      scalpdesk data validate bars/ --tz America/Chicago --symbol MES
    """
    results = _read_all(paths, fmt, symbol, tz, _parse_columns(columns))
    reports = _validate_all(results)
    for r, rep in zip(results, reports):
        _print_report(r, rep)
    if not all(rep.ok for rep in reports):
        raise typer.Exit(2)


@app.command("import")
def import_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (Parquet, CSV/TXT, DBN, TopstepX JSON, Binance kline .zip/.csv).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "auto",
    symbol: Annotated[str | None, typer.Option(help="Symbol when the file has none (e.g. MES).")] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of naive timestamps (CSV default America/New_York).")] = None,
    columns: Annotated[str | None, typer.Option(help="Column mapping, e.g. timestamp=Time,volume=Vol.")] = None,
    catalog: CatalogOpt = None,
    by_contract: Annotated[bool, typer.Option(
        "--by-contract", help=("Split files holding several contracts into one series per "
                               "contract, each stored under its contract code (ESH4, ESM4 …; "
                               "use it as --data ESH4)."))] = False,
) -> None:
    """Validate files and add them to the catalog (Parquet by symbol and year/month).

    Nothing is written unless every file passes validation. Re-importing overlapping data is
    safe: identical rows are skipped, conflicting rows are reported and the stored data kept.
    Gaps between the stored and the new data are reported so you can backfill them. A file
    whose contracts trade at the same times (every listed month of a DBN download) cannot be
    one series: import it with --by-contract.

    Examples:

    \b
      scalpdesk data import mes_1m.csv
      scalpdesk data import mes_1s_2024.parquet --catalog /data/catalog
      scalpdesk data import es_all_months.dbn --by-contract
    """
    from core.datasets.catalog import Catalog

    results = _read_all(paths, fmt, symbol, tz, _parse_columns(columns))
    reports = _validate_all(results)
    bad = [(r, rep) for r, rep in zip(results, reports) if not rep.ok]
    if bad:
        for r, rep in bad:
            _print_report(r, rep)
        err_console.print(f"[red]nothing imported:[/] {len(bad)} of {len(results)} inputs failed validation")
        raise typer.Exit(2)
    if by_contract:
        results = _split_by_contract(results)
        reports = _validate_all(results)  # each contract's own warnings (gaps, jumps)
    else:
        _refuse_mixed_contracts(results, reports)
    cat = Catalog(catalog, on_wait=_waiting)
    for r, rep in zip(results, reports):
        with progress_task(f"importing {Path(r.source).name}", total=None) as advance:
            out = run_cli(lambda r=r: cat.append(r.frame, root=r.root, bar_seconds=r.bar_seconds,
                                                 source=r.source, progress=advance))
        say(f"imported {r.source} → {r.root} {_bar_name(r.bar_seconds)}: "
            f"{out.rows_added:,} new rows, {out.duplicates_skipped:,} duplicates skipped, "
            f"{len(out.conflicts):,} conflicts, {len(out.gaps):,} gaps to backfill, "
            f"{out.partitions_written} partitions written")
        for line in _report_lines(r.source, rep.summary_lines()):
            if line.lstrip().startswith("warning"):
                say(f"    {line}")
        for note in r.notes:
            say(f"    note: {note}")
        if out.conflicts:
            console.print("    [yellow]conflicting rows kept as stored[/] (first examples): "
                          f"{list(out.conflicts[:3])}", highlight=False)


def _split_by_contract(results: list) -> list:
    """``--by-contract``: one read result per contract, its root the contract code."""
    from dataclasses import replace

    import pandas as pd

    out_r = []
    for r in results:
        sym = r.frame["symbol"].astype(str)
        names = list(dict.fromkeys(sym))
        if len(names) < 2:
            out_r.append(r)
            continue
        for name in names:
            part = r.frame[(sym == name).to_numpy()].sort_values("timestamp", kind="stable")
            part = part.reset_index(drop=True)
            part["symbol"] = pd.Categorical([name] * len(part))
            out_r.append(replace(r, frame=part, root=name.upper()))
    return out_r


def _refuse_mixed_contracts(results: list, reports: list) -> None:
    """Contracts trading at the same times cannot be one catalog series: say how to split."""
    mixed = [(r, rep) for r, rep in zip(results, reports)
             if any(i.code == "contracts" for i in rep.issues)]
    if not mixed:
        return
    for r, rep in mixed:
        _print_report(r, rep)
    names = ", ".join(r.source for r, _ in mixed)
    verb = "holds" if len(mixed) == 1 else "hold"
    raise fail(f"nothing imported: {names} {verb} several contracts trading at the same times, "
               "which one series cannot hold",
               f"scalpdesk data import {' '.join(r.source for r, _ in mixed)} --by-contract "
               "(one series per contract), or keep one contract per time")


@app.command("info")
def info_cmd(catalog: CatalogOpt = None) -> None:
    """Show what the catalog holds: symbol, bar size, rows, span, contracts, size on disk.

    Example:

    \b
      scalpdesk data info
    """
    import pandas as pd
    from rich.table import Table

    from core.datasets.catalog import Catalog

    entries = run_cli(lambda: Catalog(catalog).entries())
    if not entries:
        console.print("the catalog is empty — add data with `scalpdesk data import FILE` "
                      "or try `scalpdesk data synth --days 5`")
        return
    table = Table(header_style="bold", box=None, padding=(0, 1), pad_edge=False,
              collapse_padding=True)
    for col in ("symbol", "bar", "rows", "first (UTC)", "last (UTC)", "contracts", "months", "MB"):
        # Only the contract list may wrap; symbols, sizes and times are never cut or split.
        table.add_column(col, no_wrap=col != "contracts", overflow="fold" if col == "contracts"
                         else "ignore", justify="right" if col in ("rows", "months", "MB") else "left")
    for e in entries:
        first = pd.Timestamp(e.first_ns, tz="UTC").strftime("%Y-%m-%d %H:%M") if e.first_ns is not None else "-"
        last = pd.Timestamp(e.last_ns, tz="UTC").strftime("%Y-%m-%d %H:%M") if e.last_ns is not None else "-"
        contracts = ", ".join(e.contracts[:6]) + (" …" if len(e.contracts) > 6 else "")
        table.add_row(e.root, _bar_name(e.bar_seconds), f"{e.rows:,}", first, last, contracts,
                      str(e.partitions), f"{e.bytes / 1e6:.1f}")
    console.print(table)


_RULES = {"5s": 5, "15s": 15, "30s": 30, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600}


@app.command("resample")
def resample_cmd(
    source: Annotated[str, typer.Argument(
        metavar="SOURCE", help="A catalog symbol (MES) or a bar file (Parquet/CSV/…).")],
    to: Annotated[str, typer.Option("--to", help=f"Target bar size: {', '.join(_RULES)}.")] = "1m",
    from_: Annotated[str | None, typer.Option(
        "--from", help="Source bar size in the catalog. Default: the only finer size it holds.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write to this Parquet file (FILE.parquet) instead of the catalog.")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Aggregate bars to a coarser size; bars never span a session break or a contract roll.

    Examples:

    \b
      scalpdesk data resample MES --to 5m      # in the catalog, from what it holds
      scalpdesk data resample bars.parquet --to 1m --out bars_1m.parquet
    """
    from core.datasets.bars import choose_bar, parse_bar
    from core.datasets.catalog import Catalog
    from core.datasets.resample import resample

    if to not in _RULES:
        raise fail(f"--to {to!r} is not a supported bar size", f"use one of {', '.join(_RULES)}")
    if out is not None:
        _check_out(out, (".parquet",), "--out")
    target = _RULES[to]
    cat = Catalog(catalog, on_wait=_waiting)
    if Path(source).exists():
        res = _read_all([Path(source)], "auto", None, None, None)
        if len(res) != 1:
            raise fail(f"{source} holds {len(res)} instruments; resample one at a time")
        frame, src_s, root = res[0].frame, res[0].bar_seconds, res[0].root
    else:
        root = source.upper()
        finer = run_cli(lambda: [s for s in cat.bar_sizes(root) if s < target and target % s == 0])
        if from_ is not None:
            run_cli(lambda: parse_bar(from_, flag="--from"))
        src_s = run_cli(lambda: choose_bar(finer or cat.bar_sizes(root), from_, root=root,
                                           where=str(cat.root), flag="--from"))
        frame = run_cli(lambda: cat.load(root, src_s))
    if target <= src_s or target % src_s:
        raise fail(f"cannot resample {_bar_name(src_s)} bars to {to}",
                   f"the target must be a larger multiple of {_bar_name(src_s)}")
    with progress_task(f"resampling to {to}", total=None) as advance:
        bars = run_cli(lambda: resample(frame, target, source_seconds=src_s, progress=advance))
    if out is not None:
        from core.datasets.synth import write_parquet

        run_cli(lambda: write_parquet(bars, out))
        console.print(f"[green]wrote[/] {len(bars):,} {to} bars to {out}")
        return
    rep = run_cli(lambda: cat.append(bars, root=root, bar_seconds=target, source=f"resample:{source}"))
    console.print(f"[green]resampled[/] {len(frame):,} {_bar_name(src_s)} rows → {len(bars):,} {to} bars "
                  f"({rep.rows_added:,} new in the catalog as {root} {to})")


def _check_out(path: Path, suffixes: tuple[str, ...], flag: str) -> None:
    """Refuse an output path that is a directory or whose ending names another format."""
    if path.is_dir():
        raise fail(f"{flag} {path} is a directory", f"give a file name, e.g. {path / ('bars' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise fail(f"{flag} {path}: the file ending {path.suffix or '(none)'} does not name a "
                   f"format written here", f"use {' or '.join(suffixes)}, e.g. "
                   f"{path.with_suffix(suffixes[0])}")


@app.command("synth")
def synth_cmd(
    days: Annotated[int, typer.Option(help="Trading days on the real CME calendar (at most 1,000, ~4 years).", min=1, max=1_000)] = 5,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed (same seed → same bars).")] = 0,
    planted: Annotated[bool, typer.Option(help="Plant the documented weak pattern (for testing research).")] = False,
    start: Annotated[str, typer.Option(help="First calendar date (YYYY-MM-DD).")] = "2024-01-02",
    rth_only: Annotated[bool, typer.Option(help="Only regular trading hours (09:30–16:00 ET).")] = False,
    out: Annotated[Path | None, typer.Option(help="Output Parquet (default data/synth/…).")] = None,
    crypto: Annotated[str | None, typer.Option(
        "--crypto", metavar="PAIR", help="Instead: 24/7 one-minute bars of a crypto pair "
        "(BTCUSDT, ETHUSDT, BNBUSDT, SOLUSDT) written as a Binance kline .zip/.csv; --days "
        "counts calendar days.")] = None,
    unit: Annotated[str, typer.Option(help="With --crypto: open times in ms or us (Binance "
                                           "spot files from 2025 use us).")] = "ms",
    pattern: Annotated[str | None, typer.Option(
        "--pattern", metavar="NAME", help="Plant one pattern of the research family on its own "
        "bar size (1 s or 1 min; RTH): volume_burst, breakout, range_fade, late_trend, pullback, "
        "volume_burst_1s, breakout_1s (README → Research).")] = None,
    strength: Annotated[float, typer.Option(
        min=0.0, max=8.0, help="With --pattern: drift scale (1 = the documented, realistic "
        "strength; 0 = noise).")] = 1.0,
) -> None:
    """Generate realistic MES-like 1-second bars (seeded) in the users' Parquet layout.

    Without --planted the bars are pure noise: a correct research pipeline must find no edge.
    With --planted a weak, documented pattern is added that a correct pipeline should find.

    Examples:

    \b
      scalpdesk data synth --days 20 --planted --rth-only --out mes.parquet
      scalpdesk data synth --days 120 --pattern volume_burst --out vb.parquet
      scalpdesk data synth --days 5 --seed 3 --start 2024-03-04
      scalpdesk data synth --crypto BTCUSDT --days 31 --start 2024-01-01 --out BTCUSDT-1m-2024-01.zip
    """
    if crypto:
        return _synth_crypto(crypto, days, seed, planted, start, out, unit)
    if pattern is not None:
        return _synth_pattern(pattern, strength, days, seed, planted, start, out)
    from core.datasets import synth

    run_cli(lambda: synth.check_start(start))
    if days > synth.MAX_DAYS:
        raise fail(f"--days {days:,} is more than {synth.MAX_DAYS:,} trading days (about 4 years, "
                   "~83 M one-second rows)", "generate a longer history in pieces with a later --start each")
    if out is not None:
        _check_out(out, (".parquet",), "--out")
    tag = "planted" if planted else "noise"
    path = out or Path("data") / "synth" / f"mes_1s_{tag}_{days}d_seed{seed}.parquet"
    with progress_task("generating", total=days) as advance:
        frame = run_cli(lambda: synth.generate(days, seed, start=start, planted=planted,
                                               rth_only=rth_only, progress=advance))
    path.parent.mkdir(parents=True, exist_ok=True)
    run_cli(lambda: synth.write_parquet(frame, path))
    console.print(f"[green]wrote[/] {len(frame):,} 1-second bars ({days} trading days, seed {seed}, "
                  f"{tag}) to {path}")
    if planted:
        console.print(f"planted pattern: {synth.PLANTED_PATTERN}", highlight=False)
    console.print(f"next: scalpdesk data validate {path}")
