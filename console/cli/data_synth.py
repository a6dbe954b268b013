"""The helpers of `scalpdesk data synth` that write a pattern or a crypto pair (data.py had
passed 400 lines)."""

from __future__ import annotations

from pathlib import Path

from console.cli.common import console, fail, progress_task, run_cli


def synth_pattern(name: str, strength: float, days: int, seed: int, planted: bool, start: str,
                  out: Path | None) -> None:
    """`data synth --pattern NAME`: RTH noise on the pattern's bar size with the pattern planted."""
    from console.cli.data import _check_out
    from core.datasets import synth, synth_patterns as sp

    if planted:
        raise fail("--planted and --pattern both plant a pattern", "give one of them")
    p = run_cli(lambda: sp.get_pattern(name))
    run_cli(lambda: synth.check_start(start))
    if out is not None:
        _check_out(out, (".parquet",), "--out")
    bar = "1s" if p.bar_seconds == 1 else "1m"
    path = out or Path("data") / "synth" / f"mes_{bar}_{p.name}_x{strength:g}_{days}d_seed{seed}.parquet"
    with progress_task("generating", None):
        frame, starts = run_cli(lambda: sp.generate_pattern(p, days, seed, strength=strength,
                                                            start=start))
    path.parent.mkdir(parents=True, exist_ok=True)
    run_cli(lambda: synth.write_parquet(frame, path))
    console.print(f"[green]wrote[/] {len(frame):,} {bar} RTH bars ({days} trading days, seed {seed}) "
                  f"to {path}; {int((starts != 0).sum()):,} bars start a drift", highlight=False)
    console.print(f"planted pattern: {p.describe(strength)}", highlight=False)
    console.print(f"next: scalpdesk train --data {path} --lookahead {p.lookahead_seconds}",
                  highlight=False)


def synth_crypto(pair: str, days: int, seed: int, planted: bool, start: str, out: Path | None,
                 unit: str) -> None:
    """`data synth --crypto PAIR`: 24/7 1-minute bars in the Binance kline layout."""
    from console.cli.data import _check_out
    from core.datasets import synth_crypto as sc

    if unit not in ("ms", "us"):
        raise fail(f"--unit {unit!r} is not ms or us", "Binance spot files use us from 2025-01-01")
    pair = pair.upper()
    if out is not None:
        _check_out(out, (".zip", ".csv"), "--out")
    tag = "planted" if planted else "noise"
    path = out or Path("data") / "synth" / f"{pair}-1m-{start[:7]}.zip"
    frame = run_cli(lambda: sc.generate_crypto(days, seed, symbol=pair, start=start,
                                               planted=planted))
    run_cli(lambda: sc.write_binance_klines(frame, path, unit=unit))
    console.print(f"[green]wrote[/] {len(frame):,} one-minute {pair} bars ({days} days, 24/7, seed "
                  f"{seed}, {tag}) in the Binance kline layout ({unit} open times) to {path}")
    if planted:
        console.print(f"planted pattern: {sc.PLANTED_PATTERN}", highlight=False)
    console.print(f"next: scalpdesk data import {path}")
