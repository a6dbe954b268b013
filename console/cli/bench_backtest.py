"""`scalpdesk bench backtest`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `bench backtest` command to the bench group (not built yet)."""
