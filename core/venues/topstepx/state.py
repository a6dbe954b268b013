"""The client's view of orders, positions, fills and accounts, with event de-duplication.

Hub events can arrive duplicated or out of order, especially around reconnects (lumibot
PR #970); REST resyncs then overlap with them. Every update goes through :class:`VenueState`,
which keeps the newest version of each order (by ``updateTimestamp``, then by progress),
delivers each fill once, and reports whether an update changed anything (only changes are
published as events).
"""

from __future__ import annotations

from core.domain import Account, Fill, Order, OrderStatus, Position

_FINAL = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED)


def _rank(o: Order) -> tuple[int, int, int]:
    """Ordering key of two versions of one order: time, then finality, then fill progress."""
    return (o.updated_ts, 1 if o.status in _FINAL else 0, o.filled_size)


class VenueState:
    """Latest known orders / positions / accounts, and the ids of fills already delivered."""

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.positions: dict[tuple[int, str], Position] = {}
        self.accounts: dict[int, Account] = {}
        self.fill_ids: set[int] = set()
        self.last_fill_ts = 0
        self.server_ts = 0  #: newest timestamp seen from the server (its clock, not ours)

    def _seen(self, ts: int) -> None:
        if ts > self.server_ts:
            self.server_ts = ts

    def apply_order(self, order: Order) -> bool:
        """Store ``order`` if newer than what we have; True when it changed our view."""
        self._seen(order.updated_ts)
        prev = self.orders.get(order.id)
        if prev is not None:
            if prev == order:
                return False  # duplicate
            if _rank(order) < _rank(prev):
                return False  # stale (reordered) version
            if prev.status in _FINAL and order.status not in _FINAL \
                    and order.updated_ts <= prev.updated_ts:
                return False  # a final state never goes back without a newer timestamp
        self.orders[order.id] = order
        return True

    def apply_position(self, pos: Position) -> bool:
        """Store a position (size 0 = flat); True when it changed our view."""
        key = (pos.account_id, pos.contract_id)
        prev = self.positions.get(key)
        if prev is not None and (prev.type, prev.size, prev.average_price) == \
                (pos.type, pos.size, pos.average_price):
            return False
        if prev is None and pos.size == 0:
            self.positions[key] = pos
            return False  # flat and we never had it: nothing to tell
        self.positions[key] = pos
        return True

    def apply_fill(self, fill: Fill) -> bool:
        """Record a fill; True the first time this fill id is seen."""
        self._seen(fill.ts)
        if fill.id in self.fill_ids:
            return False
        self.fill_ids.add(fill.id)
        self.last_fill_ts = max(self.last_fill_ts, fill.ts)
        return True

    def apply_account(self, account: Account) -> bool:
        """Store an account; True when it changed."""
        if self.accounts.get(account.id) == account:
            return False
        self.accounts[account.id] = account
        return True

    def working(self, account_id: int, contract_id: str | None = None) -> list[Order]:
        """Orders we believe are still working."""
        return [o for o in self.orders.values()
                if o.account_id == account_id and o.is_working
                and (contract_id is None or o.contract_id == contract_id)]

    def by_tag(self, account_id: int, tag: str) -> Order | None:
        """The order carrying ``tag`` (parent, not a -SL/-TP leg), if seen."""
        for o in self.orders.values():
            if o.account_id == account_id and o.custom_tag == tag:
                return o
        return None
