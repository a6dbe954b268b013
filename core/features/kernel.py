"""The compiled per-bar feature kernel shared by the batch and the streaming forms.

Why one kernel: the requirement is that research (batch) and live (streaming) give the *same
numbers*. Two implementations can only be made to agree approximately (rolling sums drift
differently from cumsum differences, EMA seeds differ, ...). Here every feature is written
once as an O(1) recurrence over a small state (running EMAs, ring buffers, running window
sums, pointers) in :func:`step`. The batch form is a compiled loop calling :func:`step` over
every row (:func:`run_batch`); the streaming form calls the same compiled :func:`step` for
one bar (:func:`run_one`). Both therefore produce bit-identical float64 values, which are
then stored as float32.

Slots: every feature has a fixed slot in a float64 scratch row of length :data:`F_ALL`; a
feature set selects slots (``colmap``) and supplies the parameters (lookbacks in ns, spans in
bars). The registry (``registry.py``) names and versions the slots.

State layout (all arrays owned by ``compute._State``):

* ``pi``  int64 params: see the ``P_*`` offsets below.
* ``fs``  float64 scalar state (EMAs, Wilder averages, VWAP sums, MTF EMAs) - ``S_*``.
* ``is_`` int64 scalar state (bar count, session pointer, VWAP segment, MTF bucket ids).
* ``rts``/``rf`` ring of the last ``CAP`` bars: timestamp and ``R_*`` float fields.
* ``lbp`` per time lookback: absolute ring index of the last bar at or before ``t - L``.
* ``wp``/``wsum``/``wforced`` per time window ``(t - W, t]``: start pointer, running sums,
  timestamp of the newest bar that had to be evicted early because the ring was full.
* ``tfc`` per higher timeframe: ring of completed-bucket closes.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

NS_MIN = 60_000_000_000
INT64_MIN = np.iinfo(np.int64).min

# ---------------------------------------------------------------- sizes
N_RET = 5        # return lookbacks (seconds)
N_MOM = 2        # momentum lookbacks (seconds)
N_LB = N_RET + N_MOM
N_WIN = 3        # rolling time windows (seconds)
N_EMA = 4
N_TF = 2         # higher timeframes
TFC_CAP = 8      # completed-bucket closes kept per timeframe (>= mtf momentum bars + 1)

# ---------------------------------------------------------------- int params (pi)
P_LB = 0                      # N_LB lookbacks, ns
P_WIN = P_LB + N_LB           # N_WIN windows, ns
P_TF = P_WIN + N_WIN          # N_TF timeframes, ns
P_EMA = P_TF + N_TF           # N_EMA spans, bars
P_RSI = P_EMA + N_EMA
P_MACD_F = P_RSI + 1
P_MACD_S = P_MACD_F + 1
P_MACD_SIG = P_MACD_S + 1
P_BB = P_MACD_SIG + 1
P_ATR = P_BB + 1
P_SLOPE = P_ATR + 1           # bars of the EMA slope in trend strength
P_MTF_MOM = P_SLOPE + 1       # completed higher-TF bars of MTF momentum
P_MTF_FAST = P_MTF_MOM + 1
P_MTF_SLOW = P_MTF_FAST + 1
P_BB_K_X100 = P_MTF_SLOW + 1  # Bollinger width multiplier x 100 (int: keeps pi one dtype)
N_PI = P_BB_K_X100 + 1

# ---------------------------------------------------------------- float state (fs)
S_EMA = 0                     # N_EMA
S_MACD_F = S_EMA + N_EMA
S_MACD_S = S_MACD_F + 1
S_MACD_SIG = S_MACD_S + 1
S_RSI_G = S_MACD_SIG + 1
S_RSI_L = S_RSI_G + 1
S_ATR = S_RSI_L + 1
S_PREV_C = S_ATR + 1
S_VW_PV = S_PREV_C + 1
S_VW_V = S_VW_PV + 1
S_TF = S_VW_V + 1             # per TF: ema fast, ema slow
N_FS = S_TF + 2 * N_TF

# ---------------------------------------------------------------- int state (is_)
I_N = 0                       # bars seen
I_NCHG = 1                    # close changes seen (RSI)
I_VW_SEG = 2                  # VWAP segment key
I_SESS = 3                    # session table pointer
I_TF = 4                      # per TF: current bucket id, completed count
N_IS = I_TF + 2 * N_TF

# ---------------------------------------------------------------- ring float fields (rf)
R_CLOSE = 0
R_LOGRET = 1
R_RANGE = 2
R_VOL = 3
R_EMA_SLOPE = 4               # EMA (span index 1) for the trend-strength slope
N_RF = 5

# ---------------------------------------------------------------- window sums (wsum)
W_R = 0
W_R2 = 1
W_NR = 2
W_RNG = 3
W_VOL = 4
W_N = 5
N_WS = 6

# ---------------------------------------------------------------- session table columns
C_OPEN, C_CLOSE, C_RTH_OPEN, C_RTH_CLOSE, C_FLAT, C_DAY = 0, 1, 2, 3, 4, 5
N_SESS_COLS = 6

# ---------------------------------------------------------------- output slots
F_RET = 0                     # N_RET
F_LOGRET = F_RET + N_RET      # N_RET
F_MOM = F_LOGRET + N_RET      # N_MOM
F_VOL = F_MOM + N_MOM         # N_WIN
F_RANGE = F_VOL + N_WIN
F_RNGMEAN = F_RANGE + 1       # windows 1, 2
F_DIR = F_RNGMEAN + 2
F_UWICK = F_DIR + 1
F_LWICK = F_UWICK + 1
F_BODY = F_LWICK + 1
F_VREL = F_BODY + 1           # windows 1, 2
F_EMA = F_VREL + 2            # N_EMA
F_RSI = F_EMA + N_EMA
F_MACD = F_RSI + 1
F_MACD_SIG = F_MACD + 1
F_MACD_HIST = F_MACD_SIG + 1
F_BB_POS = F_MACD_HIST + 1
F_BB_WIDTH = F_BB_POS + 1
F_ATR = F_BB_WIDTH + 1
F_VWAP = F_ATR + 1
F_TOD_SIN = F_VWAP + 1
F_TOD_COS = F_TOD_SIN + 1
F_MIN_OPEN = F_TOD_COS + 1
F_DOW = F_MIN_OPEN + 1
F_MIN_CLOSE = F_DOW + 1
F_MIN_RTH_CLOSE = F_MIN_CLOSE + 1
F_MIN_FLAT = F_MIN_RTH_CLOSE + 1
F_MTF = F_MIN_FLAT + 1        # per TF: momentum, trend
F_VOL_REGIME = F_MTF + 2 * N_TF
F_TREND = F_VOL_REGIME + 1
F_ALL = F_TREND + 1

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@nb.njit(**_JIT)
def _ema(prev: float, x: float, span: int, first: bool) -> float:
    """EMA recursion with alpha = 2 / (span + 1), seeded with the first value."""
    if first:
        return x
    return prev + (2.0 / (span + 1.0)) * (x - prev)


@nb.njit(**_JIT)
def _win_add(wsum: np.ndarray, w: int, rf: np.ndarray, slot: int, sign: float) -> None:
    """Add (sign=+1) or remove (sign=-1) ring entry ``slot`` to/from window ``w``'s sums."""
    r = rf[slot, R_LOGRET]
    if r == r:  # the first bar has no return (NaN): never counted
        wsum[w, W_R] += sign * r
        wsum[w, W_R2] += sign * r * r
        wsum[w, W_NR] += sign
    wsum[w, W_RNG] += sign * rf[slot, R_RANGE]
    wsum[w, W_VOL] += sign * rf[slot, R_VOL]
    wsum[w, W_N] += sign


@nb.njit(**_JIT)
def step(ts: int, o: float, h: float, l: float, c: float, v: float,
         pi: np.ndarray, fs: np.ndarray, is_: np.ndarray, rts: np.ndarray, rf: np.ndarray,
         lbp: np.ndarray, wp: np.ndarray, wsum: np.ndarray, wforced: np.ndarray,
         tfc: np.ndarray, sess: np.ndarray, full: np.ndarray) -> None:
    """Advance the state by one bar and write every feature slot into ``full`` (float64).

    Bars must arrive with strictly increasing ``ts`` (callers check). Everything here uses
    the current bar and earlier ones only.
    """
    nan = np.nan
    cap = rts.shape[0]
    cm = cap - 1                      # ring capacity is a power of two: slot = i & cm
    n = is_[I_N]                      # index this bar gets
    first = n == 0
    pc = fs[S_PREV_C]
    for k in range(F_ALL):
        full[k] = nan

    # ------------------------------------------------ multi-timeframe (completed buckets only)
    for k in range(N_TF):
        tf = pi[P_TF + k]
        bucket = ts // tf
        cur = is_[I_TF + 2 * k]
        if cur >= 0 and bucket > cur:
            # The bucket ``cur`` is complete: its close is the previous bar's close.
            m = is_[I_TF + 2 * k + 1]
            tfc[k, m % TFC_CAP] = pc
            fs[S_TF + 2 * k] = _ema(fs[S_TF + 2 * k], pc, pi[P_MTF_FAST], m == 0)
            fs[S_TF + 2 * k + 1] = _ema(fs[S_TF + 2 * k + 1], pc, pi[P_MTF_SLOW], m == 0)
            is_[I_TF + 2 * k + 1] = m + 1
        is_[I_TF + 2 * k] = bucket
        m = is_[I_TF + 2 * k + 1]
        mb = pi[P_MTF_MOM]
        if m > mb:
            last = tfc[k, (m - 1) % TFC_CAP]
            full[F_MTF + 2 * k] = last / tfc[k, (m - 1 - mb) % TFC_CAP] - 1.0
        if m >= pi[P_MTF_SLOW]:
            last = tfc[k, (m - 1) % TFC_CAP]
            full[F_MTF + 2 * k + 1] = (fs[S_TF + 2 * k] - fs[S_TF + 2 * k + 1]) / last

    # ------------------------------------------------ bar-based indicators
    for k in range(N_EMA):
        fs[S_EMA + k] = _ema(fs[S_EMA + k], c, pi[P_EMA + k], first)
        if n + 1 >= pi[P_EMA + k]:
            full[F_EMA + k] = (c - fs[S_EMA + k]) / c
    fs[S_MACD_F] = _ema(fs[S_MACD_F], c, pi[P_MACD_F], first)
    fs[S_MACD_S] = _ema(fs[S_MACD_S], c, pi[P_MACD_S], first)
    macd = fs[S_MACD_F] - fs[S_MACD_S]
    fs[S_MACD_SIG] = _ema(fs[S_MACD_SIG], macd, pi[P_MACD_SIG], first)
    if n + 1 >= pi[P_MACD_S] + pi[P_MACD_SIG] - 1:
        full[F_MACD] = macd / c
        full[F_MACD_SIG] = fs[S_MACD_SIG] / c
        full[F_MACD_HIST] = (macd - fs[S_MACD_SIG]) / c

    # RSI (Wilder): seeded with the simple mean of the first ``n_rsi`` changes.
    nr = pi[P_RSI]
    if not first:
        d = c - pc
        g = d if d > 0.0 else 0.0
        lo = -d if d < 0.0 else 0.0
        m = is_[I_NCHG] + 1
        is_[I_NCHG] = m
        if m <= nr:
            fs[S_RSI_G] += g
            fs[S_RSI_L] += lo
            if m == nr:
                fs[S_RSI_G] /= nr
                fs[S_RSI_L] /= nr
        else:
            fs[S_RSI_G] = (fs[S_RSI_G] * (nr - 1) + g) / nr
            fs[S_RSI_L] = (fs[S_RSI_L] * (nr - 1) + lo) / nr
        if m >= nr:
            ag, al = fs[S_RSI_G], fs[S_RSI_L]
            if al == 0.0:
                full[F_RSI] = 100.0 if ag > 0.0 else 50.0
            else:
                full[F_RSI] = 100.0 - 100.0 / (1.0 + ag / al)

    # ATR (Wilder) of the true range; the first bar's true range is its high - low.
    na = pi[P_ATR]
    tr = h - l if first else max(h, pc) - min(l, pc)
    if n + 1 <= na:
        fs[S_ATR] += tr
        if n + 1 == na:
            fs[S_ATR] /= na
    else:
        fs[S_ATR] = (fs[S_ATR] * (na - 1) + tr) / na
    atr_ok = n + 1 >= na
    if atr_ok:
        full[F_ATR] = fs[S_ATR] / c

    # ------------------------------------------------ per-bar microstructure
    rng = h - l
    full[F_RANGE] = rng / c
    full[F_DIR] = 1.0 if c > o else (-1.0 if c < o else 0.0)
    if rng > 0.0:
        full[F_UWICK] = (h - max(o, c)) / rng
        full[F_LWICK] = (min(o, c) - l) / rng
        full[F_BODY] = (c - o) / rng
    else:  # a one-price bar has no shape: neutral values, not NaN
        full[F_UWICK] = 0.0
        full[F_LWICK] = 0.0
        full[F_BODY] = 0.0

    # ------------------------------------------------ ring push (time-based features)
    old = n - cap
    if old >= 0:
        # The slot is about to be overwritten: evict that bar from windows still holding it
        # and remember its time, so a window that really needed it reports NaN.
        oslot = old & cm
        for w in range(N_WIN):
            if wp[w] <= old:
                _win_add(wsum, w, rf, oslot, -1.0)
                wp[w] = old + 1
                wforced[w] = rts[oslot]
    slot = n & cm
    logret = math.log(c / pc) if not first else nan
    rts[slot] = ts
    rf[slot, R_CLOSE] = c
    rf[slot, R_LOGRET] = logret
    rf[slot, R_RANGE] = rng / c
    rf[slot, R_VOL] = v
    rf[slot, R_EMA_SLOPE] = fs[S_EMA + 1]
    n1 = n + 1
    is_[I_N] = n1
    lo_idx = n1 - cap if n1 > cap else 0   # oldest absolute index still in the ring

    # Lookbacks: last bar at or before t - L (pointer only moves forward).
    for k in range(N_LB):
        target = ts - pi[P_LB + k]
        p = lbp[k]
        if p + 1 < lo_idx:
            p = lo_idx - 1                 # entries in between were overwritten
        while p + 1 < n1 and rts[(p + 1) & cm] <= target:
            p += 1
        lbp[k] = p
        if p >= lo_idx and p >= 0:
            c0 = rf[p & cm, R_CLOSE]
            if k < N_RET:
                full[F_RET + k] = c / c0 - 1.0
                full[F_LOGRET + k] = math.log(c / c0)
            else:
                full[F_MOM + k - N_RET] = c / c0 - 1.0

    # Windows (t - W, t]: add the new bar, drop bars that left.
    for w in range(N_WIN):
        _win_add(wsum, w, rf, slot, 1.0)
        start = ts - pi[P_WIN + w]
        p = wp[w]
        while p < n1 and rts[p & cm] <= start:
            _win_add(wsum, w, rf, p & cm, -1.0)
            p += 1
        wp[w] = p
        if wsum[w, W_N] <= 0.5:
            for j in range(N_WS):           # empty window: reset sums (kills float drift)
                wsum[w, j] = 0.0
        if wforced[w] > start:
            continue                        # window lost bars to ring overflow: unknown
        nrw = wsum[w, W_NR]
        if nrw >= 1.5:
            var = (wsum[w, W_R2] - wsum[w, W_R] * wsum[w, W_R] / nrw) / (nrw - 1.0)
            full[F_VOL + w] = math.sqrt(var) if var > 0.0 else 0.0
        if w >= 1:
            cnt = wsum[w, W_N]
            full[F_RNGMEAN + w - 1] = max(wsum[w, W_RNG] / cnt, 0.0)  # drift floor
            mv = wsum[w, W_VOL] / cnt
            full[F_VREL + w - 1] = v / mv if mv > 0.0 else nan
    v1, v2 = full[F_VOL + 1], full[F_VOL + 2]
    if v1 == v1 and v2 == v2:
        full[F_VOL_REGIME] = v1 / v2 if v2 > 0.0 else 1.0

    # Bollinger over the last ``nb`` closes (two-pass over the ring: no cancellation).
    nbb = pi[P_BB]
    if n1 >= nbb and nbb <= cap:
        s = 0.0
        for j in range(n1 - nbb, n1):
            s += rf[j & cm, R_CLOSE]
        mean = s / nbb
        s2 = 0.0
        for j in range(n1 - nbb, n1):
            d = rf[j & cm, R_CLOSE] - mean
            s2 += d * d
        sd = math.sqrt(s2 / nbb)
        kk = pi[P_BB_K_X100] / 100.0
        full[F_BB_POS] = 0.5 + (c - mean) / (2.0 * kk * sd) if sd > 0.0 else 0.5
        full[F_BB_WIDTH] = 2.0 * kk * sd / mean

    # Trend strength: |EMA slope over ``sl`` bars| / (sl * ATR).
    sl = pi[P_SLOPE]
    if atr_ok and n1 > sl and n1 - sl >= pi[P_EMA + 1] and sl < cap:
        e_then = rf[(n1 - 1 - sl) & cm, R_EMA_SLOPE]
        atr = fs[S_ATR]
        full[F_TREND] = abs(fs[S_EMA + 1] - e_then) / (sl * atr) if atr > 0.0 else 0.0

    # ------------------------------------------------ session: time features and VWAP
    ns = sess.shape[0]
    p = is_[I_SESS]
    while p < ns and sess[p, C_CLOSE] <= ts:
        p += 1
    is_[I_SESS] = p
    seg = -1
    if p < ns and sess[p, C_OPEN] <= ts:
        rth_open = sess[p, C_RTH_OPEN]
        mins = (ts - rth_open) / NS_MIN
        ang = 2.0 * math.pi * mins / 1440.0
        full[F_TOD_SIN] = math.sin(ang)
        full[F_TOD_COS] = math.cos(ang)
        full[F_MIN_OPEN] = mins
        day = sess[p, C_DAY]
        full[F_DOW] = float((day + 3) % 7)   # 1970-01-01 was a Thursday; Monday = 0
        full[F_MIN_CLOSE] = (sess[p, C_CLOSE] - ts) / NS_MIN
        full[F_MIN_RTH_CLOSE] = (sess[p, C_RTH_CLOSE] - ts) / NS_MIN
        full[F_MIN_FLAT] = (sess[p, C_FLAT] - ts) / NS_MIN
        seg = 2 * day + (1 if ts >= rth_open else 0)
    if seg != is_[I_VW_SEG]:
        fs[S_VW_PV] = 0.0
        fs[S_VW_V] = 0.0
        is_[I_VW_SEG] = seg
    if seg >= 0:
        fs[S_VW_PV] += (h + l + c) / 3.0 * v
        fs[S_VW_V] += v
        if fs[S_VW_V] > 0.0:
            full[F_VWAP] = (c - fs[S_VW_PV] / fs[S_VW_V]) / c

    fs[S_PREV_C] = c


@nb.njit(**_JIT)
def run_batch(ts: np.ndarray, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray,
              v: np.ndarray, pi: np.ndarray, fs: np.ndarray, is_: np.ndarray,
              rts: np.ndarray, rf: np.ndarray, lbp: np.ndarray, wp: np.ndarray,
              wsum: np.ndarray, wforced: np.ndarray, tfc: np.ndarray, sess: np.ndarray,
              full: np.ndarray, colmap: np.ndarray, out: np.ndarray, row0: int) -> None:
    """Run :func:`step` over arrays, writing selected slots to ``out[row0 + i]`` (float32)."""
    nc = colmap.shape[0]
    for i in range(ts.shape[0]):
        step(ts[i], o[i], h[i], l[i], c[i], v[i], pi, fs, is_, rts, rf, lbp, wp, wsum,
             wforced, tfc, sess, full)
        r = row0 + i
        for j in range(nc):
            out[r, j] = full[colmap[j]]


@nb.njit(**_JIT)
def run_one(ts: int, o: float, h: float, l: float, c: float, v: float, pi: np.ndarray,
            fs: np.ndarray, is_: np.ndarray, rts: np.ndarray, rf: np.ndarray,
            lbp: np.ndarray, wp: np.ndarray, wsum: np.ndarray, wforced: np.ndarray,
            tfc: np.ndarray, sess: np.ndarray, full: np.ndarray, colmap: np.ndarray,
            out: np.ndarray) -> None:
    """One streaming update: :func:`step` then copy the selected slots into ``out``."""
    step(ts, o, h, l, c, v, pi, fs, is_, rts, rf, lbp, wp, wsum, wforced, tfc, sess, full)
    for j in range(colmap.shape[0]):
        out[j] = full[colmap[j]]
