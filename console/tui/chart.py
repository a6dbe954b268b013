"""A small text line chart (eighth-block columns) for prices and equity curves.

textual-plotext is not installed in this project's environment (and no new dependency may
be added), so the console draws its own: ``render_chart(values, width, height)`` returns
``height`` strings of ``width`` characters, deterministic for snapshot tests.
"""

from __future__ import annotations

from collections.abc import Sequence

_BLOCKS = " ▁▂▃▄▅▆▇█"


def _resample(values: Sequence[float], width: int) -> list[float]:
    # The last value of each bucket: a chart of "where the price was", newest at the right.
    n = len(values)
    if n <= width:
        return list(values)
    return [values[min(n - 1, (i + 1) * n // width - 1)] for i in range(width)]


def render_chart(values: Sequence[float], width: int, height: int) -> list[str]:
    """Filled columns scaled between the series' min and max.

    Args:
        values: The series, oldest first (at most ``width`` points are drawn).
        width: Columns of the chart.
        height: Rows of the chart.

    Returns:
        ``height`` lines, top row first (blank lines for an empty series).
    """
    width, height = max(width, 1), max(height, 1)
    pts = _resample([float(v) for v in values], width)
    if not pts:
        return [" " * width for _ in range(height)]
    lo, hi = min(pts), max(pts)
    span = hi - lo
    levels = height * 8
    # A flat series sits at one third of the height rather than on the floor (visible).
    cols = [max(1, round((v - lo) / span * (levels - 1)) + 1) if span > 0 else levels // 3 or 1
            for v in pts]
    rows = []
    for r in range(height - 1, -1, -1):
        base = r * 8
        rows.append("".join(_BLOCKS[min(max(c - base, 0), 8)] for c in cols).ljust(width))
    return rows
