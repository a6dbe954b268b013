"""`scalpdesk train …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Train models with purged walk-forward validation.", no_args_is_help=True)
