"""Positions, half-turn trades, fees and balances of the simulated accounts.

Netting rules (§4.9/§4.10): one net position per account and contract; adding to a position
moves the size-weighted average price; reducing keeps it; crossing through zero opens the rest
at the fill price; a flat position drops out of ``Position/searchOpen``. Every fill is one
half-turn trade row: ``profitAndLoss`` is None for a purely opening fill and the **gross**
realized P&L (fees reported separately) when the fill closes contracts. The balance moves by
``pnl - fees - commissions`` on **every** fill (fees are charged on opening fills too).
"""

from __future__ import annotations

from core.domain.types import Side
from core.venues.sim.models import SimAccount, SimContract, SimPosition, SimTrade


class Ledger:
    """Accounting of one simulated venue (no I/O, deterministic ids).

    Args:
        accounts: The accounts, keyed by id.
        contracts: The contracts, keyed by id.
        first_trade_id: First trade id (int64 on the wire; the default exceeds 2^31 on purpose).
    """

    def __init__(self, accounts: dict[int, SimAccount], contracts: dict[str, SimContract],
                 first_trade_id: int = 5_100_000_000) -> None:
        self.accounts = accounts
        self.contracts = contracts
        self.positions: dict[tuple[int, str], SimPosition] = {}
        self.trades: list[SimTrade] = []
        self._next_trade = first_trade_id
        self._next_position = 700_000

    def position(self, account_id: int, contract_id: str) -> SimPosition | None:
        """The open (non-flat) position, or None."""
        p = self.positions.get((account_id, contract_id))
        return p if p is not None and p.net != 0 else None

    def has_position(self, account_id: int) -> bool:
        """Whether the account holds any open position (cheap; hot path of the risk checks)."""
        return any(p.net for (a, _), p in self.positions.items() if a == account_id)

    def open_positions(self, account_id: int) -> list[SimPosition]:
        """Non-flat positions of an account, by id."""
        return sorted((p for (a, _), p in self.positions.items() if a == account_id and p.net),
                      key=lambda p: p.id)

    def apply_fill(self, account_id: int, contract_id: str, sign: int, qty: int, price: int,
                   order_id: int, ts_ns: int) -> tuple[SimTrade, SimPosition, bool]:
        """Book one execution.

        Args:
            account_id: Account.
            contract_id: Contract.
            sign: +1 buy, -1 sell.
            qty: Contracts (> 0).
            price: Fill price in ticks.
            order_id: The order that filled.
            ts_ns: Execution time.

        Returns:
            (trade, position, opened): the half-turn row, the position after the fill (possibly
            flat) and whether the position row is new (it was flat before).
        """
        c = self.contracts[contract_id]
        key = (account_id, contract_id)
        pos = self.positions.get(key)
        opened = pos is None or pos.net == 0
        if opened:
            pos = SimPosition(id=self._next_position, account_id=account_id,
                              contract_id=contract_id, created_ns=ts_ns)
            self._next_position += 1
            self.positions[key] = pos
        assert pos is not None
        n, s = pos.net, sign * qty
        pnl: float | None = None
        if n == 0 or (n > 0) == (s > 0):
            pos.avg_ticks = (abs(n) * pos.avg_ticks + qty * price) / (abs(n) + qty)
        else:
            closing = min(qty, abs(n))
            pnl = round((price - pos.avg_ticks) * closing * (1 if n > 0 else -1) * c.tick_value, 10)
            if qty > abs(n):  # crossed through zero: the rest opens at the fill price
                pos.avg_ticks = float(price)
        pos.net = n + s
        if pos.net == 0:
            pos.avg_ticks = 0.0
        fees = round(c.fees_per_side * qty, 10)
        comm = round(c.commissions_per_side * qty, 10)
        trade = SimTrade(id=self._next_trade, account_id=account_id, contract_id=contract_id,
                         created_ns=ts_ns, price_ticks=price, side=Side.BUY if sign > 0 else Side.SELL, size=qty,
                         order_id=order_id, fees=fees, commissions=comm, pnl=pnl)
        self._next_trade += 1
        self.trades.append(trade)
        acct = self.accounts[account_id]
        acct.balance = round(acct.balance + (pnl or 0.0) - fees - comm, 10)
        return trade, pos, opened

    def unrealized(self, account_id: int, marks: dict[str, tuple[int | None, int | None]]) -> float:
        """Open P&L in dollars, marking longs at the bid and shorts at the ask (liquidation value).

        Args:
            account_id: Account.
            marks: contract id → (bid, ask) in ticks; a missing side marks at the average (0 P&L).
        """
        total = 0.0
        for p in self.open_positions(account_id):
            bid, ask = marks.get(p.contract_id, (None, None))
            px = bid if p.net > 0 else ask
            if px is None:
                continue
            total += (px - p.avg_ticks) * p.net * self.contracts[p.contract_id].tick_value
        return total
