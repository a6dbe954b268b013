"""Shared CLI plumbing: error reporting, progress bars, the console.

Every command calls core through :func:`run_cli`, which turns a ``CoreError`` (and a few
expected OS errors) into one clear message on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

import typer
from rich.console import Console
from rich.text import Text
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from core.errors import CoreError

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")

#: Exit code for bad input (file, profile, argument).
EXIT_BAD_INPUT = 2


def fail(message: str, hint: str | None = None) -> typer.Exit:
    """Print an error (and optional fix) to stderr and return the Exit to raise."""
    err_console.print(Text.assemble(("error: ", "bold red"), message), highlight=False)
    if hint:
        err_console.print(Text.assemble(("  fix: ", "yellow"), hint), highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def run_cli(fn: Callable[[], T]) -> T:
    """Call ``fn``; turn expected errors into a clean message and exit code 2.

    Args:
        fn: A zero-argument callable doing the command's core work.

    Returns:
        Whatever ``fn`` returns.

    Raises:
        typer.Exit: With code 2 on any ``CoreError``, missing file or permission problem.
    """
    try:
        return fn()
    except CoreError as exc:
        # The message comes from data/user files: never interpret it as rich markup.
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except FileNotFoundError as exc:
        raise fail(f"file not found: {exc.filename or exc}",
                   "check the path (relative paths are from the current directory)") from None
    except PermissionError as exc:
        raise fail(f"permission denied: {exc.filename or exc}") from None
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was written half-way")
        raise typer.Exit(130) from None


def make_progress(transient: bool = True) -> Progress:
    """A rich progress bar in the project's style (goes to stderr, so stdout stays clean)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
        disable=not sys.stderr.isatty(),
    )


@contextlib.contextmanager
def progress_task(description: str, total: float | None) -> Iterator[Callable[[float], None]]:
    """Context manager yielding an ``advance(n)`` callback bound to one progress task.

    Core functions accept such a callback (``progress: Callable[[float], None] | None``),
    so they stay free of UI imports while the CLI shows a bar.
    """
    with make_progress() as prog:
        task = prog.add_task(description, total=total)

        def advance(n: float = 1.0) -> None:
            prog.advance(task, n)

        yield advance
