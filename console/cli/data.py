"""`scalpdesk data …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Import, validate, inspect, resample and synthesise market data.", no_args_is_help=True)
