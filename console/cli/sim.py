"""`scalpdesk sim …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the local ProjectX-compatible gateway simulator.", no_args_is_help=True)
