"""Series checks of core.datasets.validate: gaps, rolls and jumps, per contract.

Split from validate.py (row rules there, series rules here). A file holding several
contracts is judged per contract (issue 11, found 6): :func:`per_contract` runs
:func:`gaps_and_rolls` on each contract's own rows, then says how the contracts fit together
(trading at the same times → ``contracts``; following each other → ``roll`` in time order,
and ``contract-order`` when the rows are grouped by contract rather than by time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets.schema import NS_PER_SECOND
from core.datasets.validate import (_LARGEST_GAPS, JUMP_FACTOR, JUMP_FLOOR, _Collector, _fmt,
                                    _fmt_et)
from core.domain import Instrument


def contract_codes(symbol: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer contract code per row and the contracts (symbols) they stand for."""
    if isinstance(symbol.dtype, pd.CategoricalDtype):
        codes, cats = symbol.cat.codes.to_numpy(), symbol.cat.categories
        used = np.unique(codes)
        if len(used) < len(cats):  # unused categories are not contracts of this file
            remap = np.full(len(cats), -1, dtype=np.int64)
            remap[used] = np.arange(len(used))
            return remap[codes], cats[used]
        return codes, cats
    codes, cats = pd.factorize(symbol)
    return codes, pd.Index(cats)


def per_contract(ts: np.ndarray, px: dict[str, np.ndarray], codes: np.ndarray,
                  cats: pd.Index, groups: list[np.ndarray], bar_seconds: int,
                  inst: Instrument | None, c: _Collector) -> tuple[int, int]:
    """Several contracts in one file: each judged on its own rows, then how they fit together.

    Contracts that trade at the same times (a DBN file of every listed month) cannot form
    one series: warn and point at ``data import --by-contract``. Contracts that follow each
    other (a continuous series) are rolls, counted in time order; rows grouped by contract
    instead of by time get the sort fix.
    """
    gaps = missing = 0
    spans = []
    for g, idx in enumerate(groups):
        sub = _Collector(f"{c.source} [{cats[g]}]", c.row_offset, idx)
        sub_px = {k: v[idx] for k, v in px.items()}
        one = np.zeros(len(idx), dtype=np.int64)
        gp, ms = gaps_and_rolls(ts[idx], sub_px, one, cats[g:g + 1], bar_seconds, inst, sub)
        gaps, missing = gaps + gp, missing + ms
        c.issues.extend(sub.issues)
        spans.append((int(ts[idx].min()), int(ts[idx].max()), str(cats[g]), len(idx)))
    spans.sort()
    overlap = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] <= a[1]]
    listed = ", ".join(f"{name} ({rows:,} rows, {_fmt_et(lo)[:10]} → {_fmt_et(hi)[:10]})"
                       for lo, hi, name, rows in spans[:6])
    if overlap:
        a, b = overlap[0]
        c.plain("warning", "contracts", f"holds {len(spans)} contracts that trade at the same "
                f"times ({listed}; e.g. {a[2]} and {b[2]} both from {_fmt_et(b[0])}): each "
                "contract was judged on its own rows; one continuous series cannot hold them",
                len(spans), "import one series per contract: scalpdesk data import FILE "
                "--by-contract (catalog roots such as "
                f"{spans[0][2]}), or keep one contract per time (the front month)")
        return gaps, missing
    # Contracts follow each other: a continuous series. Rolls in time order, not file order.
    order = np.argsort(ts, kind="stable")
    change = np.flatnonzero(codes[order][1:] != codes[order][:-1])
    oc, oo = px["close"][order], px["open"][order]
    shown = "; ".join(f"{cats[codes[order][i]]} → {cats[codes[order][i + 1]]} at "
                      f"{_fmt_et(ts[order][i + 1])} ({oo[i + 1] / oc[i] - 1:+.2%})"
                      for i in change[:5])
    c.plain("warning", "roll", f"contract changes {len(change)} time(s): {shown}", len(change),
            "a continuous series is not back-adjusted here; features that span the roll see "
            "a jump", row=c.row_of(int(order[change[0] + 1])) if len(change) else None)
    if len(ts) > 1 and bool((np.diff(ts) < 0).any()):
        c.plain("warning", "contract-order", f"rows are grouped by contract ({listed}), not in "
                "time order", len(spans), "sort the file by timestamp before using it as one "
                "series (e.g. pandas: df.sort_values('timestamp').to_parquet(OUT)), or import "
                "it with --by-contract (one series per contract)")
    return gaps, missing


def gaps_and_rolls(ts: np.ndarray, px: dict[str, np.ndarray], codes: np.ndarray,
                    cats: pd.Index, bar_seconds: int, inst: Instrument | None,
                    c: _Collector) -> tuple[int, int]:
    from core.datasets import _validate_kernels as k

    bar_ns = int(bar_seconds) * NS_PER_SECOND
    cme = inst is not None and inst.exchange == "CME"
    if cme:
        from core import calendar

        day = calendar.session_id(ts)
        c.mask("warning", "outside-session", day < 0,
               "bar outside CME Globex trading hours (halt, weekend or holiday)",
               "check the time zone of the source (--tz) or an old session schedule")
        max_step = 0
    elif inst is not None and inst.continuous:
        # 24/7 markets have no session break: every missing bar is a gap (an exchange outage
        # or maintenance window shows up here), however long.
        day = np.zeros(len(ts), dtype=np.int64)
        max_step = 0
    else:
        # No exchange calendar: steps under 1 h on the same local day are gaps; longer ones
        # are session breaks (the shared data README uses the same rule).
        zone = inst.timezone if inst is not None else "UTC"
        day = (pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert(zone)
               .tz_localize(None).asi8 if zone != "UTC" else ts) // (86_400 * NS_PER_SECOND)
        max_step = 3600 * NS_PER_SECOND
    gaps, missing, first_gap, big, breaks = k.gap_scan(ts, np.asarray(day, dtype=np.int64),
                                                       bar_ns, max_step, _LARGEST_GAPS)
    if gaps:
        when = _fmt if inst is not None and inst.continuous else _fmt_et   # crypto lives in UTC
        largest = "; ".join(f"{when(ts[i - 1])} → {when(ts[i])} "
                            f"({(ts[i] - ts[i - 1]) // NS_PER_SECOND:,} s)" for i in big if i > 0)
        c.plain("warning", "gaps", f"{gaps:,} gap(s) in trading hours, {missing:,} "
                f"missing {bar_seconds} s bar(s); largest: {largest}", int(gaps),
                "bars without trades are absent by design; large gaps may be lost data — "
                "backfill them if so", row=c.row_of(int(first_gap)))
    _rolls(ts, px, codes, cats, breaks, inst, c)
    _mid_session_jumps(ts, px, day, breaks, inst, c)
    return int(gaps), int(missing)


def _rolls(ts: np.ndarray, px: dict[str, np.ndarray], codes: np.ndarray, cats: pd.Index,
           breaks: np.ndarray, inst: Instrument | None, c: _Collector) -> None:
    """Contract changes (symbol codes) and outsized session-open jumps, as warnings."""
    if len(cats) > 1:
        change = np.flatnonzero(codes[1:] != codes[:-1])
        if len(change):
            shown = "; ".join(f"{cats[codes[i]]} → {cats[codes[i + 1]]} at {_fmt_et(ts[i + 1])}"
                              for i in change[:5])
            c.plain("warning", "roll", f"contract changes {len(change)} time(s): {shown}",
                    len(change), "a continuous series is not back-adjusted here; features "
                    "that span the roll see a jump", row=c.row_of(int(change[0]) + 1))
    if inst is None or not inst.months or len(breaks) < 3:
        return  # no contract months: no rolls (ETFs, crypto)
    prev_close, next_open = px["close"][breaks - 1], px["open"][breaks]
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = np.abs(next_open / prev_close - 1.0)
    jump = np.where(np.isfinite(jump), jump, 0.0)
    typical = float(np.median(jump))
    limit = max(JUMP_FACTOR * typical, JUMP_FLOOR)
    big = breaks[jump > limit]
    if len(big):
        shown = "; ".join(f"{_fmt_et(ts[i])} {px['open'][i] / px['close'][i - 1] - 1:+.2%}"
                          for i in big[:5])
        c.plain("warning", "open-jump", f"{len(big)} session open(s) jump more than "
                f"{limit:.2%} (typical {typical:.2%}): {shown} — an unadjusted contract roll "
                "or a news gap", len(big),
                "if it is a roll, back-adjust or split the series at the roll",
                row=c.row_of(int(big[0])))


def _mid_session_jumps(ts: np.ndarray, px: dict[str, np.ndarray], day: np.ndarray,
                       breaks: np.ndarray, inst: Instrument | None, c: _Collector) -> None:
    """Jumps between two bars *inside* a session (issue 11, found 6).

    In continuous trading a bar opens within a few ticks of the previous close; a +0.75 %
    step from one minute to the next is a contract roll spliced into a root-only series (or
    bad prints), wherever in the session it falls. Flagged above :data:`JUMP_FLOOR` and
    :data:`JUMP_FACTOR` times the 99.9th percentile of such steps in the file.
    """
    n = len(ts)
    if inst is None or not inst.months or n < 3:
        return
    inside = np.ones(n, dtype=bool)
    inside[0] = False
    inside[breaks] = False
    inside &= np.asarray(day) >= 0
    idx = np.flatnonzero(inside)
    if not len(idx):
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        step = px["open"][idx] / px["close"][idx - 1] - 1.0
    step = np.where(np.isfinite(step), step, 0.0)
    size = np.abs(step)
    q = float(np.quantile(size, 0.999)) if len(size) >= 1000 else 0.0
    limit = max(JUMP_FLOOR, JUMP_FACTOR * q)
    big = np.flatnonzero(size > limit)
    if not len(big):
        return
    shown = "; ".join(f"{_fmt_et(ts[idx[j]])} {step[j]:+.2%} ({px['close'][idx[j] - 1]:g} → "
                      f"{px['open'][idx[j]]:g})" for j in big[:5])
    c.plain("warning", "jump", f"{len(big)} jump(s) above {limit:.2%} between bars inside a "
            f"session: {shown} — an unadjusted contract roll or bad prints", len(big),
            "if it is a roll, split the series there or back-adjust it; if bad prints, repair "
            "those bars", row=c.row_of(int(idx[big[0]])))
