"""Instrument specifications: tick size, tick value, contract months, fees.

The core is instrument-agnostic: everything that turns prices into money asks the
:class:`Instrument`. Futures use a fixed tick; crypto pairs use a percentage tick model
(the price grid is ``tick_size`` but thresholds are expressed as a fraction of price).

Quantities: a futures position is a whole number of contracts. A crypto spot position is a
quantity of the base asset in multiples of ``lot_size`` (Binance's LOT_SIZE step: 0.00001
BTC); the risk kernel counts it in *lots*, so one "contract" of the kernel is one lot and its
tick value is ``tick_value × lot_size`` (:attr:`Instrument.lot_tick_value`). An order must be
worth at least ``min_notional`` in the quote currency. Fees are a fraction of the notional per
side (``maker_fee`` for orders resting on the book, ``taker_fee`` for market orders); profiles
may override them with the fees the user actually pays.

Crypto numbers (Binance spot, regular user, no BNB discount) are dated in ``fees_as_of``:
exchanges change filters and fees — check ``GET /api/v3/exchangeInfo`` and the fee page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

#: CME quarterly month codes used by the equity index futures.
QUARTERLY_MONTHS: tuple[str, ...] = ("H", "M", "U", "Z")
MONTH_CODES: dict[str, int] = {
    "F": 1, "G": 2, "H": 3, "J": 4, "K": 5, "M": 6,
    "N": 7, "Q": 8, "U": 9, "V": 10, "X": 11, "Z": 12,
}


class TickModel(str, Enum):
    """How price thresholds are expressed for an instrument."""

    FIXED = "fixed"  #: thresholds in ticks (futures)
    PERCENT = "percent"  #: thresholds in percent of price (crypto)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument's static specification.

    Attributes:
        symbol: Root symbol (``MES``) or pair (``BTCUSDT``).
        name: Human-readable name.
        tick_size: Minimum price increment in price units.
        tick_value: Money value of one tick for one contract (USD).
        months: Listed contract months (codes), empty for perpetual/spot.
        exchange: Exchange/venue name.
        timezone: Exchange time zone used for sessions.
        tick_model: Fixed-tick futures or percentage-threshold crypto.
        micro_ratio: How many of this contract make one "mini" for prop-firm caps
            (MES counts 1/10 of ES, so 10); 1 for full-size contracts.
        projectx_symbol_id: The ProjectX ``symbolId`` for contract lookup, if any.
        lot_size: Quantity step: 1 (whole contracts) for futures; base units per lot for
            crypto (BTCUSDT 0.00001 BTC). Sizes are rounded DOWN to it.
        min_notional: Smallest order value in the quote currency (0 = none).
        maker_fee: Fee as a fraction of notional per side for resting (limit) orders.
        taker_fee: Fee as a fraction of notional per side for market orders.
        fees_as_of: When the exchange filters and fees above were last checked.
        fractional_volume: Volume is a fractional base-asset amount (crypto), not whole
            contracts; readers and the catalog keep it as float.
        continuous: Trades 24/7 (no sessions, no holidays): validation counts every missing
            bar as a gap, resampling never splits at a session, labels never stop at one.
    """

    symbol: str
    name: str
    tick_size: float
    tick_value: float
    months: tuple[str, ...] = QUARTERLY_MONTHS
    exchange: str = "CME"
    timezone: str = "America/Chicago"
    tick_model: TickModel = TickModel.FIXED
    micro_ratio: int = 1
    projectx_symbol_id: str | None = None
    lot_size: float = 1.0
    min_notional: float = 0.0
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    fees_as_of: str | None = None
    fractional_volume: bool = False
    continuous: bool = False

    @property
    def point_value(self) -> float:
        """Money value of a one-point move for one contract."""
        return self.tick_value / self.tick_size

    @property
    def percent(self) -> bool:
        """True when brackets, slippage and thresholds are a fraction of price (crypto)."""
        return self.tick_model is TickModel.PERCENT

    @property
    def lot_tick_value(self) -> float:
        """Money value of one tick for one LOT (the risk kernel's unit of size)."""
        return self.tick_value * self.lot_size

    def round_to_tick(self, price: float) -> float:
        """Round ``price`` to the nearest tick (half away from zero, as exchanges do)."""
        ticks = price / self.tick_size
        rounded = math.floor(abs(ticks) + 0.5) * (1 if ticks >= 0 else -1)
        return round(rounded * self.tick_size, 10)

    def on_tick(self, price: float, tol: float = 1e-6) -> bool:
        """Whether ``price`` lies on the tick grid (within a float tolerance in ticks)."""
        ticks = price / self.tick_size
        return abs(ticks - round(ticks)) <= tol

    def ticks_between(self, a: float, b: float) -> float:
        """Signed number of ticks from ``a`` to ``b``."""
        return (b - a) / self.tick_size

    def pnl(self, entry: float, exit: float, contracts: int, direction: int) -> float:
        """Gross P&L in money of a round trip (direction +1 long, -1 short)."""
        return (exit - entry) / self.tick_size * self.tick_value * contracts * direction


#: When the crypto filters and fees below were taken from Binance's published schedule.
CRYPTO_SPECS_AS_OF = "2025-01-01"


def _spot(symbol: str, name: str, tick: float, lot: float) -> Instrument:
    """A Binance spot pair quoted in USDT (24/7, percentage thresholds, fractional volume)."""
    return Instrument(symbol, name, tick, tick, months=(), exchange="crypto", timezone="UTC",
                      tick_model=TickModel.PERCENT, lot_size=lot, min_notional=5.0,
                      maker_fee=0.001, taker_fee=0.001, fees_as_of=CRYPTO_SPECS_AS_OF,
                      fractional_volume=True, continuous=True)


INSTRUMENTS: dict[str, Instrument] = {
    "MES": Instrument("MES", "Micro E-mini S&P 500", 0.25, 1.25, micro_ratio=10,
                      projectx_symbol_id="F.US.MES"),
    "ES": Instrument("ES", "E-mini S&P 500", 0.25, 12.50, projectx_symbol_id="F.US.EP"),
    "MNQ": Instrument("MNQ", "Micro E-mini Nasdaq-100", 0.25, 0.50, micro_ratio=10,
                      projectx_symbol_id="F.US.MNQ"),
    "NQ": Instrument("NQ", "E-mini Nasdaq-100", 0.25, 5.00, projectx_symbol_id="F.US.ENQ"),
    # Binance spot (tick = PRICE_FILTER tickSize, lot = LOT_SIZE stepSize, NOTIONAL
    # minNotional 5 USDT; fees: regular user 0.1 % maker and taker). tick_value is per WHOLE
    # base unit (0.01 USDT per 0.01 move of 1 BTC); the kernel's per-lot value is
    # lot_tick_value.
    "BTCUSDT": _spot("BTCUSDT", "Bitcoin / Tether (spot)", 0.01, 0.00001),
    "ETHUSDT": _spot("ETHUSDT", "Ether / Tether (spot)", 0.01, 0.0001),
    "BNBUSDT": _spot("BNBUSDT", "BNB / Tether (spot)", 0.01, 0.001),
    "SOLUSDT": _spot("SOLUSDT", "Solana / Tether (spot)", 0.01, 0.001),
    # Equity ETFs appear in the development data; a cent tick, $0.01 per share.
    "SPY": Instrument("SPY", "SPDR S&P 500 ETF", 0.01, 0.01, months=(), exchange="ARCA",
                      timezone="America/New_York"),
    "QQQ": Instrument("QQQ", "Invesco QQQ ETF", 0.01, 0.01, months=(), exchange="NASDAQ",
                      timezone="America/New_York"),
}


def root_of(symbol: str) -> str:
    """Return the root of a contract code: ``MESZ3`` → ``MES``, ``ESH24`` → ``ES``.

    Symbols that are already roots (or unknown) come back unchanged.
    """
    s = symbol.upper().strip()
    if s in INSTRUMENTS:
        return s
    # A contract code is root + month letter + 1–2 year digits.
    i = len(s)
    while i > 0 and s[i - 1].isdigit():
        i -= 1
    if 0 < i < len(s) and s[i - 1] in MONTH_CODES and s[: i - 1] in INSTRUMENTS:
        return s[: i - 1]
    return s


def get_instrument(symbol: str) -> Instrument:
    """Look up an instrument by root or contract code.

    Raises:
        KeyError: If the root is unknown (the message lists the known roots).
    """
    root = root_of(symbol)
    try:
        return INSTRUMENTS[root]
    except KeyError:
        known = ", ".join(sorted(INSTRUMENTS))
        raise KeyError(f"unknown instrument {symbol!r}; known: {known}") from None
