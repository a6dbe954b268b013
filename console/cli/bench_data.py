"""`scalpdesk bench data`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `bench data` command to the bench group (not built yet)."""
