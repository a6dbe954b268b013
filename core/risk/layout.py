"""Slot layout of the risk kernel's arrays: parameters, state, reasons, modes, schedule.

The compiled rules (core/risk/limits.py, sizing.py, breakers.py, events.py) work on plain
numpy arrays so the backtest loop and the live engine call the very same machine code. These
named constants say what each slot holds. Times are int64 UTC nanoseconds.
"""

from __future__ import annotations

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
P_TICK_VALUE = 10         # $ per tick per LOT (a contract; crypto: lot_size base units)
P_COMMISSION_RT = 11      # $ per lot per round trip (fixed part; fees by notional below)
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
P_BREAKER_PERIOD = 27     # ATR period of the circuit-breaker inputs (bars)
# Crypto (percentage-tick instruments) and limits in % of equity; all 0 for $ futures profiles.
P_FEE_MAKER = 28          # fee, fraction of notional per side, resting (limit) fills
P_FEE_TAKER = 29          # fee, fraction of notional per side, market fills
P_MIN_NOTIONAL = 30       # smallest order value ($): smaller entries are refused; 0 = none
P_MAX_NOTIONAL = 31       # position value cap, fraction of the balance; 0 = none
P_LOT_SIZE = 32           # base units per lot (1 for contracts): quantity = lots × this
P_DAILY_LOSS_FRAC = 33    # + daily loss limit as a fraction of the day's starting balance
P_DAILY_DD_FRAC = 34      # + daily drawdown limit, fraction of the day's starting balance
P_RISK_TRADE_FRAC = 35    # + max risk per trade, fraction of the balance
P_ACCT_DD_FRAC = 36       # + account drawdown stop, fraction of the peak balance
P_MLL_INTRADAY = 37       # 1: the MLL trails the intraday equity high (0: end-of-day balances)
N_PARAMS = 38

# --------------------------------------------------------------------------- state fs[...]
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
FS_NAMES = ("balance", "peak_balance", "day_start_balance", "day_peak_equity", "eod_high",
            "mll_level", "best_day", "spread_paused", "last_equity")

# --------------------------------------------------------------------------- state ist[...]
I_DAY = 0                 # current trading day (days since 1970), -1 before the first
I_HALT = 1                # reason code of the halt in force (0 = none): derived from I_BREACHES
I_DAY_STOP = 2            # reason code of today's stop (0 = none); clears at the next trading day
I_PAUSE_UNTIL = 3         # ns; loss-streak pause
I_CONSEC_LOSSES = 4
I_TRADES = 5
I_TARGET_HIT = 6          # profit target reached once (event already emitted)
I_BREACHES = 7            # bitmask (1 << reason) of every HALTING limit breached, ever
I_DAY_BREACHES = 8        # bitmask of today's day-stop limits breached
I_MANUAL_PAUSE = 9        # 1 while an operator pause is in force (until resumed)
N_ISTATE = 10
IST_NAMES = ("day", "halt", "day_stop", "pause_until", "consecutive_losses", "trades",
             "target_hit", "breaches", "day_breaches", "manual_pause")

#: Version of :meth:`core.risk.RiskKernel.snapshot`; another version is refused on restore.
SNAPSHOT_VERSION = 2

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
R_MANUAL_PAUSE = 19
R_MANUAL_KILL = 20
R_INVALID_INPUT = 21
R_MIN_NOTIONAL = 22       # the sized order is worth less than the exchange's minimum
N_REASONS = 23
REASONS = (
    "ok", "confidence below the minimum", "kill switch: cumulative loss limit",
    "account drawdown stop: manual review", "Topstep maximum loss limit breached",
    "balance below the minimum", "daily loss limit", "daily drawdown from the day's peak",
    "Topstep daily loss limit (forced break)", "consecutive-loss pause",
    "no new entries (end-of-day schedule)", "outside trading hours", "size rounds to zero",
    "volatility circuit breaker", "volume circuit breaker", "spread too wide",
    "stop distance must be positive", "profit target reached",
    "contract cap reached (position + working orders)", "paused by the operator",
    "killed by the operator (re-arm required)", "invalid input refused",
    "below the minimum notional",
)
#: Halting limits in priority order (the first breached one names the halt).
HALT_ORDER = (R_KILL_SWITCH, R_MLL, R_ACCOUNT_DRAWDOWN, R_MANUAL_KILL)
#: Day-stop limits in priority order.
DAY_ORDER = (R_DAILY_LOSS, R_TOPSTEP_DLL, R_DAILY_DRAWDOWN)

# --------------------------------------------------------------------------- operator intents
INT_PAUSE = 1             # no new entries until resumed (positions keep their brackets)
INT_RESUME = 2            # lifts an operator pause only (never a limit stop)
INT_KILL = 3              # halt; the caller flattens and cancels
INT_REARM = 4             # lifts an operator kill only (never the kill switch or the MLL)
INT_REVIEWED = 5          # manual review of an account-drawdown stop done: lift it

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

#: Compile options of the rule kernels. Rules never allocate, so they are compiled WITHOUT
#: numba's reference-counting runtime: a call between two refcounted functions wraps every
#: array argument in an atomic incref/decref pair (measured: 25–110 ns per small rule call),
#: which dominated the backtest's per-bar cost. Functions that allocate use ``JIT_ALLOC``.
JIT = {"cache": True, "nogil": True, "_nrt": False}
JIT_ALLOC = {"cache": True, "nogil": True}
