"""The contracts the simulator lists: the front quarterly contract of a root and the next one."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from core.domain.instruments import get_instrument
from core.venues.sim.models import SimContract

_MONTHS = {3: "H", 6: "M", 9: "U", 12: "Z"}
_NAMES = {3: "March", 6: "June", 9: "September", 12: "December"}

#: (fees, commissions) per contract per side reported on trades; sums match Topstep's round
#: trips of §9.4 (MES/MNQ $1.22, ES/NQ $3.78; snapshot 2026-07-28). The split is UNCONFIRMED.
COSTS_PER_SIDE: dict[str, tuple[float, float]] = {
    "MES": (0.37, 0.24), "MNQ": (0.37, 0.24), "ES": (1.39, 0.50), "NQ": (1.39, 0.50),
}


def third_friday(year: int, month: int) -> date:
    """Expiry day of a CME equity-index future."""
    d = date(year, month, 1)
    d += timedelta(days=(4 - d.weekday()) % 7)
    return d + timedelta(days=14)


def front_months(day: date, roll_days: int = 8) -> list[tuple[int, int]]:
    """(year, month) of the front contract on ``day`` (rolled ``roll_days`` before expiry) and
    the next one."""
    out = []
    y, m = day.year, day.month
    while len(out) < 2:
        if m in _MONTHS and (out or day < third_friday(y, m) - timedelta(days=roll_days)):
            out.append((y, m))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def build_contracts(symbol: str, at_ns: int, fees_per_side: float | None = None,
                    commissions_per_side: float | None = None) -> list[SimContract]:
    """Front (active) and next (inactive) contract of ``symbol`` on the date of ``at_ns``.

    Ids follow ``CON.F.US.<root>.<M><YY>`` with the ProjectX root from the instrument's
    ``projectx_symbol_id`` (ES → ``EP``), names ``<symbol><M><Y>`` (§8).
    """
    inst = get_instrument(symbol)
    f, cm = COSTS_PER_SIDE.get(inst.symbol, (0.37, 0.24))
    fees_per_side = f if fees_per_side is None else fees_per_side
    commissions_per_side = cm if commissions_per_side is None else commissions_per_side
    sym_id = inst.projectx_symbol_id or f"F.US.{inst.symbol}"
    root = sym_id.rsplit(".", 1)[-1]
    day = datetime.fromtimestamp(at_ns / 1e9, tz=timezone.utc).date()
    out = []
    for i, (y, m) in enumerate(front_months(day)):
        code = _MONTHS[m]
        out.append(SimContract(
            id=f"CON.F.US.{root}.{code}{y % 100:02d}", name=f"{inst.symbol}{code}{y % 10}",
            description=f"{inst.name}: {_NAMES[m]} {y}", symbol_id=sym_id,
            tick_size=inst.tick_size, tick_value=inst.tick_value, active=(i == 0),
            fees_per_side=fees_per_side, commissions_per_side=commissions_per_side,
            micro_ratio=inst.micro_ratio))
    return out
