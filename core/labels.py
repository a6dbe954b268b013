"""Training targets: direction, binary, triple-barrier and volatility labels.

Every lookahead is **time**, never rows, so labels mean the same on irregular bars (missing
seconds are normal: a second without trades has no bar). The "future price" of bar ``t``
with lookahead ``L`` is the close of the last bar at or before ``t + L`` (``np.searchsorted``);
when no bar traded in ``(t, t + L]`` the price did not move and the future close is bar t's.

A label uses bar t's close and the bars in ``(t, t + L]`` only. It is **invalid** (mask
False; the label value is then meaningless, 0) when

* the window is not fully observed: ``t + L`` is after the last bar of the data, or
* the window crosses a session break. ``session="cme"``: the CME Globex session at ``t + L``
  differs from that of ``t``, or ``t`` is outside any session. ``session="rth"``: the same
  with RTH (09:30-16:00 ET) as the session - use it for RTH-filtered data, where the bars
  after 16:00 are missing from the file, not untraded. ``session=None``: 24/7 markets.

Public label functions return labels only; :func:`make_labels` returns ``(labels, valid)``
and is what training code should call. Never train on rows where ``valid`` is False.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numba as nb
import numpy as np

from core.errors import ConfigError

_NS = 1_000_000_000
KINDS: tuple[str, ...] = ("direction", "binary", "triple_barrier", "volatility")


# --------------------------------------------------------------------------- helpers
def _arrays(frame: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ts int64, high, low, close float64) of a bar frame, checked sorted."""
    from core.features.compute import bar_arrays  # shared validation and ts handling

    ts, _o, h, l, c, _v = bar_arrays(frame)
    return ts, h, l, c


def _lookahead_ns(seconds: float, what: str = "lookahead_seconds") -> int:
    if not seconds > 0:
        raise ConfigError(f"{what} must be > 0, got {seconds!r}",
                          hint="use e.g. 30 (seconds) for 1-second bars, 1800 for 1-minute bars")
    return int(round(float(seconds) * _NS))


def _session_ids(ts: np.ndarray, session: str | None) -> np.ndarray:
    """Session key per timestamp (-1 outside): CME Globex session, RTH day, or 0 for None."""
    if session is None:
        return np.zeros(ts.shape[0], dtype=np.int64)
    if session not in ("cme", "rth"):
        raise ConfigError(f"unknown session rule {session!r}",
                          hint="use 'cme' (Globex sessions), 'rth' (09:30-16:00 ET only, for "
                               "RTH-filtered data) or None (24/7 markets)")
    from core import calendar as cal

    sid = np.asarray(cal.session_id(ts), dtype=np.int64)
    if session == "rth":
        sid = np.where(cal.rth_mask(ts), sid, -1)
    return sid


def _window(ts: np.ndarray, lns: int, session: str | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(index of the last bar at or before t + L, validity of the window (t, t + L])."""
    end = ts + lns
    j = np.searchsorted(ts, end, side="right") - 1
    valid = end <= ts[-1] if ts.size else np.zeros(0, dtype=bool)
    if session is not None and ts.size:
        s0 = _session_ids(ts, session)
        s1 = _session_ids(end - 1, session)   # (t, t+L] ends just inside t + L
        valid &= (s0 >= 0) & (s0 == s1)
    return j, valid


def _threshold(close: np.ndarray, threshold_ticks: float, tick_size: float,
               threshold_pct: float | None) -> np.ndarray | float:
    if threshold_pct is not None:
        if not threshold_pct >= 0:
            raise ConfigError(f"threshold_pct must be >= 0, got {threshold_pct!r}",
                              hint="e.g. 0.75 for ±0.75 %")
        return close * (float(threshold_pct) / 100.0)
    if not tick_size > 0:
        raise ConfigError(f"tick_size must be > 0, got {tick_size!r}",
                          hint="take it from the instrument spec (MES 0.25)")
    if not threshold_ticks >= 0:
        raise ConfigError(f"threshold_ticks must be >= 0, got {threshold_ticks!r}",
                          hint="use 2-4 ticks for MES 1-second bars")
    # Half a micro-tick of tolerance: prices are on the tick grid, float sums are not exact.
    return float(threshold_ticks) * tick_size - 1e-9 * tick_size


# --------------------------------------------------------------------------- direction
def _direction(frame: Any, lookahead_seconds: float, threshold_ticks: float, tick_size: float,
               threshold_pct: float | None, session: str | None
               ) -> tuple[np.ndarray, np.ndarray]:
    ts, _h, _l, c = _arrays(frame)
    if ts.size == 0:
        return np.zeros(0, np.int8), np.zeros(0, bool)
    j, valid = _window(ts, _lookahead_ns(lookahead_seconds), session)
    thr = _threshold(c, threshold_ticks, tick_size, threshold_pct)
    d = c[j] - c
    lab = np.zeros(ts.shape[0], dtype=np.int8)
    lab[(d >= thr) & (d > 0)] = 1     # "d > 0": with a zero threshold no move stays FLAT
    lab[(d <= -thr) & (d < 0)] = -1
    lab[~valid] = 0
    return lab, valid


def direction_labels(frame: Any, *, lookahead_seconds: float = 30.0,
                     threshold_ticks: float = 3.0, tick_size: float = 0.25,
                     threshold_pct: float | None = None, session: str | None = "cme"
                     ) -> np.ndarray:
    """3-class direction: +1 UP, 0 FLAT, -1 DOWN (int8).

    UP when the future close is at least the threshold above bar t's close, DOWN when at
    least the threshold below. The threshold is ``threshold_ticks * tick_size`` or, when
    ``threshold_pct`` is given, that percentage of bar t's close (crypto).
    Invalid rows (see module doc; get the mask from :func:`make_labels`) are 0.
    """
    return _direction(frame, lookahead_seconds, threshold_ticks, tick_size, threshold_pct,
                      session)[0]


def _binary(frame: Any, lookahead_seconds: float, threshold_ticks: float, tick_size: float,
            threshold_pct: float | None, session: str | None
            ) -> tuple[np.ndarray, np.ndarray]:
    lab, valid = _direction(frame, lookahead_seconds, threshold_ticks, tick_size,
                            threshold_pct, session)
    valid = valid & (lab != 0)   # FLAT rows are not examples of either class
    return lab, valid


def binary_labels(frame: Any, *, lookahead_seconds: float = 30.0, threshold_ticks: float = 0.0,
                  tick_size: float = 0.25, threshold_pct: float | None = None,
                  session: str | None = "cme") -> np.ndarray:
    """Binary direction: +1 UP, -1 DOWN (int8); moves smaller than the threshold are 0.

    Rows labelled 0 are *invalid* for a binary model (:func:`make_labels` masks them out).
    With the default threshold 0 the label is the sign of the future move.
    """
    return _binary(frame, lookahead_seconds, threshold_ticks, tick_size, threshold_pct,
                   session)[0]


# --------------------------------------------------------------------------- triple barrier
@nb.njit(cache=True, nogil=True)
def _tb_kernel(ts: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
               sid: np.ndarray, sid_end: np.ndarray, up_off: np.ndarray, dn_off: np.ndarray,
               tlim: int, side: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    n = ts.shape[0]
    lab = np.zeros(n, dtype=np.int8)
    valid = np.zeros(n, dtype=np.bool_)
    last = ts[n - 1]
    for i in range(n):
        if sid[i] < 0:
            continue
        up = close[i] + up_off[i]
        dn = close[i] - dn_off[i]
        end = ts[i] + tlim
        j = i + 1
        decided = False
        broke = False
        while j < n and ts[j] <= end:
            if sid[j] != sid[i]:
                broke = True
                break
            hit_up = high[j] >= up - eps
            hit_dn = low[j] <= dn + eps
            stop = hit_dn if side > 0 else hit_up
            target = hit_up if side > 0 else hit_dn
            if stop:            # pessimistic: stop and target in one bar -> stop first
                lab[i] = -1
                decided = True
                break
            if target:
                lab[i] = 1
                decided = True
                break
            j += 1
        if decided:
            valid[i] = True
        elif not broke and end <= last and sid_end[i] == sid[i]:
            valid[i] = True     # time limit reached inside the session: label 0
    return lab, valid


def _triple_barrier(frame: Any, stop_ticks: float, target_ticks: float,
                    time_limit_seconds: float, tick_size: float, side: int,
                    session: str | None, stop_pct: float | None = None,
                    target_pct: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    if (stop_pct is None) != (target_pct is None) or \
            (stop_pct is not None and not (stop_pct > 0 and target_pct > 0)):
        raise ConfigError(f"stop_pct and target_pct must both be > 0 or both absent, got "
                          f"{stop_pct!r}, {target_pct!r}", hint="e.g. stop 0.5, target 0.75 (%)")
    if not (stop_ticks > 0 and target_ticks > 0):
        raise ConfigError(f"stop_ticks and target_ticks must be > 0, got {stop_ticks!r}, "
                          f"{target_ticks!r}", hint="e.g. stop 8, target 8 (MES ticks)")
    if side not in (1, -1):
        raise ConfigError(f"side must be 1 (long) or -1 (short), got {side!r}",
                          hint="side=1 labels a long bracket, side=-1 a short one")
    if not tick_size > 0:
        raise ConfigError(f"tick_size must be > 0, got {tick_size!r}",
                          hint="take it from the instrument spec (MES 0.25)")
    ts, h, l, c = _arrays(frame)
    if ts.size == 0:
        return np.zeros(0, np.int8), np.zeros(0, bool)
    tlim = _lookahead_ns(time_limit_seconds, "time_limit_seconds")
    sid = _session_ids(ts, session)
    sid_end = _session_ids(ts + tlim - 1, session)
    if stop_pct is not None:
        # Percentage-tick instruments (crypto): the bracket is a % of the entry (bar t's close)
        # rounded up to whole ticks, as core.strategy.steps.bracket_distance sizes it.
        tgt = np.maximum(np.ceil(float(target_pct) * 0.01 * c / tick_size - 1e-9), 1) * tick_size
        stp = np.maximum(np.ceil(float(stop_pct) * 0.01 * c / tick_size - 1e-9), 1) * tick_size
    else:
        tgt = np.full(len(c), float(target_ticks) * tick_size)
        stp = np.full(len(c), float(stop_ticks) * tick_size)
    up_off, dn_off = (tgt, stp) if side > 0 else (stp, tgt)
    return _tb_kernel(ts, h, l, c, sid, sid_end, up_off, dn_off, tlim, int(side),
                      1e-9 * tick_size)


def triple_barrier_labels(frame: Any, *, stop_ticks: float, target_ticks: float,
                          time_limit_seconds: float, tick_size: float = 0.25, side: int = 1,
                          session: str | None = "cme") -> np.ndarray:
    """Which barrier of a bracket entered at bar t's close is hit first (int8).

    +1 the target was hit first, -1 the stop was hit first, 0 neither within
    ``time_limit_seconds``. The geometry is the trade's bracket: for ``side=1`` (long) the
    target is ``target_ticks`` above the entry and the stop ``stop_ticks`` below; ``side=-1``
    mirrors it. Bars after t are scanned in order; a bar that touches both barriers counts
    as the stop (pessimistic, like the backtester's default). A barrier hit before the data
    end or a session break is a valid label even if the full time limit was not observed.
    """
    return _triple_barrier(frame, stop_ticks, target_ticks, time_limit_seconds, tick_size,
                           side, session)[0]


# --------------------------------------------------------------------------- volatility
@nb.njit(cache=True, nogil=True)
def _fwd_range(high: np.ndarray, low: np.ndarray, j: np.ndarray) -> np.ndarray:
    """max(high) - min(low) over rows i+1..j[i] (0 when empty); monotonic deques, O(n)."""
    n = high.shape[0]
    out = np.zeros(n)
    qmax = np.empty(n, dtype=np.int64)
    qmin = np.empty(n, dtype=np.int64)
    h0 = t0 = h1 = t1 = 0
    r = 0
    for i in range(n):
        while r <= j[i]:
            while t0 > h0 and high[qmax[t0 - 1]] <= high[r]:
                t0 -= 1
            qmax[t0] = r
            t0 += 1
            while t1 > h1 and low[qmin[t1 - 1]] >= low[r]:
                t1 -= 1
            qmin[t1] = r
            t1 += 1
            r += 1
        while h0 < t0 and qmax[h0] <= i:
            h0 += 1
        while h1 < t1 and qmin[h1] <= i:
            h1 += 1
        if j[i] > i and h0 < t0 and h1 < t1:
            out[i] = high[qmax[h0]] - low[qmin[h1]]
    return out


def _volatility(frame: Any, lookahead_seconds: float, tick_size: float, relative: bool,
                session: str | None) -> tuple[np.ndarray, np.ndarray]:
    ts, h, l, c = _arrays(frame)
    if ts.size == 0:
        return np.zeros(0), np.zeros(0, bool)
    if not relative and not tick_size > 0:
        raise ConfigError(f"tick_size must be > 0, got {tick_size!r}",
                          hint="take it from the instrument spec (MES 0.25)")
    j, valid = _window(ts, _lookahead_ns(lookahead_seconds), session)
    rng = _fwd_range(h, l, j.astype(np.int64))
    out = rng / c if relative else rng / tick_size
    out[~valid] = np.nan
    return out, valid


def volatility_labels(frame: Any, *, lookahead_seconds: float = 30.0, tick_size: float = 0.25,
                      relative: bool = False, session: str | None = "cme") -> np.ndarray:
    """Future realised range: (max high - min low) of the bars in ``(t, t + L]`` (float64).

    In ticks, or as a fraction of bar t's close with ``relative=True``. 0 when no bar traded
    in the window; NaN where the window is invalid.
    """
    return _volatility(frame, lookahead_seconds, tick_size, relative, session)[0]


# --------------------------------------------------------------------------- spec
@dataclass(frozen=True)
class LabelSpec:
    """What to predict; stored with every model so live and training agree.

    Attributes:
        kind: ``direction`` | ``binary`` | ``triple_barrier`` | ``volatility``.
        lookahead_seconds: Time lookahead (direction, binary, volatility).
        threshold_ticks: Move threshold in ticks (direction, binary).
        threshold_pct: Threshold in percent of the close instead of ticks (crypto).
        stop_ticks: Triple-barrier stop distance.
        target_ticks: Triple-barrier target distance.
        stop_pct: Triple-barrier stop in percent of the entry (crypto; with ``target_pct``).
        target_pct: Triple-barrier target in percent of the entry.
        time_limit_seconds: Triple-barrier time limit (default: ``lookahead_seconds``).
        side: Triple-barrier bracket side, 1 long or -1 short.
        relative: Volatility as a fraction of the close instead of ticks.
        session: ``"cme"`` (windows may not cross a CME session break), ``"rth"`` (nor leave
            RTH: for RTH-filtered data) or None (24/7 markets).
    """

    kind: str = "direction"
    lookahead_seconds: float = 30.0
    threshold_ticks: float = 3.0
    threshold_pct: float | None = None
    stop_ticks: float = 8.0
    target_ticks: float = 8.0
    time_limit_seconds: float | None = None
    side: int = 1
    relative: bool = False
    session: str | None = "cme"
    stop_pct: float | None = None
    target_pct: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown label kind {self.kind!r}",
                              hint=f"use one of: {', '.join(KINDS)}")
        _lookahead_ns(self.lookahead_seconds)
        if self.session not in (None, "cme", "rth"):
            raise ConfigError(f"unknown session rule {self.session!r}",
                              hint="use 'cme', 'rth' or None")
        if self.time_limit_seconds is not None:
            _lookahead_ns(self.time_limit_seconds, "time_limit_seconds")

    @property
    def classes(self) -> tuple[int, ...]:
        """Label values of a classification kind, ascending; () for regression."""
        return {"direction": (-1, 0, 1), "binary": (-1, 1), "triple_barrier": (-1, 0, 1),
                "volatility": ()}[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error (typos must not pass)."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"unknown label spec keys: {', '.join(extra)}",
                              hint=f"valid keys: {', '.join(sorted(known))}")
        return cls(**d)


def horizon_ns(spec: LabelSpec) -> int:
    """How far into the future a label looks, in ns (the walk-forward purge width)."""
    if spec.kind == "triple_barrier":
        return _lookahead_ns(spec.time_limit_seconds or spec.lookahead_seconds)
    return _lookahead_ns(spec.lookahead_seconds)


def make_labels(frame: Any, spec: LabelSpec, tick_size: float = 0.25
                ) -> tuple[np.ndarray, np.ndarray]:
    """Labels and validity mask for ``spec``.

    Returns:
        ``(labels, valid)``: int8 labels (float64 for ``volatility``) and a bool mask; rows
        with ``valid`` False must not be used for training or scoring.

    Raises:
        DataError: bad frame (core.errors).
        ConfigError: bad spec values.
    """
    if not isinstance(spec, LabelSpec):
        raise ConfigError(f"make_labels expects a LabelSpec, got {type(spec).__name__}",
                          hint="build one with LabelSpec(kind=...) or LabelSpec.from_dict")
    if spec.kind == "direction":
        return _direction(frame, spec.lookahead_seconds, spec.threshold_ticks, tick_size,
                          spec.threshold_pct, spec.session)
    if spec.kind == "binary":
        return _binary(frame, spec.lookahead_seconds, spec.threshold_ticks, tick_size,
                       spec.threshold_pct, spec.session)
    if spec.kind == "triple_barrier":
        return _triple_barrier(frame, spec.stop_ticks, spec.target_ticks,
                               spec.time_limit_seconds or spec.lookahead_seconds,
                               tick_size, spec.side, spec.session, spec.stop_pct,
                               spec.target_pct)
    return _volatility(frame, spec.lookahead_seconds, tick_size, spec.relative, spec.session)
