"""Where the simulator's replay bars come from: a file, a catalog entry or generated data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core.domain.instruments import root_of
from core.errors import DataError


def load_replay_bars(data: str | None, *, symbol: str = "MES", start: str | None = None,
                     end: str | None = None, days: int = 1, seed: int = 0,
                     progress: Callable[[float], None] | None = None,
                     generate_from: str | None = None, bar: str | None = None
                     ) -> tuple[pd.DataFrame, str]:
    """Bars to replay, and a one-line description of where they came from.

    Args:
        data: A bar file or directory (any format ``core.datasets.readers`` reads), a catalog
            root such as ``MES`` (``bar`` picks the size; the old ``MES:1s`` still works), or
            None for generated MES-like data.
        symbol: Instrument wanted when a file holds several roots.
        start: Optional inclusive UTC start (``YYYY-MM-DD`` or ISO time).
        end: Optional exclusive UTC end.
        days: Trading days to generate when ``data`` is None.
        seed: Seed for generated data.
        progress: Fraction-done callback while reading.
        generate_from: First calendar date (YYYY-MM-DD) of generated data.
        bar: Bar size (``1m``) of catalog data; default the only size held for the root. For
            a file it must match the file's own size.

    Raises:
        DataError: Nothing to replay (missing file, unknown catalog entry, empty range).
    """
    if data is None:
        frame, what = _generated(days, seed, generate_from)
    elif Path(data).exists():
        from core.datasets.bars import check_file_bar
        from core.datasets.readers import read_bars

        results = read_bars(data, progress=progress)
        if not results:
            raise DataError(f"{data}: no bars found", hint="point --data at a bar file or directory")
        pick = [r for r in results if root_of(str(getattr(r, "root", ""))) == root_of(symbol)]
        chosen = (pick or results)[0]
        check_file_bar(int(chosen.bar_seconds), bar, source=str(data))
        frame, what = chosen.frame, f"{data} ({getattr(chosen, 'root', '?')})"
    else:
        from core.datasets.bars import bar_name, choose_bar, looks_like_path
        from core.datasets.catalog import Catalog

        root, _, label = data.partition(":")
        if looks_like_path(root) or not root:
            raise DataError(f"--data {data!r} is neither an existing file/directory nor a catalog "
                            "entry", hint="give a bar file path, or a catalog symbol such as MES "
                            "(see `scalpdesk data info`), or leave --data out for generated bars")
        if label and bar and label != bar:
            raise DataError(f"--data {data} and --bar {bar} disagree",
                            hint=f"write --data {root} --bar {bar}")
        cat = Catalog()
        seconds = choose_bar(cat.bar_sizes(root), bar or label or None, root=root.upper(),
                             where=str(cat.root))
        frame = cat.load(root, seconds, start=start, end=end)
        what = f"catalog {root.upper()} {bar_name(seconds)}"
    # readers keep file order and may null sentinel prices: replay needs sorted, complete bars
    frame = frame.dropna(subset=["open", "high", "low", "close"]).sort_values("timestamp", kind="stable")
    frame = _clip(frame, start, end)
    if not len(frame):
        raise DataError(f"no bars to replay in {what}" + (f" between {start} and {end}" if start or end else ""),
                        hint="widen --start/--end or pick another file")
    return frame.reset_index(drop=True), what


def _clip(frame: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    ts = frame["timestamp"]
    try:
        if start:
            frame = frame[ts >= pd.Timestamp(start, tz="UTC").value]
            ts = frame["timestamp"]
        if end:
            frame = frame[ts < pd.Timestamp(end, tz="UTC").value]
    except ValueError as exc:
        raise DataError(f"bad --start/--end: {exc}", hint="use YYYY-MM-DD or an ISO time") from None
    return frame


def _generated(days: int, seed: int, start: str | None) -> tuple[pd.DataFrame, str]:
    try:
        from core.datasets.synth import generate
    except ImportError:  # synth not available: the instant random walk
        from core.venues.sim.synthetic import random_walk_bars

        return random_walk_bars(23_400, seed), "random walk (1 s bars)"
    kw = {"start": start} if start else {}
    return (generate(days, seed, rth_only=True, **kw),
            f"synthetic MES, {days} RTH day(s), seed {seed}")


_WEEK_NS = 7 * 86_400 * 1_000_000_000


def align_to_week_of(frame: pd.DataFrame, now_ns: int, tz: str = "America/Chicago"
                     ) -> tuple[pd.DataFrame, int]:
    """Shift bars by whole weeks of *local* time so their span covers ``now_ns`` if it can.

    Weekday and exchange wall time are kept (a 09:30 ET bar stays a 09:30 ET bar, across DST),
    so session rules still line up. The shift is the largest whole number of weeks that puts
    the first bar at or before ``now_ns``; if the data is shorter than the distance to the
    same time of week, the data simply ends before ``now_ns`` and one more week is added so the
    replay lies ahead. Returns the shifted frame and the number of weeks.
    """
    ts = frame["timestamp"].to_numpy("int64")
    first, last = int(ts[0]), int(ts[-1])
    k = (now_ns - first) // _WEEK_NS
    if last + k * _WEEK_NS < now_ns:
        k += 1
    if k == 0:
        return frame, 0
    local = pd.to_datetime(ts, utc=True).tz_convert(tz).tz_localize(None) + pd.Timedelta(weeks=int(k))
    back = local.tz_localize(tz, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC")
    out = frame.copy()
    out["timestamp"] = back.as_unit("ns").asi8
    out = out.sort_values("timestamp", kind="stable").drop_duplicates("timestamp", keep="last")
    return out.reset_index(drop=True), int(k)
