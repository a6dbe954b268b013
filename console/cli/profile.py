"""`scalpdesk profile …`: list, show, check, create and edit profiles (comments are kept).

Shipped profiles (profiles/*.toml) are read-only; ``profile new`` makes a user profile in the
user profile directory ($SCALPDESK_HOME/profiles, default ~/.scalpdesk/profiles) that extends
one and holds only what the user changes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.cli.common import console, run_cli, say

app = typer.Typer(
    help=("List, show, check, create and edit trading profiles.\n\n"
          "Shipped profiles are read-only; make your own with `scalpdesk profile new mine "
          "--from account_1k` (stored in $SCALPDESK_HOME/profiles, default "
          "~/.scalpdesk/profiles) and change it with `scalpdesk profile set`."),
    no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(
    metavar="NAME", help="Profile name (demo, mine) or path to a .toml file.")]


@app.command("list")
def list_profiles() -> None:
    """List your profiles and the shipped ones, with where each lives.

    Example:

    \b
      scalpdesk profile list
    """
    from rich.table import Table

    from core import profile_files
    from core.config import load_profile

    table = Table("profile", "kind", "instrument", "description", header_style="bold")
    table.columns[0].no_wrap = True
    table.columns[1].no_wrap = True
    table.columns[3].overflow = "fold"
    dirs = [(profile_files.user_profiles_dir(), "user"), (profile_files.SHIPPED_DIR, "shipped")]
    for directory, kind in dirs:
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else ():
            try:
                p = load_profile(path)
                extra = f" (extends {p.extends})" if p.extends else ""
                table.add_row(path.stem, kind, p.instrument, p.description + extra)
            except Exception as exc:  # show broken profiles instead of hiding them
                table.add_row(path.stem, kind, "?", f"invalid: {str(exc).splitlines()[0]}",
                              style="red")
    console.print(table)
    say(f"user profiles: {profile_files.user_profiles_dir()} (set SCALPDESK_HOME to move them); "
        "new one: scalpdesk profile new NAME --from account_1k", style="dim")


@app.command("show")
def show(name: NameArg) -> None:
    """Print every setting of a profile as valid, commented TOML (defaults included).

    Values you did not set are marked "# default"; with `extends`, inherited values are
    marked "# from BASE".

    Examples:

    \b
      scalpdesk profile show account_1k
      scalpdesk profile show mine > mine_full.toml
    """
    from core.config import load_profile
    from core.profile_files import render_toml

    prof = run_cli(lambda: load_profile(name))
    console.print(run_cli(lambda: render_toml(prof)), markup=False, highlight=False,
                  soft_wrap=True, end="")


@app.command("validate")
def validate(name: NameArg) -> None:
    """Check a profile; lists every problem at once (exit code 2 when invalid).

    Example:

    \b
      scalpdesk profile validate mine
    """
    from core.config import load_profile

    prof = run_cli(lambda: load_profile(name))
    console.print(f"ok {prof.path}" + (f" (extends {prof.extends})" if prof.extends else ""),
                  markup=False, highlight=False)


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name of your new profile (letters, digits, _ and -).")],
    base: Annotated[str, typer.Option(
        "--from", metavar="PROFILE", help="The profile it starts from and extends.")] = "account_1k",
    description: Annotated[str | None, typer.Option(help="One line saying what it is for.")] = None,
) -> None:
    """Create a user profile that extends another and holds only what you change.

    The file goes to the user profile directory ($SCALPDESK_HOME/profiles, default
    ~/.scalpdesk/profiles) and starts with `extends = "BASE"`.

    Examples:

    \b
      scalpdesk profile new mine --from account_1k
      scalpdesk profile set mine risk.max_daily_loss 40
    """
    from core import profile_files
    from core.config import load_profile

    run_cli(lambda: profile_files.check_new_name(name))
    base_prof = run_cli(lambda: load_profile(base))
    base_ref = base_prof.path.stem if base_prof.path and base_prof.path.parent in (
        profile_files.SHIPPED_DIR, profile_files.user_profiles_dir()) else str(base_prof.path)
    path = profile_files.user_profiles_dir() / f"{name}.toml"
    text = profile_files.new_profile_text(name, base_ref, description)
    run_cli(lambda: profile_files.write_atomic(path, text, exclusive=True))
    run_cli(lambda: load_profile(path))  # proves it loads (it cannot fail: nothing changed)
    say(f"created {path} (extends {base_ref})")
    say(f"next: scalpdesk profile set {name} risk.max_daily_loss 40   ·   scalpdesk profile show {name}")


@app.command("set", context_settings={"ignore_unknown_options": True})
def set_value(
    name: NameArg,
    key: Annotated[str, typer.Argument(metavar="KEY", help="Full dotted key, e.g. risk.max_daily_loss.")],
    value: Annotated[str, typer.Argument(
        metavar="VALUE", help="New value as TOML: 60, -40, 0.65, true, '\"16:30\"'.")],
) -> None:
    """Change one setting of your profile, keeping its comments; a bad value is refused.

    Shipped profiles are read-only: copy one first with `scalpdesk profile new`.

    Examples:

    \b
      scalpdesk profile set mine risk.max_daily_loss 40
      scalpdesk profile set mine strategy.cooldown_bars 2
    """
    from core.config import load_profile, profile_value, set_profile_value

    before = run_cli(lambda: load_profile(name))
    old = profile_value(before, key) if "." in key else None
    prof = run_cli(lambda: set_profile_value(name, key, value))
    new_value = profile_value(prof, key)
    if old == new_value:
        say(f"{key} = {_show(new_value)} (unchanged) in {prof.path}")
    else:
        say(f"{key}: {_show(old)} → {_show(new_value)} in {prof.path}")


def _show(value: object) -> str:
    """A value as it reads in TOML (strings quoted, unset shown as such)."""
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)
