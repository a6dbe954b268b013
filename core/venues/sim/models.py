"""Plain state of the simulated venue: contracts, accounts, orders, positions, trades.

Prices are held as **integer ticks** inside the engine (``price_ticks * tick_size`` is the
price) so that sums, averages and comparisons never suffer float noise; they are converted to
decimals only on the wire (see ``gateway/wire.py``). Sides, types and statuses are the
venue-neutral enums of :mod:`core.domain.types`; the gateway's integer codes exist only in the
wire layer (``gateway/wire.py`` out, ``gateway/rest.py`` in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from core.domain.types import OrderStatus, OrderType, PositionType, Side

__all__ = [
    "BracketMode", "SimContract", "SimAccount", "SimOrder", "SimPosition", "SimTrade",
    "SimEvent", "PlaceResult", "Bracket", "OrderStatus", "OrderType", "PositionType", "Side",
    "WORKING",
]

#: Statuses in which an order can still fill or be cancelled/modified.
WORKING: frozenset[OrderStatus] = frozenset({OrderStatus.OPEN, OrderStatus.PENDING,
                                             OrderStatus.SUSPENDED})


class BracketMode(str, Enum):
    """TopstepX per-account risk setting that decides whether native brackets are allowed (§5.2)."""

    AUTO_OCO = "auto_oco"  #: "Auto OCO Brackets": stopLossBracket/takeProfitBracket accepted
    POSITION = "position"  #: "Position Brackets" (TopstepX default): place with brackets → code 2


@dataclass(slots=True)
class SimContract:
    """One listed contract (ContractModel, §4.3) plus the sim's cost settings.

    Attributes:
        id: ``CON.F.US.MES.Z25`` style id (opaque string on the wire).
        name: ``MESZ5``.
        description: Human text.
        symbol_id: ``F.US.MES``.
        tick_size: Price increment.
        tick_value: Dollars per tick per contract.
        active: Exactly one active contract per root (§8).
        fees_per_side: Reported in the trade's ``fees`` field per contract per fill.
        commissions_per_side: Reported in ``commissions`` per contract per fill. The defaults
            (0.37 + 0.24 = 0.61 per side = $1.22 round trip) follow §9.4 for MES.
        micro_ratio: How many make one mini for Topstep caps (MES: 10).
    """

    id: str
    name: str
    description: str
    symbol_id: str
    tick_size: float
    tick_value: float
    active: bool = True
    fees_per_side: float = 0.37
    commissions_per_side: float = 0.24
    micro_ratio: int = 1

    def to_ticks(self, price: float) -> int:
        """Nearest tick count of ``price``."""
        return int(round(price / self.tick_size))

    def on_grid(self, price: float) -> bool:
        """Whether ``price`` lies on the tick grid (tolerating decimal→float noise)."""
        t = price / self.tick_size
        return abs(t - round(t)) <= 1e-6

    def price(self, ticks: int) -> float:
        """Price of a tick count, rounded to kill float noise."""
        return round(ticks * self.tick_size, 10)


@dataclass(slots=True)
class SimAccount:
    """A simulated account (AccountModel, §4.2) and its sim-only settings."""

    id: int
    name: str
    balance: float
    can_trade: bool = True
    is_visible: bool = True
    simulated: bool = True
    active: bool = True
    bracket_mode: BracketMode = BracketMode.AUTO_OCO
    starting_balance: float = 0.0
    #: Why trading was disabled (MLL breach, ...); sim-only, not on the wire.
    disabled_reason: str | None = None


@dataclass(slots=True)
class Bracket:
    """A native bracket request leg ``{ticks, type}`` (§5.2)."""

    ticks: int
    type: OrderType


@dataclass(slots=True)
class SimOrder:
    """A working or finished order (OrderModel, §4.8). Prices in ticks."""

    id: int
    account_id: int
    contract_id: str
    symbol_id: str
    type: OrderType
    side: Side
    size: int
    created_ns: int
    updated_ns: int
    status: OrderStatus = OrderStatus.PENDING
    limit_ticks: int | None = None
    stop_ticks: int | None = None
    fill_volume: int = 0
    #: Volume-weighted fill price in (float) ticks; None until the first fill.
    filled_ticks: float | None = None
    custom_tag: str | None = None
    trail_distance: int | None = None
    parent_order_id: int | None = None
    linked_order_id: int | None = None
    #: Bracket legs requested on the entry (only on parents, until they are created).
    sl_bracket: Bracket | None = None
    tp_bracket: Bracket | None = None
    #: Child order ids (entry → its bracket legs).
    children: list[int] = field(default_factory=list)
    #: ``"SL"`` or ``"TP"`` on a bracket leg, None otherwise.
    leg: str | None = None
    #: Trailing stop: the stop level is ``stop_ticks``; a triggered stop fills as market.
    triggered: bool = False
    #: Internal orders (closeContract, liquidations) skip risk checks.
    internal: bool = False

    @property
    def remaining(self) -> int:
        """Contracts still to fill."""
        return self.size - self.fill_volume

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return int(self.side)


@dataclass(slots=True)
class SimPosition:
    """Net position of one account in one contract (PositionModel, §4.9)."""

    id: int
    account_id: int
    contract_id: str
    created_ns: int
    #: Signed size: > 0 long, < 0 short, 0 flat.
    net: int = 0
    #: Average entry price in (float) ticks.
    avg_ticks: float = 0.0

    @property
    def type(self) -> PositionType:
        """Direction of the current net size."""
        if self.net > 0:
            return PositionType.LONG
        if self.net < 0:
            return PositionType.SHORT
        return PositionType.FLAT


@dataclass(slots=True)
class SimTrade:
    """One half-turn execution (TradeModel, §4.10)."""

    id: int
    account_id: int
    contract_id: str
    created_ns: int
    price_ticks: int
    side: Side
    size: int
    order_id: int
    fees: float
    commissions: float
    #: Gross realized P&L in dollars; None for an opening fill.
    pnl: float | None = None
    voided: bool = False


@dataclass(slots=True)
class SimEvent:
    """Something the user hub should publish.

    Attributes:
        kind: ``"account"``, ``"order"``, ``"position"`` or ``"trade"``.
        account_id: Whose event it is.
        obj: The model object (a snapshot is serialised at publish time).
        action: Wrapped-shape action (0 created, 1 updated, 2 position closed; §7.5).
    """

    kind: str
    account_id: int
    obj: object
    action: int = 1


@dataclass(slots=True, frozen=True)
class PlaceResult:
    """Outcome of a mutation: ``error_code`` 0 is success (per-endpoint code tables of §4)."""

    error_code: int = 0
    message: str | None = None
    order_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error_code == 0
