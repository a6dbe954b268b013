"""`scalpdesk demo`: the main job on the embedded defaults."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the root app."""

    @app.command()
    def demo() -> None:
        """Run the end-to-end demo on embedded synthetic data."""
        typer.echo("demo: not built yet")
