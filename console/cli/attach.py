"""`scalpdesk attach`: the trading console on an engine that already runs (e.g. headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import fail


def attach(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Profile of the engine (default: the only engine running).",
        show_default=False)] = None,
    socket: Annotated[Path | None, typer.Option(
        "--socket", help="Control socket path, instead of --profile.", show_default=False)] = None,
) -> None:
    """Open the console on a running engine (`scalpdesk live … --headless` in another shell).

    The console is a client: quitting it (q) leaves the engine trading under its brackets.
    Keys: ctrl+k kill (no dialog), f flatten, p pause/resume, a arm/disarm, ? help, q quit.

    Examples:

    \b
      scalpdesk attach                       (the only engine running)
      scalpdesk attach --profile demo
    """
    from console.cli.ctl import _client
    from console.tui.app import ConsoleApp

    client = _client(ctx, profile, socket)
    if not client.is_running():
        raise fail(f"no running engine at {client.path}",
                   "start one with `scalpdesk live --profile NAME --headless`")
    ConsoleApp(client.path).run()
