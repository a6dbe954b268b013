"""Issue 12, help: every command's --help has an example, no stray markup or empty defaults,
no types on flags, arguments in capitals, and `backtest` is a plain command."""

from __future__ import annotations

import re

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from console.cli.app import app

runner = CliRunner()


def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, ...]] = []

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        if isinstance(cmd, TyperGroup):
            for name, sub in cmd.commands.items():
                if not getattr(sub, "hidden", False):
                    walk(sub, (*path, name))
        else:
            out.append(path)

    walk(root, ())
    return out


PATHS = _command_paths()


def test_the_tree_is_walked() -> None:
    assert ("train",) in PATHS and ("backtest",) in PATHS and ("profile", "set") in PATHS
    assert len(PATHS) > 20


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p))
def test_every_help_has_an_example_and_no_markup_artifacts(path: tuple[str, ...]) -> None:
    res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    text = res.output
    assert re.search(r"Examples?:", text), f"{' '.join(path)} --help has no example"
    example = text[re.search(r"Examples?:", text).end():]
    assert f"scalpdesk {' '.join(path)}" in " ".join(example.split()), \
        f"the example of {' '.join(path)} does not run that command"
    assert "%%" not in text and "\\[" not in text  # no escaped or leftover markup
    assert not re.search(r"Default: the profile's \.|Default: *\.", text)
    assert not re.search(r"<(bool|str|int|float|path|list\[[^\]]*\])>", text)
    assert not re.search(r"\{[a-z_]+\}", text)  # arguments are not shown as {paths}
    assert "[default: False]" not in text and "[default: no-" not in text
    assert "╭" not in text  # the plain layout: readable at 80 columns and when piped
    lines = [ln for ln in text.splitlines() if ln.strip()]
    too_wide = [ln for ln in lines if len(ln) > 80 and "scalpdesk" not in ln]
    assert not too_wide, too_wide


def test_backtest_is_a_command_not_a_group() -> None:
    res = runner.invoke(app, ["backtest", "--help"])
    assert "COMMAND [ARGS]" not in res.output
    assert res.output.startswith("Usage: scalpdesk backtest [OPTIONS]")


def test_flags_show_no_type_and_valued_options_a_metavar() -> None:
    text = runner.invoke(app, ["backtest", "--help"], env={"COLUMNS": "80"}).output
    assert re.search(r"--walk-forward\s+Also", text)
    assert "--bar 1s|5s|15s|30s|1m|5m|15m|30m|1h" in text
    assert "--folds INTEGER" in text
