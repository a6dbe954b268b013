"""Bar sizes the product speaks, and how a command picks one (the one ``--bar`` option).

Every command that reads bars takes ``--bar 1s|5s|15s|30s|1m|5m|15m|30m|1h``. When it is left
out the size is not guessed: it is the only size the catalog holds for the instrument, or the
size a saved model was trained on, and otherwise the command stops and lists the sizes
available. A file's bar size is read from the file itself; ``--bar`` must agree with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.errors import ConfigError, DataError

#: The bar sizes of ``--bar``, smallest first (label → seconds).
BAR_SIZES: dict[str, int] = {"1s": 1, "5s": 5, "15s": 15, "30s": 30, "1m": 60, "5m": 300,
                             "15m": 900, "30m": 1800, "1h": 3600}
#: For help texts: ``1s|5s|…|1h``.
BAR_CHOICES = "|".join(BAR_SIZES)
#: File endings that make ``--data`` a path, never a catalog symbol (``missing.parquet``).
FILE_SUFFIXES = frozenset({".parquet", ".pq", ".csv", ".txt", ".dbn", ".zst", ".json", ".gz",
                           ".bz2", ".xz", ".zip", ".tsv"})


def bar_name(seconds: int) -> str:
    """The label of a bar size: 1 → ``1s``, 60 → ``1m``, 3600 → ``1h``."""
    for label, size in BAR_SIZES.items():
        if size == seconds:
            return label
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_bar(text: str, *, flag: str = "--bar") -> int:
    """Seconds of a ``--bar`` value (``1m`` → 60; ``60s`` is accepted as ``1m``).

    Raises:
        ConfigError: Not one of the sizes of :data:`BAR_SIZES` (the message lists them).
    """
    raw = str(text).strip().lower()
    if raw in BAR_SIZES:
        return BAR_SIZES[raw]
    aliases = {"1min": 60, "60s": 60, "5min": 300, "15min": 900, "30min": 1800, "60m": 3600,
               "3600s": 3600, "1sec": 1}
    if raw in aliases:
        return aliases[raw]
    hint = f"use one of {', '.join(BAR_SIZES)}"
    if raw.isdigit():
        hint = (f"{flag} takes a size with a unit: {flag} {bar_name(int(raw))} for {raw} seconds"
                if int(raw) in BAR_SIZES.values() else hint)
    raise ConfigError(f"{flag} {text!r} is not a bar size", hint=hint)


def looks_like_path(data: str) -> bool:
    """Whether ``--data`` names a file (by its ending or a separator), never a catalog symbol."""
    p = Path(data)
    return (p.suffix.lower() in FILE_SUFFIXES or "/" in data or "\\" in data
            or data.startswith(("~", ".")))


def choose_bar(held: Sequence[int], bar: str | None, *, root: str, where: str,
               model_bar: int | None = None, model_name: str | None = None,
               flag: str = "--bar") -> int:
    """The bar size a command uses for catalog data.

    Args:
        held: Bar sizes (seconds) the catalog holds for ``root``.
        bar: The user's ``--bar`` value, or None.
        root: Instrument root, for messages.
        where: The catalog's location, for messages.
        model_bar: The bar size a saved model was trained on (``--model``), if any.
        model_name: That model's name, for messages.
        flag: The option's spelling, for messages.

    Returns:
        Seconds per bar.

    Raises:
        ConfigError: ``--bar`` is not a bar size, or disagrees with the model.
        DataError: The catalog lacks the size, or holds several and none was chosen.
    """
    sizes = sorted(set(int(s) for s in held))
    listed = ", ".join(bar_name(s) for s in sizes)
    seconds = parse_bar(bar, flag=flag) if bar is not None else model_bar
    if bar is not None and model_bar is not None and seconds != model_bar:
        raise ConfigError(
            f"model {model_name} was trained on {bar_name(model_bar)} bars; {flag} {bar} does not "
            "match (its features and label horizon are in bars of that size)",
            hint=f"drop {flag} (the model's size is used) or pass {flag} {bar_name(model_bar)}")
    if not sizes:
        raise DataError(f"the catalog at {where} has no {root} bars",
                        hint=f"import them with `scalpdesk data import FILE` (or point "
                             "SCALPDESK_DATA / --catalog at another catalog); `scalpdesk data "
                             "info` lists what it holds")
    if seconds is None:
        if len(sizes) == 1:
            return sizes[0]
        choices = " or ".join(f"{flag} {bar_name(s)}" for s in sizes)
        raise DataError(f"the catalog holds {root} bars of several sizes ({listed}); which one?",
                        hint=f"choose with {choices}")
    if seconds not in sizes:
        origin = (f"model {model_name} was trained on {bar_name(seconds)} bars, but "
                  if bar is None and model_bar is not None else "")
        fix = (f"use {' or '.join(f'{flag} {bar_name(s)}' for s in sizes)}"
               if bar is not None else f"import or resample {bar_name(seconds)} bars")
        finer = [s for s in sizes if s < seconds and seconds % s == 0]
        if finer:
            fix += (f", or make them: scalpdesk data resample {root} --from {bar_name(finer[0])} "
                    f"--to {bar_name(seconds)}")
        raise DataError(f"{origin}the catalog at {where} has no {root} {bar_name(seconds)} bars "
                        f"(it holds {root} {listed})", hint=fix)
    return seconds


def check_file_bar(file_seconds: int, bar: str | None, *, source: str,
                   model_bar: int | None = None, model_name: str | None = None,
                   flag: str = "--bar") -> None:
    """A file's own bar size must agree with ``--bar`` and with the model's bar size.

    Raises:
        ConfigError: They disagree (the message names both sizes and the fix).
    """
    if bar is not None:
        wanted = parse_bar(bar, flag=flag)
        if wanted != file_seconds:
            fix = f"drop {flag} (a file's bar size is read from the file)"
            if wanted > file_seconds and wanted % file_seconds == 0:
                fix += (f", or resample it first: scalpdesk data resample {source} --to "
                        f"{bar_name(wanted)} --out FILE.parquet")
            raise ConfigError(
                f"{source} holds {bar_name(file_seconds)} bars, not {bar_name(wanted)}", hint=fix)
    if model_bar is not None and model_bar != file_seconds:
        raise ConfigError(
            f"model {model_name} was trained on {bar_name(model_bar)} bars but {source} holds "
            f"{bar_name(file_seconds)} bars",
            hint=f"backtest it on {bar_name(model_bar)} bars (resample with `scalpdesk data "
                 f"resample … --to {bar_name(model_bar)}`), or train a model on these bars")
