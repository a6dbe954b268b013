"""THE risk rule kernel (sizing, limits, pauses, kill switch, EOD schedule, prop-firm rules).

``core.risk.kernel`` holds the compiled rules over plain arrays (used by the backtest loop
and, per event, by the live engine); :class:`RiskKernel` is the Python face that takes a
Profile and answers ``check(intent)`` with :class:`Approved` or :class:`Denied` values.
"""

from core.risk.manager import (
    Approved, Denied, EntryIntent, RiskKernel, RiskStateChanged, RiskStatus,
)
from core.risk.params import RiskArrays, Schedule, build_schedule, risk_arrays

__all__ = ["Approved", "Denied", "EntryIntent", "RiskKernel", "RiskStateChanged", "RiskStatus", "RiskArrays",
           "Schedule", "build_schedule", "risk_arrays"]
