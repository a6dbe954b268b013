"""``run_backtest``: bars + signals + a profile → trades, equity, ambiguity band, risk events.

A keyword-only API in the style of backtesting.py::

    from core.backtest import run_backtest, Signals
    res = run_backtest(bars, signals, profile=load_profile("account_1k"))
    res.trades, res.equity, res.ambiguity, res.risk_events, res.params

Times in ``trades`` are tz-aware UTC (``datetime64[ns, UTC]``): the START of the bar whose
price filled the order (its open for next-bar-open fills, its close for close fills and
optimistic entries); ``entry_ns``/``exit_ns`` hold the same as int64. Prices are reference
prices before slippage; ``slippage`` and ``commission`` are dollars for the whole trade, so
``net_pnl = gross_pnl − commission − slippage`` exactly. ``mfe``/``mae`` are dollars for the
whole position (both ≥ 0); ``entry_slippage`` is the entry leg's part of ``slippage``. ``equity`` has one row per bar: ``timestamp`` (int64 UTC ns, bar
start), ``equity`` (balance + open P&L net of commission and entry slippage, at the bar's
close: the account's true equity before exit costs) and ``drawdown``
(equity − running peak, ≤ 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.backtest import loop as L
from core.backtest.prep import actions, atr_and_breakers, drawdown_of, first_not_increasing
from core.config import Profile
from core.errors import DataError
from core.risk import kernel as K
from core.risk.params import risk_arrays, schedule_covering
from core.strategy.signals import Signals, ns_of
from core.strategy.settings import strategy_array  # noqa: F401 - re-exported

TRADE_COLUMNS = ("entry_time", "exit_time", "direction", "entry_price", "exit_price", "contracts",
                 "gross_pnl", "commission", "slippage", "net_pnl", "exit_reason",
                 "model_confidence", "predicted_class", "mfe", "mae")


@dataclass(frozen=True)
class Ambiguity:
    """Same-bar stop-and-target uncertainty: net P&L under both orderings, share of trades hit."""

    pessimistic_pnl: float
    optimistic_pnl: float
    share_affected: float
    trades_affected: int


@dataclass
class BacktestResult:
    """Everything one run produces (see the module docstring for units)."""

    trades: pd.DataFrame
    equity: pd.DataFrame
    ambiguity: Ambiguity
    risk_events: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def net_pnl(self) -> float:
        """Total net P&L after costs."""
        return float(self.trades["net_pnl"].sum()) if len(self.trades) else 0.0


_ns = ns_of


def bar_arrays(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    """The loop's columns as contiguous numpy arrays; checks shape and order.

    Raises:
        DataError: Missing columns, unsorted or duplicate timestamps, NaN prices.
    """
    need = ("timestamp", "open", "high", "low", "close")
    missing = [c for c in need if c not in bars.columns]
    if missing:
        raise DataError(f"bars: missing column(s) {', '.join(missing)}",
                        hint="pass a canonical bar frame (core.datasets.schema)")
    ts = _ns(bars["timestamp"])
    k = int(first_not_increasing(ts)) if len(ts) > 1 else -1
    if k >= 0:
        raise DataError(f"bars: timestamps not strictly increasing at row {k}",
                        hint="sort by timestamp and drop duplicates (scalpdesk data validate)")
    out = {"ts": np.ascontiguousarray(ts)}
    for c in ("open", "high", "low", "close"):
        out[c] = np.ascontiguousarray(bars[c].to_numpy(np.float64))
    if len(ts) and np.isnan(out["close"]).any():
        raise DataError("bars: NaN prices", hint="drop or repair the rows (scalpdesk data validate)")
    vol = bars["volume"].to_numpy(np.float64) if "volume" in bars.columns else np.ones(len(ts))
    out["volume"] = np.ascontiguousarray(vol)
    return out


def bar_seconds_of(ts: np.ndarray) -> float:
    """The bar length: the most common positive step among the first 100k bars."""
    if len(ts) < 2:
        return 60.0
    d = np.diff(ts[: 100_001])
    d = d[d > 0]
    vals, counts = np.unique(d, return_counts=True)
    return float(vals[np.argmax(counts)]) / 1e9


def actions_of(signals: Signals, n: int, min_conf: float) -> np.ndarray:
    """Per-bar action for the loop: ±1 entry/reverse, 2 flat (exit), 0 nothing."""
    d = np.asarray(signals.direction)
    cf = np.asarray(signals.confidence, dtype=np.float64)
    if len(d) != n or len(cf) != n:
        raise DataError(f"signals: {len(d)} directions / {len(cf)} confidences for {n} bars",
                        hint="signals must have one row per bar (use Signals.from_frame to align)")
    return actions(np.ascontiguousarray(d, dtype=np.int8), np.ascontiguousarray(cf), min_conf)


@dataclass
class Prepared:
    """Everything the loop needs, prepared once (reused by the baseline's many runs)."""

    arrays: dict[str, np.ndarray]
    rows: np.ndarray
    rth: np.ndarray
    brk: np.ndarray
    atr: np.ndarray
    sched: np.ndarray
    sched_day: np.ndarray
    sp: np.ndarray
    risk: Any
    bar_ns: int
    ts1: np.ndarray
    h1: np.ndarray
    l1: np.ndarray
    notes: tuple[str, ...] = ()
    profile: Any = None     #: the profile as traded (see :func:`profile_for_bars`)


def profile_for_bars(profile: Profile, bars: pd.DataFrame) -> tuple[Profile, str | None]:
    """The profile as it trades ``bars``: the bars' own instrument prices the trades.

    A percentage-tick profile's rules (brackets and limits in %, slippage in bps) are the same
    for every pair; only the pair's tick, lot size, minimum notional and default fees differ.
    So ``crypto_spot_1k`` (BTCUSDT) on ETHUSDT bars trades ETHUSDT, and says so.

    Futures likewise (issue 11, found 3): ES bars under a MES profile are ES bars, worth $50 a
    point, not MES's $5; the note names both and says the profile's commission and dollar
    limits apply unchanged. ``scalpdesk train`` and ``backtest`` both call this, so they agree.
    """
    from dataclasses import replace

    from core.domain import INSTRUMENTS, root_of

    if "symbol" not in bars.columns or not len(bars):
        return profile, None
    sym = bars["symbol"]
    first = str(sym.cat.categories[sym.cat.codes.iloc[0]]) \
        if isinstance(sym.dtype, pd.CategoricalDtype) else str(sym.iloc[0])
    data, mine = INSTRUMENTS.get(root_of(first)), INSTRUMENTS.get(root_of(profile.instrument))
    if data is None or mine is None or data.symbol == mine.symbol:
        return profile, None
    if data.percent and mine.percent:
        return replace(profile, instrument=data.symbol), (
            f"profile {profile.name!r} is for {mine.symbol}; its % rules trade these {data.symbol} "
            f"bars with {data.symbol}'s tick {data.tick_size:g}, lot size {data.lot_size:g} and "
            f"minimum notional {data.min_notional:g}")
    if data.percent != mine.percent:  # crypto bars under a futures profile or the reverse
        return profile, None
    pt = data.tick_value / data.tick_size
    mine_pt = mine.tick_value / mine.tick_size
    return replace(profile, instrument=data.symbol), (
        f"these bars are {data.symbol} ({data.name}, ${pt:,.2f} a point) but profile "
        f"{profile.name!r} is for {mine.symbol} (${mine_pt:,.2f} a point): trades are priced and "
        f"sized as {data.symbol}; the profile's commission "
        f"(${profile.costs.commission_round_trip:,.2f} a round trip) and dollar limits apply "
        f"unchanged — for {mine.symbol} results use {mine.symbol} bars, or make a profile for "
        f"{data.symbol}: scalpdesk profile new mine --from {profile.name}; scalpdesk profile set "
        f"mine profile.instrument {data.symbol} (and its costs.commission_round_trip)")


def coarse_bar_note(bar_ns: int, sched: np.ndarray) -> str | None:
    """Say so when bars are coarser than the end-of-day schedule's last steps.

    A bar longer than the gap between the market-exit and the must-be-flat time cannot be
    held to its close near the deadline: the position exits at the OPEN of the last bar that
    opens before the exit time (core.backtest.loop.eod_exit_due), never at a price after the
    deadline.
    """
    if not len(sched):
        return None
    gaps = sched[:, K.S_FLAT] - sched[:, K.S_EXIT]
    gaps = gaps[(gaps > 0) & (gaps < 86_400 * 10**9)]
    if not len(gaps) or bar_ns <= int(np.median(gaps)):
        return None
    return (f"bars of {bar_ns / 1e9:,.0f} s are coarser than the end-of-day schedule "
            f"(market exit → must be flat: {int(np.median(gaps)) / 60e9:.0f} min): positions exit "
            "at the open of the last bar that opens before the market-exit time")


def denial_lines(denials: dict[str, int]) -> list[str]:
    """Entries the risk kernel refused, in words, most frequent first ("12 entries skipped: …")."""
    return [f"{v:,} entr{'y' if v == 1 else 'ies'} skipped: {k}"
            for k, v in sorted(denials.items(), key=lambda kv: -kv[1])]


def prepare(bars: pd.DataFrame, profile: Profile, *, atr: np.ndarray | None = None,
            bars_1s: pd.DataFrame | None = None) -> Prepared:
    """Compute the causal per-bar inputs (schedule rows, RTH flags, ATR, breakers).

    ``Prepared.profile`` is the profile as traded (:func:`profile_for_bars`)."""
    profile, pair_note = profile_for_bars(profile, bars)
    arr = bar_arrays(bars)
    ts = arr["ts"]
    bar_ns = int(round(bar_seconds_of(ts) * 1e9))
    ra = risk_arrays(profile)
    sch = schedule_covering(profile, ts)
    if len(ts):
        rows, rth = sch.rows_and_rth(ts)
    else:
        rows, rth = np.zeros(0, np.int32), np.zeros(0, np.uint8)
    want_atr = atr is None and profile.strategy.bracket == "atr"
    atr_c, brk = atr_and_breakers(arr["high"], arr["low"], arr["close"], arr["volume"],
                                  int(ra.p[K.P_BREAKER_PERIOD]), ra.p, want_atr)
    if atr is not None:
        atr_c = np.ascontiguousarray(atr, dtype=np.float64)
    if bars_1s is not None and len(bars_1s):
        a1 = bar_arrays(bars_1s)
        ts1, h1, l1 = a1["ts"], a1["high"], a1["low"]
    else:
        ts1, h1, l1 = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    note = coarse_bar_note(bar_ns, sch.table) if profile.schedule.sessions == "cme" else None
    notes = tuple(n for n in (note, pair_note) if n)
    from core.daycut import frame_is_continuous
    if profile.schedule.sessions == "cme" and frame_is_continuous(bars):
        notes += (f"these bars trade 24/7 but profile {profile.name!r} follows CME sessions: bars "
                  "outside them get no entries and positions are flattened at its end of day; "
                  "use a crypto profile (schedule.sessions = \"continuous\"), e.g. "
                  "crypto_spot_1k",)
    return Prepared(arr, rows, rth, brk, atr_c, np.ascontiguousarray(sch.table),
                    np.ascontiguousarray(sch.day), strategy_array(profile, bar_ns), ra, bar_ns,
                    ts1, h1, l1, notes=notes, profile=profile)


def run_prepared(pr: Prepared, action: np.ndarray, conf: np.ndarray, pclass: np.ndarray, *,
                 same_bar: int | None = None, record_equity: bool = True
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One compiled run; returns (trades table, events table, equity, counters, denials, fs)."""
    a = pr.arrays
    n = len(a["ts"])
    cap = int(np.count_nonzero(action)) + 2
    tr = np.zeros((cap, L.N_TCOLS), dtype=np.float64)
    ev = np.zeros((3 * cap + 4 * len(pr.sched_day) + 16, 3), dtype=np.float64)
    eq = np.empty(n if record_equity else 0, dtype=np.float64)
    sp = pr.sp
    if same_bar is not None:
        sp = sp.copy()
        sp[L.SP_SAME_BAR] = same_bar
    fs, ist, ps, pd_, cnt, den, prev = L.new_run(pr.risk.p)
    L.run_loop(
        a["ts"], a["open"], a["high"], a["low"], a["close"], a["volume"], pr.rows, pr.rth,
        pr.brk, action,
        conf, pclass, pr.atr, pr.sched, pr.sched_day, sp, pr.risk.p, pr.risk.tiers,
        pr.risk.confs, pr.risk.pauses, pr.ts1, pr.h1, pr.l1, tr, ev, eq, record_equity,
        fs, ist, ps, pd_, cnt, den, prev)
    return tr[: cnt[L.C_TRADES]], ev[: cnt[L.C_EVENTS]], eq, cnt, den, fs


def trades_frame(tr: np.ndarray, ts: np.ndarray, lot_size: float = 1.0) -> pd.DataFrame:
    """The §8 trade log from the loop's table (times tz-aware UTC; see module docstring).

    ``contracts`` counts lots (whole contracts for futures); ``quantity`` is the position in
    the instrument's own unit (contracts, or base units for crypto: lots × ``lot_size``);
    ``impact`` is the market-impact part of ``slippage`` ($).
    """
    ei = tr[:, L.T_ENTRY_I].astype(np.int64)
    xi = tr[:, L.T_EXIT_I].astype(np.int64)
    ens, xns = ts[ei], ts[xi]
    return pd.DataFrame({
        "entry_time": pd.to_datetime(ens, unit="ns", utc=True),
        "exit_time": pd.to_datetime(xns, unit="ns", utc=True),
        "direction": tr[:, L.T_DIR].astype(np.int8),
        "entry_price": tr[:, L.T_ENTRY_PX],
        "exit_price": tr[:, L.T_EXIT_PX],
        "contracts": tr[:, L.T_N].astype(np.int64),
        "gross_pnl": tr[:, L.T_GROSS],
        "commission": tr[:, L.T_COMM],
        "slippage": tr[:, L.T_SLIP],
        "net_pnl": tr[:, L.T_NET],
        "exit_reason": pd.Categorical.from_codes(tr[:, L.T_REASON].astype(np.int8),
                                                 categories=list(L.EXIT_REASONS)),
        "model_confidence": tr[:, L.T_CONF],
        "predicted_class": tr[:, L.T_PCLASS].astype(np.int8),
        "mfe": tr[:, L.T_MFE],
        "mae": tr[:, L.T_MAE],
        "entry_ns": ens, "exit_ns": xns,
        "entry_bar": ei, "exit_bar": xi,
        "ambiguous": tr[:, L.T_AMB] > 0,
        "entry_slippage": tr[:, L.T_ESLIP],
        "quantity": tr[:, L.T_N] * lot_size,
        "impact": tr[:, L.T_IMPACT],
    })


def run_backtest(bars: pd.DataFrame, signals: Signals, *, profile: Profile,
                 bars_1s: pd.DataFrame | None = None, seed: int = 0,
                 record_equity: bool = True,
                 progress: Callable[[float], None] | None = None) -> BacktestResult:
    """Backtest ``signals`` on ``bars`` under ``profile``'s costs, fills and risk rules.

    Args:
        bars: Canonical bar frame (timestamp int64 ns UTC, open, high, low, close, volume).
        signals: Per-bar :class:`Signals` aligned with ``bars``.
        profile: Costs, risk rules, schedule, bracket and fill assumptions.
        bars_1s: 1-second bars settling same-bar stop-and-target (``strategy.same_bar =
            "resolve"``); without them such bars stay pessimistic.
        seed: Recorded in ``params`` (the loop itself is deterministic).
        record_equity: Build the bar-level equity curve (off for baseline runs).
        progress: Optional callback receiving fractions of work done.

    Returns:
        :class:`BacktestResult`.

    Raises:
        DataError: Malformed bars or signals.
    """
    pr = prepare(bars, profile, atr=signals.atr, bars_1s=bars_1s)
    profile = pr.profile        # a crypto profile trades the bars' own pair
    if progress:
        progress(0.2)
    n = len(pr.arrays["ts"])
    action = actions_of(signals, n, profile.risk.min_confidence)
    conf = np.ascontiguousarray(signals.confidence, dtype=np.float64)
    pcls = signals.predicted_class if signals.predicted_class is not None else signals.direction
    pcls = np.ascontiguousarray(pcls, dtype=np.int8)
    tr, ev, eq, cnt, den, fs = run_prepared(pr, action, conf, pcls, record_equity=record_equity)
    if progress:
        progress(0.6)
    main_sb = int(pr.sp[L.SP_SAME_BAR])
    n_amb = int((tr[:, L.T_AMB] > 0).sum()) if len(tr) else 0
    net = float(tr[:, L.T_NET].sum()) if len(tr) else 0.0
    band = {}
    for sb in (0, 1):
        if n_amb == 0 or sb == main_sb:
            band[sb] = net
        else:
            t2 = run_prepared(pr, action, conf, pcls, same_bar=sb, record_equity=False)[0]
            band[sb] = float(t2[:, L.T_NET].sum()) if len(t2) else 0.0
    amb = Ambiguity(pessimistic_pnl=band[0], optimistic_pnl=band[1],
                    share_affected=n_amb / len(tr) if len(tr) else 0.0, trades_affected=n_amb)
    ts = pr.arrays["ts"]
    trades = trades_frame(tr, ts, float(pr.risk.p[K.P_LOT_SIZE]))
    if record_equity:
        dd = drawdown_of(eq)
        # int64 ns timestamps (the stats contract); no per-row conversion of millions of rows.
        equity = pd.DataFrame({"timestamp": ts, "equity": eq, "drawdown": dd}, copy=False)
    else:
        equity = pd.DataFrame({"timestamp": np.zeros(0, np.int64), "equity": np.zeros(0),
                               "drawdown": np.zeros(0)})
    ei = ev[:, 0].astype(np.int64)
    codes = ev[:, 1].astype(np.int64)
    events = pd.DataFrame({
        "timestamp": pd.to_datetime(ts[ei], unit="ns", utc=True),
        "code": codes,
        "event": [K.REASONS[c] for c in codes],
        "kind": [event_kind(int(c)) for c in codes],
        "balance": ev[:, 2],
    })
    params = {
        "profile": profile.name, "signals": signals.name, "seed": seed, "bars": n,
        "bar_seconds": pr.bar_ns / 1e9, "instrument": profile.instrument,
        "strategy": dict(zip(profile.strategy.__slots__,
                             (getattr(profile.strategy, k) for k in profile.strategy.__slots__))),
        "commission_round_trip": profile.costs.commission_round_trip,
        "starting_balance": profile.risk.starting_balance,
        "final_balance": float(fs[K.F_BALANCE]),
        "denials": {K.REASONS[k]: int(v) for k, v in enumerate(den) if v},
        "limit_entries_missed": int(cnt[L.C_LIMIT_MISSED]),
        "notes": list(pr.notes),
        "resolved_with_1s": bool(len(pr.ts1)),
    }
    if progress:
        progress(1.0)
    return BacktestResult(trades=trades, equity=equity, ambiguity=amb, risk_events=events,
                          params=params)


def event_kind(code: int) -> str:
    """Kind of a risk event: halt, day_stop, pause, operator or info."""
    if K.is_halt_reason(code):
        return "halt"
    if code == K.R_LOSS_PAUSE:
        return "pause"
    if code == K.R_MANUAL_PAUSE:
        return "operator"
    if code == K.R_PROFIT_TARGET:
        return "info"
    return "day_stop"


def with_strategy(profile: Profile, **changes: Any) -> Profile:
    """A copy of ``profile`` with strategy settings changed (e.g. ``same_bar="optimistic"``)."""
    return replace(profile, strategy=replace(profile.strategy, **changes))
