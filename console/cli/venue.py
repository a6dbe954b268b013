"""`scalpdesk venue …` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import console, run_cli

app = typer.Typer(help="Check a connection to TopstepX (or the simulator).", no_args_is_help=True)

_URL_HELP = "Defaults to the profile's [venue] setting, else the real TopstepX URL."


@app.command("check")
def check(
    ctx: typer.Context,
    profile: Annotated[Path | None, typer.Option(
        "--profile", "-p", help="Profile whose [venue] section gives the kind, URLs, env var "
        "names, account and symbol (default: the global --profile, else built-in TopstepX "
        "defaults).")] = None,
    api_url: Annotated[str | None, typer.Option(help=f"REST base URL. {_URL_HELP}")] = None,
    user_hub: Annotated[str | None, typer.Option(help=f"User hub URL. {_URL_HELP}")] = None,
    market_hub: Annotated[str | None, typer.Option(help=f"Market hub URL. {_URL_HELP}")] = None,
    symbol_id: Annotated[str | None, typer.Option(
        help="ProjectX symbolId to look up (MES is F.US.MES). Contract ids are never built by hand.")] = None,
    account: Annotated[str | None, typer.Option(help="Account name to use (default: the first active).")] = None,
    seconds: Annotated[float, typer.Option(min=0.5, help="How long to listen for quotes.")] = 5.0,
) -> None:
    """Log in, list accounts, find the active contract, read bars and receive a few quotes.

    The profile's venue.kind decides where: "topstepx" dials TopstepX with the credentials
    from the environment (TOPSTEPX_USERNAME and TOPSTEPX_API_KEY, or the variables the profile
    names; never printed); "sim" checks a local simulator — the one at a loopback venue.api_url,
    else one started in this process (no network, no credentials needed).

    Giving --api-url (and the hub URLs) checks the TopstepX client at those URLs whatever the
    kind, e.g. a simulator started with `scalpdesk sim run`.

    Exit code: 0 when every step passes (warnings allowed), 1 when a step fails,
    2 on bad input such as a missing environment variable.

    Examples:

    \b
      scalpdesk venue check --profile demo        # an in-process simulator, offline
      scalpdesk venue check --profile account_1k  # TopstepX (credentials from env)
      scalpdesk venue check --api-url http://127.0.0.1:18777 \\
          --user-hub http://127.0.0.1:18777/hubs/user \\
          --market-hub http://127.0.0.1:18777/hubs/market
    """
    import asyncio

    from core.clock import LiveClock

    prof_path = profile or getattr(ctx.obj, "profile", None)
    prof = None
    if prof_path is not None:
        from core.config import load_profile

        prof = run_cli(lambda: load_profile(prof_path))
    venue_cfg = prof.venue if prof is not None else None
    urls = {"api_url": api_url, "user_hub_url": user_hub, "market_hub_url": market_hub}
    # Explicit URLs mean "this client at these URLs", as before the factory existed.
    kind = "topstepx" if any(urls.values()) else None
    clock = LiveClock()
    results, where = run_cli(lambda: asyncio.run(_check(
        prof, kind=kind, clock=clock, overrides={**urls, "handshake_timeout_s": 10.0,
                                                 "max_read_retries": 2},
        symbol_id=symbol_id or (venue_cfg.symbol_id if venue_cfg else "F.US.MES"),
        account_name=account or (venue_cfg.account_name if venue_cfg else None),
        seconds=seconds)))
    _print(results, where)
    if any(r.status == "fail" for r in results):
        raise typer.Exit(1)


async def _check(prof: object, *, kind: str | None, clock: object, overrides: dict,
                 symbol_id: str, account_name: str | None, seconds: float) -> tuple[list, str]:
    from core.venues.factory import is_loopback_url, open_venue
    from core.venues.topstepx.check import run_check

    venue = await open_venue(prof, kind=kind, clock=clock, config_overrides=overrides)  # type: ignore[arg-type]
    where = venue.config.api_url  # type: ignore[attr-defined]
    cfg = getattr(prof, "venue", None)
    if kind is None and cfg is not None and cfg.kind == "sim" and not is_loopback_url(cfg.api_url):
        where += " (in-process simulator)"
    results = await run_check(venue, clock=clock, symbol_id=symbol_id,  # type: ignore[arg-type]
                              account_name=account_name, quote_seconds=seconds)
    return results, where


def _print(results: list, where: str) -> None:
    from rich.table import Table
    from rich.text import Text

    style = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim"}
    table = Table("step", "result", "ms", "detail", title=f"venue check — {where}")
    for r in results:
        table.add_row(r.name, Text(r.status.upper(), style=style[r.status]), f"{r.ms:,.0f}",
                      Text(r.detail))  # Text: gateway messages are never rich markup
    console.print(table)
    counts = {k: sum(r.status == k for r in results) for k in ("pass", "warn", "fail", "skip")}
    text = ", ".join(f"{n} {label}" for label, n in (("passed", counts["pass"]),
                                                     ("warned", counts["warn"]),
                                                     ("failed", counts["fail"]),
                                                     ("skipped", counts["skip"])) if n)
    console.print(Text(text, style="red" if counts["fail"] else "green"))
