"""THE risk rule kernel: compiled functions over plain arrays (one copy for backtest and live).

Everything here is ``numba.njit(cache=True)`` over scalars and numpy arrays so the backtest
loop (core/backtest/loop.py) is compiled end to end and the live engine calls the *same*
compiled functions once per event. There are no objects: the rules read a parameter vector
``p`` (built once from a Profile by core/risk/params.py) plus three small tables, and mutate
a state pair ``fs`` (float64) / ``ist`` (int64). Named index constants below say what each
slot holds. Times are int64 UTC nanoseconds (float64 cannot hold them exactly).

Money conventions: ``balance`` is realised equity after costs. "Equity" is balance plus the
open position's P&L *net of its round-trip commission* (what an exit at that price would
realise before slippage): the daily-loss, drawdown, MLL and kill-switch limits are all checked
against it, so a liquidation at the limit price realises at most the limit plus slippage.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# --------------------------------------------------------------------------- parameters p[...]
P_START_BAL = 0
P_MAX_DAILY_LOSS = 1      # house daily loss ($) → stop for the day
P_MAX_DAILY_DD = 2        # from the day's peak equity ($) → stop for the day
P_MAX_RISK_TRADE = 3
P_ACCT_DD = 4             # from the peak balance → HALTED (manual review)
P_KILL = 5                # cumulative loss below the start → HALTED for good
P_MIN_BAL = 6
P_MIN_CONF = 7
P_MAX_CONTRACTS = 8       # min(profile max_contracts, Topstep max_minis × micro ratio)
P_TICK_SIZE = 9
P_TICK_VALUE = 10
P_COMMISSION_RT = 11      # $ per contract per round trip
P_REDUCE_FACTOR = 12
P_VOL_MULT = 13
P_VOL_ACTION = 14         # 0 halve, 1 pause
P_VOLU_RATIO = 15
P_VOLU_ACTION = 16        # 0 halve, 1 pause
P_SPREAD_PAUSE = 17
P_SPREAD_RESUME = 18
P_HAS_MLL = 19            # 1 on Topstep profiles
P_MLL = 20                # trailing Maximum Loss Limit distance
P_MLL_LOCK = 21           # the floor stops trailing here (the starting balance)
P_TOPSTEP_DLL = 22        # optional purchased daily loss limit ($), 0 = none
P_TIERS_DAY_START = 23    # 1: size tiers from the previous session's close (XFA scaling)
P_PROFIT_TARGET = 24      # 0 = none
P_CONSISTENCY = 25        # best day ÷ total profit cap, 0 = none
P_MLL_BUFFER = 26         # $ above the MLL at which we liquidate (worst exit slippage at the cap)
N_PARAMS = 27

# --------------------------------------------------------------------------- state fs[...] / ist[...]
F_BALANCE = 0
F_PEAK_BAL = 1
F_DAY_START_BAL = 2
F_DAY_PEAK_EQ = 3
F_EOD_HIGH = 4            # highest end-of-day balance (Topstep MLL trails it)
F_MLL_LEVEL = 5
F_BEST_DAY = 6            # best single-day profit (consistency tracker)
F_SPREAD_PAUSED = 7
F_LAST_EQUITY = 8
N_FSTATE = 9

I_DAY = 0                 # current trading day (days since 1970), -1 before the first
I_HALT = 1                # reason code of a halt (0 = not halted); halts never clear by themselves
I_DAY_STOP = 2            # reason code of today's stop (0 = none); clears at the next trading day
I_PAUSE_UNTIL = 3         # ns; loss-streak pause
I_CONSEC_LOSSES = 4
I_TRADES = 5
I_TARGET_HIT = 6          # profit target reached once (event already emitted)
N_ISTATE = 7

# --------------------------------------------------------------------------- modes and reasons
MODE_ACTIVE = 0
MODE_REDUCING = 1
MODE_PAUSED = 2
MODE_HALTED = 3
MODE_NAMES = ("ACTIVE", "REDUCING", "PAUSED", "HALTED")

R_OK = 0
R_LOW_CONFIDENCE = 1
R_KILL_SWITCH = 2
R_ACCOUNT_DRAWDOWN = 3
R_MLL = 4
R_MIN_BALANCE = 5
R_DAILY_LOSS = 6
R_DAILY_DRAWDOWN = 7
R_TOPSTEP_DLL = 8
R_LOSS_PAUSE = 9
R_NO_NEW_ENTRIES = 10
R_OUTSIDE_HOURS = 11
R_SIZE_ZERO = 12
R_VOLATILITY_PAUSE = 13
R_VOLUME_PAUSE = 14
R_SPREAD_PAUSE = 15
R_BAD_STOP = 16
R_PROFIT_TARGET = 17      # event only (informative)
R_CONTRACT_CAP = 18
N_REASONS = 19
REASONS = (
    "ok", "confidence below the minimum", "kill switch: cumulative loss limit",
    "account drawdown stop: manual review", "Topstep maximum loss limit breached",
    "balance below the minimum", "daily loss limit", "daily drawdown from the day's peak",
    "Topstep daily loss limit (forced break)", "consecutive-loss pause",
    "no new entries (end-of-day schedule)", "outside trading hours", "size rounds to zero",
    "volatility circuit breaker", "volume circuit breaker", "spread too wide",
    "stop distance must be positive", "profit target reached",
    "contract cap reached (position + working orders)",
)

# --------------------------------------------------------------------------- schedule phases
PH_CLOSED = 0             # before the entries start / outside the session
PH_OPEN = 1
PH_REDUCE = 2             # reduced size
PH_NO_NEW = 3             # no new entries
PH_EXIT = 4               # market exits
PH_FLAT = 5               # past the deadline: must be flat
# columns of the per-day schedule table (int64 UTC ns)
S_ENTRY, S_REDUCE, S_NO_NEW, S_EXIT, S_FLAT = 0, 1, 2, 3, 4

# breaker bits
B_VOL_HALVE = 1
B_VOL_PAUSE = 2
B_VOLU_HALVE = 4
B_VOLU_PAUSE = 8

_JIT = {"cache": True, "nogil": True}


@nb.njit(**_JIT)
def new_state(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fresh state for an account at its starting balance."""
    fs = np.zeros(N_FSTATE, dtype=np.float64)
    ist = np.zeros(N_ISTATE, dtype=np.int64)
    b = p[P_START_BAL]
    fs[F_BALANCE] = b
    fs[F_PEAK_BAL] = b
    fs[F_DAY_START_BAL] = b
    fs[F_DAY_PEAK_EQ] = b
    fs[F_EOD_HIGH] = b
    fs[F_MLL_LEVEL] = min(b - p[P_MLL], p[P_MLL_LOCK]) if p[P_HAS_MLL] > 0 else -np.inf
    fs[F_LAST_EQUITY] = b
    ist[I_DAY] = -1
    return fs, ist


@nb.njit(**_JIT)
def on_day_start(p: np.ndarray, fs: np.ndarray, ist: np.ndarray, day: int) -> None:
    """Roll the state to trading day ``day``: settle the previous day (EOD MLL trail, best day).

    Call it on the first event of every trading day. Topstep's MLL trails the highest
    END-OF-DAY balance upward only and stops at the lock (the starting balance).
    """
    if ist[I_DAY] == day:
        return
    if ist[I_DAY] >= 0:
        bal = fs[F_BALANCE]
        profit = bal - fs[F_DAY_START_BAL]
        if profit > fs[F_BEST_DAY]:
            fs[F_BEST_DAY] = profit
        if bal > fs[F_EOD_HIGH]:
            fs[F_EOD_HIGH] = bal
        if p[P_HAS_MLL] > 0:
            lvl = min(fs[F_EOD_HIGH] - p[P_MLL], p[P_MLL_LOCK])
            if lvl > fs[F_MLL_LEVEL]:
                fs[F_MLL_LEVEL] = lvl
    ist[I_DAY] = day
    ist[I_DAY_STOP] = 0
    fs[F_DAY_START_BAL] = fs[F_BALANCE]
    fs[F_DAY_PEAK_EQ] = fs[F_BALANCE]


@nb.njit(**_JIT)
def risk_floor(p: np.ndarray, fs: np.ndarray) -> tuple[float, int]:
    """The highest equity level whose touch breaches a limit, and that limit's reason code.

    Equity ≤ floor means: liquidate now (and halt or stop for the day per the reason).
    """
    best = -np.inf
    why = R_OK
    lvl = p[P_START_BAL] - p[P_KILL]
    if lvl > best:
        best, why = lvl, R_KILL_SWITCH
    # Liquidate a buffer ABOVE Topstep's MLL: the exit's slippage must not cross the real line.
    if p[P_HAS_MLL] > 0 and fs[F_MLL_LEVEL] + p[P_MLL_BUFFER] > best:
        best, why = fs[F_MLL_LEVEL] + p[P_MLL_BUFFER], R_MLL
    lvl = fs[F_PEAK_BAL] - p[P_ACCT_DD]
    if lvl > best:
        best, why = lvl, R_ACCOUNT_DRAWDOWN
    lvl = fs[F_DAY_START_BAL] - p[P_MAX_DAILY_LOSS]
    if lvl > best:
        best, why = lvl, R_DAILY_LOSS
    if p[P_TOPSTEP_DLL] > 0:
        lvl = fs[F_DAY_START_BAL] - p[P_TOPSTEP_DLL]
        if lvl > best:
            best, why = lvl, R_TOPSTEP_DLL
    lvl = fs[F_DAY_PEAK_EQ] - p[P_MAX_DAILY_DD]
    if lvl > best:
        best, why = lvl, R_DAILY_DRAWDOWN
    return best, why


@nb.njit(**_JIT)
def is_halt_reason(reason: int) -> bool:
    """Kill switch, MLL and account drawdown halt for good; daily limits stop for the day."""
    return reason == R_KILL_SWITCH or reason == R_MLL or reason == R_ACCOUNT_DRAWDOWN


@nb.njit(**_JIT)
def apply_breach(ist: np.ndarray, reason: int) -> None:
    """Record a breached limit: a halt (permanent) or a stop for the rest of the trading day."""
    if reason == R_OK:
        return
    if is_halt_reason(reason):
        if ist[I_HALT] == 0:
            ist[I_HALT] = reason
    elif ist[I_DAY_STOP] == 0:
        ist[I_DAY_STOP] = reason


@nb.njit(**_JIT)
def mark(p: np.ndarray, fs: np.ndarray, ist: np.ndarray, open_pnl: float) -> int:
    """Mark to market with the open P&L (net of its exit commission); return a breach reason.

    The kill switch counts the cumulative NET loss below the starting balance (open P&L
    included), not the sum of losing trades.

    Updates the day's peak equity, then checks every limit against the equity. A nonzero
    return means: flatten now. The breach is also recorded in the state (halt or day stop).
    """
    eq = fs[F_BALANCE] + open_pnl
    fs[F_LAST_EQUITY] = eq
    if eq > fs[F_DAY_PEAK_EQ]:
        fs[F_DAY_PEAK_EQ] = eq
    floor, why = risk_floor(p, fs)
    if eq <= floor + 1e-9:
        apply_breach(ist, why)
        return why
    return R_OK


@nb.njit(**_JIT)
def on_trade_closed(p: np.ndarray, pauses: np.ndarray, fs: np.ndarray, ist: np.ndarray,
                    net_pnl: float, ts: int) -> int:
    """Book a closed trade: balance, loss streak and its pause, then the static limits.

    ``pauses`` rows are (losses, minutes) ascending. A streak equal to a row's count starts
    that pause; beyond the last row every further loss repeats the longest pause. A trade
    that nets ≤ 0 after costs is a loss; a win resets the streak; the streak carries across
    trading days (the pause itself simply expires). Returns the breach reason (0 if none).
    """
    fs[F_BALANCE] += net_pnl
    if fs[F_BALANCE] > fs[F_PEAK_BAL]:
        fs[F_PEAK_BAL] = fs[F_BALANCE]
    ist[I_TRADES] += 1
    if net_pnl > 0:
        ist[I_CONSEC_LOSSES] = 0
    else:
        ist[I_CONSEC_LOSSES] += 1
        k = ist[I_CONSEC_LOSSES]
        m = pauses.shape[0]
        minutes = 0.0
        for r in range(m):
            if k == int(pauses[r, 0]) or (r == m - 1 and k > int(pauses[r, 0])):
                minutes = pauses[r, 1]
        if minutes > 0:
            until = ts + np.int64(minutes * 60.0) * np.int64(1_000_000_000)
            if until > ist[I_PAUSE_UNTIL]:
                ist[I_PAUSE_UNTIL] = until
    return mark(p, fs, ist, 0.0)


@nb.njit(**_JIT)
def schedule_phase(sched: np.ndarray, row: int, ts: int) -> int:
    """Phase of the end-of-day schedule at ``ts`` for schedule row ``row`` (-1: no session)."""
    if row < 0:
        return PH_CLOSED
    if ts >= sched[row, S_FLAT]:
        return PH_FLAT
    if ts >= sched[row, S_EXIT]:
        return PH_EXIT
    if ts >= sched[row, S_NO_NEW]:
        return PH_NO_NEW
    if ts < sched[row, S_ENTRY]:
        return PH_CLOSED
    if ts >= sched[row, S_REDUCE]:
        return PH_REDUCE
    return PH_OPEN


@nb.njit(**_JIT)
def breaker_bits(p: np.ndarray, atr: float, atr_normal: float, volume: float,
                 volume_avg: float) -> int:
    """Circuit-breaker flags: ATR > k × its normal; volume < ratio × its average."""
    bits = 0
    if atr_normal > 0 and atr > p[P_VOL_MULT] * atr_normal:
        bits |= B_VOL_PAUSE if p[P_VOL_ACTION] > 0 else B_VOL_HALVE
    if volume_avg > 0 and volume < p[P_VOLU_RATIO] * volume_avg:
        bits |= B_VOLU_PAUSE if p[P_VOLU_ACTION] > 0 else B_VOLU_HALVE
    return bits


@nb.njit(**_JIT)
def spread_update(p: np.ndarray, fs: np.ndarray, spread_ticks: float) -> bool:
    """Spread breaker with hysteresis: pause above ``spread_pause``, resume at ≤ ``spread_resume``.

    Only where quotes exist (live); bars carry no spread. Returns True while paused.
    """
    if spread_ticks > p[P_SPREAD_PAUSE]:
        fs[F_SPREAD_PAUSED] = 1.0
    elif spread_ticks <= p[P_SPREAD_RESUME]:
        fs[F_SPREAD_PAUSED] = 0.0
    return fs[F_SPREAD_PAUSED] > 0


@nb.njit(**_JIT)
def tier_index(p: np.ndarray, tiers: np.ndarray, fs: np.ndarray) -> int:
    """Row of the balance tier in force (−1 below the lowest tier).

    The balance is the day's starting balance when the profile sizes by it (XFA scaling),
    else the current balance.
    """
    bal = fs[F_DAY_START_BAL] if p[P_TIERS_DAY_START] > 0 else fs[F_BALANCE]
    k = -1
    for r in range(tiers.shape[0]):
        if bal >= tiers[r, 0]:
            k = r
    return k


@nb.njit(**_JIT)
def contract_cap(p: np.ndarray, tiers: np.ndarray, fs: np.ndarray) -> int:
    """Largest allowed position: the balance tier's cap within the hard/prop-firm cap (0: none)."""
    k = tier_index(p, tiers, fs)
    if k < 0:
        return 0
    return int(min(tiers[k, 1], p[P_MAX_CONTRACTS]))


@nb.njit(**_JIT)
def position_size(p: np.ndarray, tiers: np.ndarray, confs: np.ndarray, fs: np.ndarray,
                  confidence: float, stop_ticks: float, factor: float) -> int:
    """Contracts = min(tier cap, ⌊risk budget ÷ (stop ticks × tick value)⌋) × confidence step.

    The budget is ``balance × tier risk %`` capped at the max risk per trade. The multiplied
    size is floored (½ × 1 contract = no trade), multiplied by ``factor`` (end-of-day or
    breaker reduction), then capped by the tier cap, the hard cap and the max risk per trade.
    Tiers rows: (min_balance, max_contracts, risk_pct); confs rows: (min_confidence, mult).
    """
    if stop_ticks <= 0 or confidence < p[P_MIN_CONF]:
        return 0
    k = tier_index(p, tiers, fs)
    if k < 0:
        return 0
    cap = min(tiers[k, 1], p[P_MAX_CONTRACTS])
    per_contract = stop_ticks * p[P_TICK_VALUE]
    budget = min(fs[F_BALANCE] * tiers[k, 2], p[P_MAX_RISK_TRADE])
    base = min(cap, math.floor(budget / per_contract + 1e-9))
    mult = 0.0
    for r in range(confs.shape[0]):
        if confidence >= confs[r, 0] - 1e-12:
            mult = confs[r, 1]
    if confs.shape[0] == 0:
        mult = 1.0
    n = math.floor(base * mult * factor + 1e-9)
    n = min(n, cap, math.floor(p[P_MAX_RISK_TRADE] / per_contract + 1e-9))
    return int(max(n, 0))


@nb.njit(**_JIT)
def check_entry(p: np.ndarray, tiers: np.ndarray, confs: np.ndarray, fs: np.ndarray,
                ist: np.ndarray, ts: int, confidence: float, stop_ticks: float, phase: int,
                breakers: int, open_contracts: int) -> tuple[int, int]:
    """Decide a new entry: (contracts, reason). contracts > 0 only with reason R_OK.

    ``open_contracts`` counts what is already on the account in this instrument's units —
    position plus working orders that could fill (Topstep counts the worst case) — and is
    subtracted from the contract cap.
    """
    if ist[I_HALT] != 0:
        return 0, int(ist[I_HALT])
    if ist[I_DAY_STOP] != 0:
        return 0, int(ist[I_DAY_STOP])
    if fs[F_BALANCE] < p[P_MIN_BAL]:
        return 0, R_MIN_BALANCE
    if phase == PH_CLOSED:
        return 0, R_OUTSIDE_HOURS
    if phase >= PH_NO_NEW:
        return 0, R_NO_NEW_ENTRIES
    if ts < ist[I_PAUSE_UNTIL]:
        return 0, R_LOSS_PAUSE
    if fs[F_SPREAD_PAUSED] > 0:
        return 0, R_SPREAD_PAUSE
    if breakers & B_VOL_PAUSE:
        return 0, R_VOLATILITY_PAUSE
    if breakers & B_VOLU_PAUSE:
        return 0, R_VOLUME_PAUSE
    if confidence < p[P_MIN_CONF]:
        return 0, R_LOW_CONFIDENCE
    if stop_ticks <= 0:
        return 0, R_BAD_STOP
    factor = 1.0
    if phase == PH_REDUCE:
        factor *= p[P_REDUCE_FACTOR]
    if breakers & B_VOL_HALVE:
        factor *= 0.5
    if breakers & B_VOLU_HALVE:
        factor *= 0.5
    room = contract_cap(p, tiers, fs) - open_contracts
    if room <= 0:
        return 0, R_CONTRACT_CAP
    n = min(position_size(p, tiers, confs, fs, confidence, stop_ticks, factor), room)
    if n <= 0:
        return 0, R_SIZE_ZERO
    return n, R_OK


@nb.njit(**_JIT)
def mode_of(fs: np.ndarray, ist: np.ndarray, ts: int, phase: int, breakers: int) -> int:
    """The visible trading state: ACTIVE → REDUCING → PAUSED(until) → HALTED."""
    if ist[I_HALT] != 0:
        return MODE_HALTED
    if (ist[I_DAY_STOP] != 0 or ts < ist[I_PAUSE_UNTIL] or fs[F_SPREAD_PAUSED] > 0
            or breakers & (B_VOL_PAUSE | B_VOLU_PAUSE) or phase >= PH_NO_NEW
            or phase == PH_CLOSED):
        return MODE_PAUSED
    if phase == PH_REDUCE or breakers & (B_VOL_HALVE | B_VOLU_HALVE):
        return MODE_REDUCING
    return MODE_ACTIVE


@nb.njit(**_JIT)
def consistency_ratio(p: np.ndarray, fs: np.ndarray) -> float:
    """Best day ÷ total profit (Topstep consistency); today's running profit counts as a day."""
    total = fs[F_BALANCE] - p[P_START_BAL]
    if total <= 0:
        return np.nan
    best = max(fs[F_BEST_DAY], fs[F_BALANCE] - fs[F_DAY_START_BAL])
    return best / total


@nb.njit(**_JIT)
def floor_price(p: np.ndarray, fs: np.ndarray, direction: int, contracts: int,
                entry_price: float, entry_cost: float) -> tuple[float, int]:
    """The price at which the open position's equity touches the risk floor (a synthetic stop).

    Long: breach when price ≤ level (rounded down to the tick grid); short: price ≥ level
    (rounded up). ``entry_cost`` is the entry's slippage in dollars (already paid, part of
    the true equity). Returns (level, reason); reason 0 and ±inf when no floor applies.
    """
    floor, why = risk_floor(p, fs)
    if why == R_OK or contracts <= 0:
        return (-np.inf if direction > 0 else np.inf), R_OK
    pv = p[P_TICK_VALUE] / p[P_TICK_SIZE] * contracts
    # equity(price) = balance + dir × (price − entry) × pv − commission − entry slippage
    x = (floor - fs[F_BALANCE] + p[P_COMMISSION_RT] * contracts + entry_cost) / pv
    ts_ = p[P_TICK_SIZE]
    if direction > 0:
        lvl = math.floor((entry_price + x) / ts_ + 1e-9) * ts_
    else:
        lvl = math.ceil((entry_price - x) / ts_ - 1e-9) * ts_
    return lvl, why
