"""Turning naive local stamps into UTC, DST-aware, and catching a wrong zone guess.

Rules (requirements §3: store UTC, sessions in America/New_York):

* A *nonexistent* local time (the hour skipped when clocks spring forward) cannot be a real
  stamp in that zone: it is reported with its row number, never shifted.
* An *ambiguous* local time (the hour repeated when clocks fall back) is resolved only when
  the data make the order obvious: inside one night's run of ambiguous rows the wall clock
  goes 01:00…01:59 then wraps back to 01:00…01:59 exactly once — rows before the wrap are
  daylight time, rows after it standard time (pandas calls this ``ambiguous='infer'``).
  A run without exactly one wrap is reported with its row number.
* A wrong zone guess shows up for CME equity futures as bars in the daily 17:00–18:00 ET
  halt or in the weekend closure. When more than 2 % of bars land there the import stops,
  names the zone that fits best, and suggests ``--tz``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets.schema import NS_PER_SECOND
from core.domain import INSTRUMENTS
from core.errors import DataError

#: Zones tried when the given one does not fit the exchange hours.
CANDIDATE_ZONES: tuple[str, ...] = (
    "UTC", "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London",
    "Europe/Berlin", "Asia/Tokyo",
)
#: Share of bars inside the closed hours above which the zone is judged wrong. A correct
#: zone gives ~0 % on the post-2015 schedule and ~1.1 % on the pre-2015 one (17:00-17:15 ET
#: traded then); a one-hour error gives ~4 %, a UTC/ET mix-up ~4-20 %.
WRONG_ZONE_SHARE: float = 0.02
_SAMPLE = 200_000


def localize(naive_ns: np.ndarray, tz: str, *, source: str, notes: list[str],
             row_offset: int = 0, row_word: str = "data row") -> np.ndarray:
    """Convert naive wall-clock ns in ``tz`` to UTC ns.

    Args:
        naive_ns: Wall-clock stamps as int64 ns (as if UTC).
        tz: IANA zone the stamps are in.
        source: File name for messages.
        notes: Receives a note when ambiguous times were inferred.
        row_offset: Added to the 0-based index to give the reported row number (1-based).
        row_word: How to name a row in messages (``"data row"``/``"line"``).

    Raises:
        DataError: Unknown zone, nonexistent times, or ambiguous times that cannot be ordered.
    """
    if tz.upper() in ("UTC", "ETC/UTC", "Z"):
        return np.asarray(naive_ns, dtype=np.int64)
    idx = pd.DatetimeIndex(np.asarray(naive_ns, dtype=np.int64).view("datetime64[ns]"))
    try:
        loc = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    except Exception as exc:  # unknown zone names surface as several exception types
        raise DataError(f"{source}: unknown time zone {tz!r} ({exc})",
                        hint="use an IANA name such as America/New_York, America/Chicago or UTC"
                        ) from None
    out = loc.asi8.copy()
    bad = np.flatnonzero(loc.isna())
    if len(bad) == 0:
        return out
    sub = idx[bad]
    probe = sub.tz_localize(tz, ambiguous=np.ones(len(sub), dtype=bool), nonexistent="NaT")
    nonexistent = bad[probe.isna()]
    if len(nonexistent):
        i = int(nonexistent[0])
        raise DataError(
            f"{source}: {len(nonexistent)} stamp(s) do not exist in {tz} (skipped by the "
            f"daylight-saving change), first at {row_word} {row_offset + i + 1}: "
            f"{idx[i].strftime('%Y-%m-%d %H:%M:%S')}",
            hint=f"the stamps are probably not in {tz}: pass the zone they were written in "
                 "(--tz UTC if they are UTC); they are not shifted silently")
    is_dst = _infer_ambiguous(naive_ns, bad, tz=tz, source=source, row_offset=row_offset,
                              row_word=row_word)
    fixed = sub.tz_localize(tz, ambiguous=is_dst, nonexistent="raise")
    out[bad] = fixed.asi8
    notes.append(f"{len(bad)} ambiguous fall-back stamp(s) in {tz} resolved by their order "
                 f"(first pass = daylight time, second = standard time)")
    return out


def _infer_ambiguous(naive_ns: np.ndarray, bad: np.ndarray, *, tz: str, source: str,
                     row_offset: int, row_word: str) -> np.ndarray:
    """Daylight flags for ambiguous rows, from the single wrap in each run (see module doc)."""
    vals = np.asarray(naive_ns, dtype=np.int64)[bad]
    # Runs: consecutive file rows on the same local date.
    day = vals // (86_400 * NS_PER_SECOND)
    brk = np.flatnonzero((np.diff(bad) != 1) | (np.diff(day) != 0)) + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [len(bad)]])
    is_dst = np.zeros(len(bad), dtype=bool)
    for s, e in zip(starts, ends):  # one run per fall-back night: a handful, not per row
        steps = np.diff(vals[s:e])
        wraps = np.flatnonzero(steps < 0)
        if len(wraps) != 1:
            i = int(bad[s])
            why = "appears only once" if len(wraps) == 0 else "goes back more than once"
            raise DataError(
                f"{source}: ambiguous stamps in {tz} (the repeated fall-back hour) from "
                f"{row_word} {row_offset + i + 1}: the hour {why}, so daylight and standard "
                "time cannot be told apart",
                hint="export the data in UTC (then --tz UTC) or with a UTC offset per stamp")
        is_dst[s:s + int(wraps[0]) + 1] = True
    return is_dst


def closed_share(utc_ns: np.ndarray) -> float:
    """Share of bars inside the CME equity-futures closure (daily 17-18 ET halt, weekend)."""
    if len(utc_ns) == 0:
        return 0.0
    step = max(1, len(utc_ns) // _SAMPLE)
    sample = pd.DatetimeIndex(np.asarray(utc_ns[::step], dtype=np.int64).view("datetime64[ns]"),
                              tz="UTC").tz_convert("America/New_York")
    hour = np.asarray(sample.hour)
    dow = np.asarray(sample.day_of_week)  # Monday=0
    closed = (hour == 17) | (dow == 5) | ((dow == 4) & (hour >= 17)) | ((dow == 6) & (hour < 18))
    return float(closed.mean())


def check_zone(utc_ns: np.ndarray, naive_ns: np.ndarray, *, root: str, tz: str,
               source: str) -> None:
    """Raise if stamps read in ``tz`` put a CME equity future's bars in its closed hours.

    Raises:
        DataError: Naming the share of misplaced bars and the zone that fits best.
    """
    inst = INSTRUMENTS.get(root)
    if inst is None or inst.exchange != "CME" or len(utc_ns) < 50:
        return
    share = closed_share(utc_ns)
    if share <= WRONG_ZONE_SHARE:
        return
    step = max(1, len(naive_ns) // _SAMPLE)
    sample = pd.DatetimeIndex(np.asarray(naive_ns[::step], dtype=np.int64).view("datetime64[ns]"))
    scores = []
    for rank, cand in enumerate(CANDIDATE_ZONES):
        if cand == tz:
            continue
        loc = sample.tz_localize(cand, ambiguous=False, nonexistent="shift_forward")
        scores.append((closed_share(loc.asi8), rank, cand))
    # Ties (UTC = London in winter) go to the earlier, more common candidate.
    best_share, _, best = min(scores)
    fits = best_share <= WRONG_ZONE_SHARE
    raise DataError(
        f"{source}: read as {tz}, {share:.1%} of the {root} bars fall in the daily 17:00-18:00 "
        "ET halt or the weekend closure — the stamps look like they are not in " + tz,
        hint=(f"pass --tz {best} (tz='{best}'): then {best_share:.1%} fall in closed hours"
              if fits else f"pass the zone the file was written in (--tz UTC if UTC); no "
              f"common zone fits well (best {best}: {best_share:.1%} in closed hours)"))
