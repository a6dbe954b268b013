"""Shared CLI plumbing: error reporting, progress bars, the console.

Every command calls core through :func:`run_cli`, which turns a ``CoreError`` (and a few
expected OS errors) into one clear message on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import contextlib
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
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


_LEADS = re.compile(r"(error: |warning: |note: |fix: |caveat: |- )")
_STYLES = ((r"(?m)^error: ", "bold red"), (r"(?m)^ *fix: ", "yellow"),
           (r"(?m)^ *warning: ", "yellow"), (r"(?m)^ *note: ", "yellow"),
           (r"(?m)^ *caveat: ", "yellow"))


def wrap_message(text: str, width: int | None) -> str:
    """Wrap each line of ``text`` to ``width`` with a hanging indent under its label.

    ``error: …``, ``  fix: …``, ``warning: …`` continue under the first word after the label,
    so a wrapped message still reads as one item; paths and words are never split. With
    ``width`` None (output piped to a file or another program) nothing is wrapped, so every
    message stays on one greppable line.
    """
    if not width:
        return text
    out = []
    for line in text.splitlines() or [""]:
        body = line.lstrip(" ")
        lead = len(line) - len(body)
        m = _LEADS.match(body)
        hang = " " * (lead + (len(m.group(1)) if m else 2))
        out.append(textwrap.fill(line, width=max(width, 40), subsequent_indent=hang,
                                 break_long_words=False, break_on_hyphens=False) or line)
    return "\n".join(out)


def say(text: str, *, stderr: bool = False, style: str | None = None) -> None:
    """Print a plain message: wrapped with hanging indents on a terminal, one line when piped.

    Labels (``error:``, ``fix:``, ``warning:``, ``note:``) are coloured; the text itself is
    never read as rich markup (it often holds paths and data from files).
    """
    con = err_console if stderr else console
    body = Text(wrap_message(text, con.width if con.is_terminal else None), style=style or "")
    for pattern, label_style in _STYLES:
        body.highlight_regex(pattern, label_style)
    con.print(body, highlight=False, soft_wrap=True)


def fail(message: str, hint: str | None = None) -> typer.Exit:
    """Print an error (and optional fix) to stderr and return the Exit to raise."""
    say(f"error: {message}" + (f"\n  fix: {hint}" if hint else ""), stderr=True)
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
        say(f"error: {exc}", stderr=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except IsADirectoryError as exc:
        raise fail(f"{exc.filename or exc} is a directory, not a file",
                   "give a file name inside it") from None
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


def bar_from_seconds(bar: str | None, bar_seconds: int | None) -> str | None:
    """Map the old ``--bar-seconds N`` onto ``--bar`` with a deprecation note on stderr.

    Raises:
        typer.Exit: Both given, or N is not a bar size (the message names the ``--bar`` value).
    """
    if bar_seconds is None:
        return bar
    from core.datasets.bars import BAR_SIZES, bar_name

    if bar is not None:
        raise fail("give --bar only (--bar-seconds is its old spelling)")
    if bar_seconds not in BAR_SIZES.values():
        raise fail(f"--bar-seconds {bar_seconds} is not a bar size",
                   f"use --bar with one of {', '.join(BAR_SIZES)}")
    err_console.print(f"note: --bar-seconds is deprecated; use --bar {bar_name(bar_seconds)}",
                      highlight=False)
    return bar_name(bar_seconds)


def check_output_path(path: Path, suffixes: tuple[str, ...], flag: str) -> None:
    """Refuse an output path that is a directory or whose ending names another format.

    Raises:
        typer.Exit: With the fix (a file name with the right ending).
    """
    if path.is_dir():
        raise fail(f"{flag} {path} is a directory",
                   f"give a file name, e.g. {path / ('out' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise fail(f"{flag} {path}: the ending {path.suffix or '(none)'} does not name a format "
                   f"written here", f"use {' or '.join(suffixes)}, e.g. {path.with_suffix(suffixes[0])}")
