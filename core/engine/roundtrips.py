"""Round-trip accounting of the live engine: fills in, booked trades out.

The broker's fills are the truth: a round trip starts when our fill-implied position leaves
zero and is booked ONCE when it returns to zero (net of the fills' fees), whatever order the
fills arrive in and however often the stream repeats them (dedupe on the fill id). The trade
log has the backtester's columns so the parity test compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class RoundTrips:
    """Fill-by-fill accounting for one contract.

    Args:
        point_value: Dollars per point of the contract (tick value / tick size).
    """

    def __init__(self, point_value: float) -> None:
        self.pv = float(point_value)
        self.position = 0                    #: position implied by our fills (vs the broker's)
        self.cash = 0.0                      #: cash flow of the open round trip
        self.fees = 0.0
        self.open: dict[str, Any] = {}       #: the open round trip (entry, legs, best price)
        self.exit_why: dict[str, str] = {}   #: exit order tag → the trade's exit reason
        self.trades: list[dict[str, Any]] = []   #: the booked round trips
        self._seen: set[int] = set()

    def seen(self, fill_id: int) -> bool:
        """Whether a fill id was already booked (without marking it)."""
        return fill_id in self._seen

    def is_new(self, fill_id: int) -> bool:
        """True the first time a fill id is seen (duplicated and replayed fills book once)."""
        if fill_id in self._seen:
            return False
        self._seen.add(fill_id)
        return True

    def on_fill(self, ts_ns: int, direction: int, size: int, price: float, fees: float,
                exit_reason: Callable[[], str]) -> float | None:
        """Book one fill; returns the round trip's net P&L when this fill closed it.

        Args:
            ts_ns: Fill time.
            direction: +1 buy, −1 sell.
            size: Contracts filled.
            price: Fill price.
            fees: Fees and commissions of this fill.
            exit_reason: Called for a closing fill: why the trade ended (stop, target,
                signal, flatten…), decided by the caller from the order that filled.
        """
        t = self.open
        if not t:
            t.update(entry_ns=int(ts_ns), direction=direction, opening=[], closing=[],
                     reason="")
        leg = "opening" if direction == t["direction"] else "closing"
        t[leg].append((int(size), float(price)))
        if leg == "closing":
            t["exit_ns"] = int(ts_ns)
            t["reason"] = exit_reason()
        self.cash -= direction * size * price * self.pv
        self.fees += float(fees)
        self.position += direction * size
        if self.position != 0:
            return None
        net = self.cash - self.fees
        self._book(net)
        self.cash = self.fees = 0.0
        return net

    def adopt(self, position: int, avg_price: float, ts_ns: int) -> None:
        """A position that began before this run (restart): account for it from the broker's
        average price so its exit books a whole round trip."""
        self.position = int(position)
        if position:
            d = 1 if position > 0 else -1
            self.cash = -position * float(avg_price) * self.pv
            self.open = {"entry_ns": int(ts_ns), "direction": d,
                         "opening": [(abs(int(position)), float(avg_price))], "closing": [],
                         "reason": ""}

    def _book(self, net: float) -> None:
        t, self.open = self.open, {}
        if not t:
            return

        def avg(legs: list[tuple[int, float]]) -> float:
            n = sum(q for q, _ in legs)
            return sum(q * px for q, px in legs) / n if n else float("nan")
        self.trades.append({"entry_ns": t["entry_ns"], "exit_ns": t.get("exit_ns", t["entry_ns"]),
                            "direction": t["direction"],
                            "contracts": sum(q for q, _ in t["opening"]),
                            "entry_price": avg(t["opening"]), "exit_price": avg(t["closing"]),
                            "net_pnl": net, "exit_reason": t["reason"]})
