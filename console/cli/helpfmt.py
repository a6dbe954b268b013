"""Plain, readable ``--help`` for every command (typer's defaults are tidied here, once).

Typer 0.29's help shows ``<str>``/``<bool>``-style types, required arguments as
``{paths}`` and a rich panel layout whose help column is ~20 characters wide at 80 columns.
Before the root command parses anything, :class:`ScalpdeskGroup` walks the whole command
tree once and:

* switches every command to click's plain help layout (wraps with indentation at the
  terminal width, never reads help text as markup, so ``[label]`` or ``15 %`` print as is);
* names every argument in capitals (``PATHS...``), without braces in the usage line;
* gives every valued option a click-style metavar (``TEXT``, ``INTEGER``, ``NUMBER``,
  ``PATH``) unless the option declares its own (``--bar 1s|5s|…``); flags get none;
* hides ``[default: no-…]`` / ``[default: False]`` on flags that are off by default.

Doing it at the root means new command modules get the same help without any code.
"""

from __future__ import annotations

import types
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

#: Click-style names of value types (typer 0.29 would print ``<int>``, ``<str>``…).
_TYPE_METAVARS = {int: "INTEGER", float: "NUMBER", str: "TEXT", bool: "BOOLEAN"}


def _option_metavar(opt: TyperOption) -> str:
    desc = opt.type_descriptor
    if desc.is_choice and desc.choices:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    if desc.is_path:
        return "PATH"
    if desc.is_datetime:
        return "DATETIME"
    annotation = desc.annotation
    if desc.is_list:
        args = getattr(annotation, "__args__", (str,))
        return _TYPE_METAVARS.get(args[0], "TEXT")
    return _TYPE_METAVARS.get(annotation, "TEXT")


def _polish_argument(arg: TyperArgument) -> None:
    meta = arg.metavar or (arg.name or "ARG").upper()
    arg.metavar = meta
    dots = "..." if arg.nargs != 1 else ""

    def usage(self: Any, ctx: Any) -> list[str]:  # noqa: ARG001
        piece = f"{meta}{dots}"
        return [piece if self.required else f"[{piece}]"]

    def help_record(self: Any, ctx: Any) -> tuple[str, str] | None:  # noqa: ARG001
        if self.hidden:
            return None
        extra = "" if self.required else "  [optional]"
        return f"{meta}{dots}", (self.help or "") + extra

    arg.get_usage_pieces = types.MethodType(usage, arg)  # type: ignore[method-assign]
    arg.get_help_record = types.MethodType(help_record, arg)  # type: ignore[method-assign]


def _polish_option(opt: TyperOption) -> None:
    if opt.is_flag or opt.count:
        if not opt.default:
            opt.show_default = False
        return
    if opt.metavar is None:
        opt.metavar = _option_metavar(opt)


def polish(cmd: Any, _seen: set[int] | None = None) -> None:
    """Tidy the help of ``cmd`` and every sub-command (idempotent)."""
    seen = _seen if _seen is not None else set()
    if id(cmd) in seen:
        return
    seen.add(id(cmd))
    if hasattr(cmd, "rich_markup_mode"):
        cmd.rich_markup_mode = None  # click's plain layout: readable at 80 columns and piped
    for param in cmd.params:
        if isinstance(param, TyperArgument):
            _polish_argument(param)
        elif isinstance(param, TyperOption):
            _polish_option(param)
    if isinstance(cmd, TyperGroup):
        for sub in cmd.commands.values():
            polish(sub, seen)


class ScalpdeskGroup(TyperGroup):
    """The root group: polishes the whole command tree before it parses anything."""

    _polished = False

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Polish first: typer picks the error layout (plain, not a rich panel) from the root
        command's ``rich_markup_mode`` before any context exists."""
        if not self._polished:
            polish(self)
            self._polished = True
        return super().main(*args, **kwargs)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Any = None, **extra: Any) -> Any:
        """Polish once, then parse as usual (``--help`` anywhere sees the tidy tree)."""
        if not self._polished:
            polish(self)
            self._polished = True
        return super().make_context(info_name, args, parent=parent, **extra)
