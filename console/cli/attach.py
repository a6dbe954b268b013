"""`scalpdesk attach`: the trading console on an engine that already runs (e.g. headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import fail, run_cli


def attach(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Profile of the engine (default: the only engine running).",
        show_default=False)] = None,
    socket: Annotated[Path | None, typer.Option(
        "--socket", help="Control socket path, instead of --profile.", show_default=False)] = None,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Model for the b key's backtest on recent data (default: none; "
        "the engine's model is not known to the console).", show_default=False)] = None,
    data: Annotated[str | None, typer.Option(
        "--backtest-data", help="Bars for the b key (file, directory or catalog root; "
        "default: the profile's instrument in the catalog).", show_default=False)] = None,
) -> None:
    """Open the console on a running engine (`scalpdesk live … --headless` in another shell).

    The console is a client: quitting it (q) leaves the engine trading under its brackets.
    Keys: ctrl+k kill (no dialog), f flatten, p pause/resume, a arm/disarm, r re-arm after a
    kill, b backtest, ctrl+p command palette, ? help, q quit.

    Examples:

    \b
      scalpdesk attach                       (the only engine running)
      scalpdesk attach --profile demo
      scalpdesk attach --profile demo --model mes_lgbm      (b backtests it)
    """
    from console.cli.ctl import _client
    from console.tui.app import ConsoleApp

    client = _client(ctx, profile, socket)
    if not client.is_running():
        raise fail(f"no running engine at {client.path}",
                   "start one with `scalpdesk live --profile NAME --headless`")
    runner = None
    if model is not None:
        from console.tui.backtest_run import runner_for
        from core.config import load_profile
        from core.control import profile_of

        prof = run_cli(lambda: load_profile(profile or profile_of(client.path)))
        runner = runner_for(prof, model, data)
    ConsoleApp(client.path, backtest=runner).run()
