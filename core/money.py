"""One money format for every terminal line, table, text report and HTML page: ``−$3.65``.

A true minus sign (U+2212) before the dollar sign, thousands separators, cents; ``+$3.65``
where a sign is wanted on gains too (per-trade figures in tables); ``–`` for a missing value
(``None`` or NaN), so a column never shows ``nan`` or ``$-12.09``.
"""

from __future__ import annotations

import math

#: U+2212, the minus sign typeset in finance tables (not a hyphen).
MINUS = "\u2212"
#: Shown for a missing value.
MISSING = "–"


def money(x: float | None, *, signed: bool = False, cents: bool = True) -> str:
    """``−$3.65`` / ``$3.65`` (``+$3.65`` with ``signed``); ``–`` for None or NaN.

    Args:
        x: Dollars.
        signed: Put ``+`` before positive amounts (and zero stays ``$0.00``).
        cents: Two decimals (True) or whole dollars.
    """
    if x is None:
        return MISSING
    x = float(x)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return f"{MINUS}∞" if x < 0 else "∞"
    body = f"${abs(x):,.2f}" if cents else f"${abs(x):,.0f}"
    if body in ("$0.00", "$0"):
        return body
    if x < 0:
        return MINUS + body
    return ("+" + body) if signed else body
