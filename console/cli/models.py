"""`scalpdesk models …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="List and inspect trained models.", no_args_is_help=True)
