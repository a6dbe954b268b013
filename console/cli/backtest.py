"""`scalpdesk backtest …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Backtest strategies with real costs and prop-firm risk rules.", no_args_is_help=True)
