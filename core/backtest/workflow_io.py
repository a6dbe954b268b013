"""What a backtest run prints, as data: lines and tables, plus the one progress interface.

The backtest workflow (core/backtest/workflow.py) is headless: it never prints. It hands
each piece of output to an ``emit`` sink as a :class:`Line` or :class:`Table` and keeps
them in the report, so the CLI renders them with rich and the console's backtest pane with
Textual, from the same text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: ``progress(stage, fraction)``: ``stage`` names the step ("backtest", "random baseline
#: (200 seeds)", …); ``fraction`` is 0–1 done, or NaN while a step has no measurable total.
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Line:
    """One printed message (``note: …``, the verdict, a summary line).

    Attributes:
        text: The message; may hold several lines (the verdict does).
        style: A rendering hint, "dim" for secondary notes, else None.
    """

    text: str
    style: str | None = None


@dataclass(frozen=True)
class Table:
    """One printed table.

    Attributes:
        title: Printed above the table.
        header: Column names, or None for a two-column key/value table without a header.
        rows: The cells, already formatted.
        align: "left" or "right" per column (empty: all left).
        no_wrap: Per column, True when its cells must never be cut (row names).
        fold: Per column, True when long values wrap inside their cell.
    """

    title: str
    header: tuple[str, ...] | None
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...] = ()
    no_wrap: tuple[bool, ...] = ()
    fold: tuple[bool, ...] = ()

    def text(self) -> str:
        """Plain text (title, header, rows separated by two spaces) for logs and tests."""
        out = [self.title]
        if self.header:
            out.append("  ".join(self.header))
        out += ["  ".join(r) for r in self.rows]
        return "\n".join(out)


Block = Line | Table
Emit = Callable[[Block], None]


class Output:
    """Collects the blocks of one run, forwards each to ``emit`` as it comes, and reports
    progress per stage (so a caller can show one bar per step)."""

    def __init__(self, emit: Emit | None, progress: Progress | None) -> None:
        self.blocks: list[Block] = []
        self._emit = emit
        self._progress = progress

    def say(self, text: str, style: str | None = None) -> None:
        """Emit one message."""
        self.add(Line(text, style))

    def add(self, block: Block) -> None:
        """Emit one block."""
        self.blocks.append(block)
        if self._emit is not None:
            self._emit(block)

    @contextmanager
    def stage(self, name: str, measured: bool = True) -> Iterator[Callable[[float], None]]:
        """A step with its own progress: yields ``fraction → None`` (core functions' style).

        Args:
            name: The step, shown next to its progress bar.
            measured: False when the step reports no fraction (loading files).
        """
        report = self._progress
        if report is not None:
            report(name, 0.0 if measured else math.nan)

        def step(fraction: float) -> None:
            if report is not None:
                report(name, float(fraction))

        yield step
        if report is not None and measured:
            report(name, 1.0)
