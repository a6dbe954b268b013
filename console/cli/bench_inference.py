"""`scalpdesk bench inference`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `bench inference` command to the bench group (not built yet)."""
