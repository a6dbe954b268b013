"""Backtest statistics as a pure function of the trade log and the equity curve.

Input contract (what ``core.backtest.run_backtest`` produces):

* ``trades`` — one row per round trip with the requirements §8 columns: ``entry_time``,
  ``exit_time`` (int64 UTC ns or tz-aware timestamps), ``direction`` (+1/−1), ``entry_price``,
  ``exit_price``, ``contracts``, ``gross_pnl``, ``commission``, ``slippage``, ``net_pnl``,
  ``exit_reason``, ``model_confidence``, ``predicted_class``, ``mfe``, ``mae``; an optional
  ``risk`` column ($ at risk at entry) enables return per dollar risked.
* ``equity`` — bar-level curve with ``timestamp`` (int64 UTC ns) and ``equity`` ($).

Daily figures use the *trading day* of core.calendar (Sunday evening belongs to Monday), or
for 24/7 markets the day from the profile's daily cut (``day_rule``, core/daycut.py), so
Sharpe and friends are computed on daily P&L, annualised with 252 trading days (365 calendar
days for continuous markets, which trade every day).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.daycut import CME, DayRule

TRADING_DAYS_PER_YEAR = 252
NS_PER_DAY = 86_400 * 1_000_000_000
TRADE_COLUMNS: tuple[str, ...] = (
    "entry_time", "exit_time", "direction", "entry_price", "exit_price", "contracts",
    "gross_pnl", "commission", "slippage", "net_pnl", "exit_reason", "model_confidence",
    "predicted_class", "mfe", "mae",
)


@dataclass(frozen=True)
class Drawdown:
    """Deepest peak-to-trough fall of the equity curve."""

    depth: float  #: $ (positive number)
    depth_pct: float  #: fraction of the peak equity
    peak_ns: int | None
    trough_ns: int | None
    recovery_ns: int | None  #: when equity regained the peak; None if never
    duration_days: float  #: peak → recovery (or → end of data if not recovered)
    longest_underwater_days: float  #: longest stretch below a previous peak


@dataclass(frozen=True)
class Stats:
    """Every §8 metric of one backtest."""

    trades: int
    starting_balance: float
    net_pnl: float
    gross_pnl: float
    commission: float
    slippage: float
    total_return: float
    annualised_return: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: Drawdown
    win_rate: float
    profit_factor: float
    expectancy: float
    avg_win: float
    avg_loss: float
    largest_win: float
    largest_loss: float
    max_win_streak: int
    max_loss_streak: int
    trading_days: int
    trades_per_day: float
    winning_day_pct: float
    worst_day: float
    best_day: float
    return_per_dollar_risked: float | None
    exit_reasons: dict[str, int] = field(default_factory=dict)
    pnl_by_hour: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (NaN/inf become None)."""
        return _jsonable(asdict(self))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def to_ns(values: pd.Series | np.ndarray) -> np.ndarray:
    """Timestamps (int64 ns, datetime64 or tz-aware) → int64 UTC ns."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").astype(np.int64)
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[ns]").view(np.int64)
    return np.asarray(arr, dtype=np.int64)  # no copy when already int64 (33 M-bar curves)


def _trading_day(ts_ns: np.ndarray, day_rule: DayRule | None = None) -> np.ndarray:
    """Trading day per timestamp (core.daycut.DayRule; default: CME sessions, falling back
    to the ET calendar date outside them)."""
    return (day_rule or CME).days(ts_ns)


def daily_pnl(trades: pd.DataFrame, day_rule: DayRule | None = None) -> pd.Series:
    """Net P&L per trading day (by exit time), indexed by the trading day as a date."""
    if trades.empty:
        return pd.Series(dtype=float)
    days = _trading_day(to_ns(trades["exit_time"]), day_rule)
    s = pd.Series(trades["net_pnl"].to_numpy(float), index=days).groupby(level=0).sum()
    s.index = pd.to_datetime(s.index.to_numpy() * NS_PER_DAY)
    s.index.name = "trading_day"
    return s


def per_day_table(trades: pd.DataFrame, day_rule: DayRule | None = None) -> pd.DataFrame:
    """One row per trading day: trades, wins, losses, gross, costs, net."""
    cols = ["trades", "wins", "losses", "gross_pnl", "costs", "net_pnl"]
    if trades.empty:
        return pd.DataFrame(columns=cols)
    days = _trading_day(to_ns(trades["exit_time"]), day_rule)
    net = trades["net_pnl"].to_numpy(float)
    df = pd.DataFrame({
        "trading_day": pd.to_datetime(days * NS_PER_DAY),
        "trades": 1, "wins": (net > 0).astype(int), "losses": (net < 0).astype(int),
        "gross_pnl": trades["gross_pnl"].to_numpy(float),
        "costs": (trades["commission"] + trades["slippage"]).to_numpy(float),
        "net_pnl": net,
    })
    return df.groupby("trading_day")[cols].sum()


def pnl_by_hour(trades: pd.DataFrame, tz: str = "America/New_York") -> dict[int, float]:
    """Net P&L grouped by the exchange-local hour of the entry."""
    if trades.empty:
        return {}
    hours = pd.to_datetime(to_ns(trades["entry_time"]), utc=True).tz_convert(tz).hour
    s = pd.Series(trades["net_pnl"].to_numpy(float)).groupby(np.asarray(hours)).sum()
    return {int(h): float(v) for h, v in s.items()}


def drawdown(equity: pd.DataFrame) -> Drawdown:
    """Deepest drawdown of a bar-level equity curve (``timestamp`` ns, ``equity``)."""
    if equity.empty:
        return Drawdown(0.0, 0.0, None, None, None, 0.0, 0.0)
    ts = to_ns(equity["timestamp"])
    eq = equity["equity"].to_numpy(float)
    peak = np.maximum.accumulate(eq)
    dd = peak - eq
    trough = int(np.argmax(dd))
    depth = float(dd[trough])
    if depth <= 0:
        return Drawdown(0.0, 0.0, None, None, None, 0.0, 0.0)
    peak_idx = int(np.flatnonzero(eq[: trough + 1] == peak[trough])[-1])
    after = np.flatnonzero(eq[trough:] >= peak[trough])
    rec = int(trough + after[0]) if after.size else None
    end_ns = ts[rec] if rec is not None else ts[-1]
    # Longest underwater stretch: runs where equity is below its running peak, measured
    # from the last bar at the peak to the first bar back at it (vectorised: a random-walk
    # curve of 33 M bars has millions of runs).
    under = np.zeros(dd.size + 2, dtype=bool)
    under[1:-1] = dd > 0
    change = np.flatnonzero(under[1:] != under[:-1])  # alternating run starts and stops
    starts, stops = change[0::2], change[1::2]
    longest = 0.0
    if starts.size:
        start_ns = ts[np.maximum(starts - 1, 0)]
        stop_ns = ts[np.minimum(stops, ts.size - 1)]
        longest = float((stop_ns - start_ns).max()) / NS_PER_DAY
    return Drawdown(depth=depth, depth_pct=depth / peak[trough] if peak[trough] > 0 else math.nan,
                    peak_ns=int(ts[peak_idx]), trough_ns=int(ts[trough]),
                    recovery_ns=int(ts[rec]) if rec is not None else None,
                    duration_days=(end_ns - ts[peak_idx]) / NS_PER_DAY,
                    longest_underwater_days=longest)


def _streaks(net: np.ndarray) -> tuple[int, int]:
    best_w = best_l = cur_w = cur_l = 0
    for x in net:
        if x > 0:
            cur_w, cur_l = cur_w + 1, 0
        elif x < 0:
            cur_w, cur_l = 0, cur_l + 1
        else:
            cur_w = cur_l = 0
        best_w, best_l = max(best_w, cur_w), max(best_l, cur_l)
    return best_w, best_l


def profit_factor(net: np.ndarray) -> float:
    """Gross wins ÷ gross losses (inf with no losses and some wins, NaN with no trades)."""
    wins, losses = net[net > 0].sum(), -net[net < 0].sum()
    if losses == 0:
        return math.inf if wins > 0 else math.nan
    with np.errstate(over="ignore"):   # huge wins over tiny losses: inf, not a warning
        return float(wins / losses)


def sharpe_sortino(daily: np.ndarray, days_per_year: int = TRADING_DAYS_PER_YEAR
                   ) -> tuple[float, float]:
    """Annualised Sharpe and Sortino of daily $ P&L (risk-free 0, 252 days by default)."""
    if daily.size < 2:
        return math.nan, math.nan
    mu, sd = daily.mean(), daily.std(ddof=1)
    downside = np.sqrt(np.mean(np.minimum(daily, 0.0) ** 2))
    k = math.sqrt(days_per_year)
    sharpe = mu / sd * k if sd > 0 else math.nan
    sortino = mu / downside * k if downside > 0 else math.nan
    return float(sharpe), float(sortino)


def compute_stats(trades: pd.DataFrame, equity: pd.DataFrame, *, starting_balance: float,
                  tz: str | None = None, day_rule: DayRule | None = None) -> Stats:
    """Compute every requirements §8 metric.

    Args:
        trades: The trade log (see the module docstring).
        equity: The bar-level equity curve.
        starting_balance: Account balance before the first trade ($).
        tz: Time zone for P&L by hour (default: the day rule's, America/New_York for CME).
        day_rule: How trading days are cut (default CME sessions; ``DayRule.of(profile)``
            for a profile's continuous sessions and daily cut).

    Returns:
        A frozen :class:`Stats`.
    """
    net = trades["net_pnl"].to_numpy(float) if not trades.empty else np.empty(0)
    n = int(net.size)
    rule = day_rule or CME
    tz = tz or rule.timezone
    daily = daily_pnl(trades, rule)
    # Days with no trades still count for Sharpe: fill the trading days the equity curve spans.
    daily_vals = _daily_with_flat_days(daily, equity, rule)
    sharpe, sortino = sharpe_sortino(daily_vals,
                                     365 if rule.continuous else TRADING_DAYS_PER_YEAR)
    dd = drawdown(equity)
    total_net = float(net.sum())
    total_return = total_net / starting_balance if starting_balance else math.nan
    span_days = _span_days(equity, trades)
    years = span_days / 365.25 if span_days > 0 else math.nan
    ann = ((1 + total_return) ** (1 / years) - 1) if years and years > 0 and total_return > -1 else math.nan
    calmar = ann / dd.depth_pct if dd.depth_pct and dd.depth_pct > 0 and not math.isnan(ann) else math.nan
    wins, losses = net[net > 0], net[net < 0]
    w_streak, l_streak = _streaks(net)
    risk = trades["risk"].to_numpy(float).sum() if "risk" in trades and n else 0.0
    return Stats(
        trades=n, starting_balance=float(starting_balance), net_pnl=total_net,
        gross_pnl=float(trades["gross_pnl"].sum()) if n else 0.0,
        commission=float(trades["commission"].sum()) if n else 0.0,
        slippage=float(trades["slippage"].sum()) if n else 0.0,
        total_return=total_return, annualised_return=float(ann), sharpe=sharpe, sortino=sortino,
        calmar=float(calmar), max_drawdown=dd,
        win_rate=float(wins.size / n) if n else math.nan,
        profit_factor=profit_factor(net), expectancy=float(net.mean()) if n else math.nan,
        avg_win=float(wins.mean()) if wins.size else math.nan,
        avg_loss=float(losses.mean()) if losses.size else math.nan,
        largest_win=float(net.max()) if n else math.nan,
        largest_loss=float(net.min()) if n else math.nan,
        max_win_streak=w_streak, max_loss_streak=l_streak,
        trading_days=int(daily_vals.size),
        trades_per_day=n / daily_vals.size if daily_vals.size else math.nan,
        winning_day_pct=float((daily.to_numpy() > 0).mean()) if len(daily) else math.nan,
        worst_day=float(daily.min()) if len(daily) else math.nan,
        best_day=float(daily.max()) if len(daily) else math.nan,
        return_per_dollar_risked=float(total_net / risk) if risk > 0 else None,
        exit_reasons={str(k): int(v) for k, v in trades["exit_reason"].value_counts().items()} if n else {},
        pnl_by_hour=pnl_by_hour(trades, tz),
    )


def _span_days(equity: pd.DataFrame, trades: pd.DataFrame) -> float:
    if not equity.empty:
        ts = to_ns(equity["timestamp"])
        return float(ts[-1] - ts[0]) / NS_PER_DAY
    if not trades.empty:
        return float(to_ns(trades["exit_time"]).max() - to_ns(trades["entry_time"]).min()) / NS_PER_DAY
    return 0.0


def _daily_with_flat_days(daily: pd.Series, equity: pd.DataFrame,
                          day_rule: DayRule | None = None) -> np.ndarray:
    """Daily P&L including zero for trading days the backtest covered without trades.

    The covered days come from the session table (a session counts when any equity
    timestamp falls inside it; every calendar day for continuous markets): O(sessions · log
    bars), no per-bar time-zone work, which matters on 33 M-bar curves.
    """
    if equity.empty:
        return daily.to_numpy(float)
    ts = to_ns(equity["timestamp"])
    if ts.size > 1 and not (ts[1:] >= ts[:-1]).all():
        ts = np.sort(ts)
    idx = (day_rule or CME).covered_days(ts)
    return daily.reindex(idx.union(daily.index), fill_value=0.0).to_numpy(float)
