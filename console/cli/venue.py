"""`scalpdesk venue …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Check a connection to TopstepX (or the simulator).", no_args_is_help=True)
