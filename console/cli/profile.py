"""`scalpdesk profile …`: list, show, check and edit profiles (comments are kept)."""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, run_cli

app = typer.Typer(help="List, show, check and edit trading profiles (profiles/*.toml).",
                  no_args_is_help=True)


@app.command("list")
def list_profiles() -> None:
    """List the shipped profiles with their description."""
    from rich.table import Table

    from core.config import PROFILES_DIR, load_profile

    table = Table("profile", "instrument", "description")
    for path in sorted(PROFILES_DIR.glob("*.toml")):
        try:
            p = load_profile(path)
            table.add_row(path.stem, p.instrument, p.description)
        except Exception as exc:  # show broken profiles instead of hiding them
            table.add_row(path.stem, "?", f"[red]invalid: {str(exc).splitlines()[0]}[/]")
    console.print(table)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Profile name (demo) or path to a .toml file.")]) -> None:
    """Print every setting of a profile, defaults included."""
    import dataclasses

    from core.config import load_profile

    prof = run_cli(lambda: load_profile(name))
    console.print(f"[bold]{prof.name}[/] — {prof.description}  ({prof.path})")
    console.print(f"instrument = {prof.instrument}")
    for section in ("costs", "risk", "schedule", "topstep", "strategy", "label", "venue"):
        obj = getattr(prof, section)
        console.print(f"\n[bold cyan][{section}][/]")
        if obj is None:
            console.print("  (not used by this profile)")
            continue
        for f in dataclasses.fields(obj):
            console.print(f"  {f.name} = {getattr(obj, f.name)!r}", highlight=False)


@app.command("validate")
def validate(name: Annotated[str, typer.Argument(help="Profile name or path.")]) -> None:
    """Check a profile; lists every problem at once (exit code 2 when invalid)."""
    from core.config import load_profile

    prof = run_cli(lambda: load_profile(name))
    console.print(f"[green]ok[/] {prof.path}")


@app.command("set")
def set_value(
    name: Annotated[str, typer.Argument(help="Profile name or path.")],
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. risk.max_daily_loss.")],
    value: Annotated[str, typer.Argument(help="New value as TOML: 60, 0.65, true, '\"16:30\"'.")],
) -> None:
    """Change one setting in place, keeping the file's comments; a bad value is refused."""
    from core.config import set_profile_value

    prof = run_cli(lambda: set_profile_value(name, key, value))
    console.print(f"[green]set[/] {key} in {prof.path}")
