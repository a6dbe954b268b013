"""`scalpdesk bench research`: the share of planted patterns found out of sample, the false
positives on noise, and the time of one LightGBM fold at 436,646 rows × 49 features."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from console.cli.common import console, fail, progress_task, run_cli


def _num(x: float) -> str:
    """A signed dollar figure, or "–" when no seed had one (no bar cleared the floor)."""
    return f"{x:+.2f}" if math.isfinite(x) else "–"


def register(app: typer.Typer) -> None:
    """Add the ``bench research`` command to the bench group."""

    @app.command("research")
    def bench_research(
        seeds: Annotated[int, typer.Option(help="Seeds per pattern and for noise.", min=1)] = 20,
        patterns: Annotated[str, typer.Option(
            help="Comma-separated pattern names, or 'all'.")] = "all",
        fold_runs: Annotated[int, typer.Option(
            help="Runs of the 436,646-row fold (0 = skip; median reported).", min=0)] = 3,
        floor: Annotated[str, typer.Option(
            help="'auto' (each fold's floor chosen on its validation bars, train --auto-floor) "
            "or a fixed confidence floor such as 0.55.")] = "auto",
        days: Annotated[int | None, typer.Option(
            "--days", min=20, max=1_000, help="Trading days per seed (default: 120 for "
            "1-minute patterns, 10 for 1-second ones).")] = None,
        features: Annotated[str | None, typer.Option(
            "--features", metavar="LIST", help="Fit on these columns only (train --features), "
            "for every pattern and for noise alike; default: every feature of the set.")] = None,
    ) -> None:
        """Research power on `data synth` patterns at their documented strength (README → Research).

        Per pattern and seed: 120 RTH days of bars (10 for 1-second patterns; --days) through the
        training pipeline (binary label over the pattern's horizon, 4 folds + holdout, floor
        chosen on validation or fixed). Found = the pooled predictions at or above the floor
        (≥ 100 bars), held for the horizon, earn more per contract after costs than the
        coin-flip 95th percentile on the same bars, with precision > 50 %; pays = found and
        above $0 after costs. Backtest = the walk-forward trades under the profile's exits.

        Examples:

        \b
          scalpdesk bench research --seeds 20 --patterns breakout,late_trend --floor 0.55
          scalpdesk bench research --seeds 20 --patterns volume_burst --fold-runs 0 \\
              --features ret_1m,bar_dir,volume_rel_1h
          scalpdesk bench research --seeds 20 --patterns volume_burst --fold-runs 0 --days 500
        """
        from rich.table import Table

        from core.bench import research as br
        from core.datasets import synth_patterns as sp
        from core.features.selection import parse_feature_list

        chosen = parse_feature_list(features)
        if features is not None and chosen is None:
            raise fail("--features is empty", "e.g. --features ret_1m,bar_dir,volume_rel_1h")
        fixed = None
        if floor != "auto":
            try:
                fixed = float(floor)
            except ValueError:
                fixed = -1.0
            if not 0.0 < fixed < 1.0:
                raise fail(f"--floor {floor!r} is neither 'auto' nor a confidence in (0, 1)",
                           "e.g. --floor auto or --floor 0.55")
        names = sp.pattern_names() if patterns == "all" else \
            [x.strip() for x in patterns.split(",") if x.strip()]
        for n in names:
            if n not in sp.PATTERNS:
                raise fail(f"--patterns: unknown pattern {n!r}",
                           "choose from " + ", ".join(sp.pattern_names()))
        tab = Table("pattern", "bars", "density", "EV $/trade", "found", "pays",
                    "traded $/contract (median)", "backtest $/trade (median)", "AUC (median)",
                    "s/seed",
                    title=f"research power: {seeds} seed(s) each"
                    + (f", {days} days" if days else "") + ", documented strength 1, floor "
                    + ("chosen on validation" if fixed is None else f"{fixed:.0%}")
                    + (f"; features {', '.join(chosen)}" if chosen else "; all features"))
        for name in [*names, None]:
            p = sp.PATTERNS.get(name) if name else None
            runs = []
            with progress_task(name or "noise", seeds) as adv:
                for seed in range(seeds):
                    runs.append(run_cli(lambda: br.run_one(name, seed, floor=fixed, days=days,
                                                        features=chosen)))
                    adv(1)
            found = sum(r.found for r in runs)
            pays = sum(r.pays for r in runs)
            tab.add_row(name or "noise (false positives)",
                        "1 s" if p and p.bar_seconds == 1 else "1 min",
                        p.density if p else "–",
                        f"{p.expected_value():+.2f}" if p else "–",
                        f"{found}/{len(runs)} ({found / len(runs):.0%})",
                        f"{pays}/{len(runs)} ({pays / len(runs):.0%})",
                        _num(br.median([r.top_dollars for r in runs])),
                        _num(br.median([r.expectancy for r in runs if r.trades])),
                        f"{br.median([r.auc for r in runs]):.3f}",
                        f"{br.median([r.seconds for r in runs]):.1f}")
        console.print(tab)
        if fold_runs:
            with progress_task("one LightGBM fold, 436,646 rows × 49 features", fold_runs):
                times, rounds = run_cli(lambda: br.fold_seconds(runs=fold_runs))
            console.print(f"LightGBM fold (fit + validation predict), {br.FOLD_ROWS:,} rows × 49 "
                          f"features: median {br.median(times):.1f} s over {len(times)} runs "
                          f"({', '.join(f'{t:.1f}' for t in times)} s; {rounds[0]} rounds)",
                          highlight=False)
