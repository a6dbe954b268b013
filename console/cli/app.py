"""The ``scalpdesk`` command: a root callback plus one Typer sub-app per command group.

Group modules import the core lazily inside their commands so ``--help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from console.cli import (attach, backtest, bench, ctl, data, demo, live, models, profile, sim,
                         sweep, tour, train, venue)
from console.cli.helpfmt import ScalpdeskGroup

app = typer.Typer(
    name="scalpdesk",
    cls=ScalpdeskGroup,  # plain, readable --help for every command (console/cli/helpfmt.py)
    help=(
        "Terminal console for supervised ML scalping of MES futures on TopstepX.\n\n"
        "Start with `scalpdesk demo`, then `scalpdesk data import FILE` to bring in your own bars."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@dataclass
class RootOptions:
    """Options given before the sub-command, available as ``ctx.obj``."""

    profile: Path | None = None
    verbose: bool = False


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[Path | None, typer.Option(
        "--profile", "-p", help="Profile name (demo, mine) or TOML file (default: demo).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr.")] = False,
) -> None:
    """Global options."""
    ctx.obj = RootOptions(profile=profile, verbose=verbose)


_GROUPS = [
    (data.app, "data"),
    (models.app, "models"),
    (sim.app, "sim"),
    (venue.app, "venue"),
    (bench.app, "bench"),
    (profile.app, "profile"),
    (ctl.app, "ctl"),
]

for _sub, _name in _GROUPS:
    # A group only appears once it has a command (groups are filled in issue by issue).
    if _sub.registered_commands or _sub.registered_groups or _sub.registered_callback:
        app.add_typer(_sub, name=_name)

# `demo`: the console trading the simulator; `tour`: the printed research walk-through.
app.command("demo")(demo.demo)
tour.register(app)
# `train` is one command with many options, not a group (scalpdesk train --data ...).
app.command("train")(train.train)
# `sweep` likewise: one command (scalpdesk sweep --space ... --out ...).
app.command("sweep")(sweep.sweep)
# `backtest` too: a group would advertise `COMMAND [ARGS]` it does not have.
app.command("backtest")(backtest.backtest)
app.command("live")(live.live)
app.command("attach")(attach.attach)


def main() -> None:
    """Console-script entry point."""
    app()
