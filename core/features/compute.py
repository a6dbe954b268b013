"""Batch (:func:`compute_features`) and streaming (:class:`FeatureStream`) feature forms.

Both run the compiled kernel of ``kernel.py`` over the same state layout, so a
``FeatureStream`` fed the rows of a frame one by one returns exactly the rows of
``compute_features(frame)``. Internal arithmetic is float64; outputs are float32 (the
matrix of 15.8 M rows x ~50 features is ~3 GB in float32, twice that in float64).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from core.errors import ConfigError, DataError
from core.features import kernel as K
from core.features.registry import colmap, feature_names, feature_set_spec
from core.features.sessions import session_table

_CHUNK = 1 << 20
_STREAM_TABLE_DAYS = 45
_NS_PER_DAY = 86_400 * 1_000_000_000


class _State:
    """All mutable kernel state of one feature computation (see ``kernel.py``)."""

    def __init__(self, feature_set: str) -> None:
        spec = feature_set_spec(feature_set)
        self.spec = spec
        self.pi = spec.int_params()
        cap = int(spec.ring_capacity)
        if cap < 64 or cap & (cap - 1):
            raise ConfigError(f"feature set {feature_set!r}: ring_capacity {cap} must be a "
                              "power of two >= 64", hint="e.g. 2048")
        self.fs = np.zeros(K.N_FS, dtype=np.float64)
        self.is_ = np.zeros(K.N_IS, dtype=np.int64)
        self.is_[K.I_VW_SEG] = -2
        for k in range(K.N_TF):
            self.is_[K.I_TF + 2 * k] = -1
        self.rts = np.zeros(cap, dtype=np.int64)
        self.rf = np.zeros((cap, K.N_RF), dtype=np.float64)
        self.lbp = np.full(K.N_LB, -1, dtype=np.int64)
        self.wp = np.zeros(K.N_WIN, dtype=np.int64)
        self.wsum = np.zeros((K.N_WIN, K.N_WS), dtype=np.float64)
        self.wforced = np.full(K.N_WIN, K.INT64_MIN, dtype=np.int64)
        self.tfc = np.zeros((K.N_TF, K.TFC_CAP), dtype=np.float64)
        self.full = np.empty(K.F_ALL, dtype=np.float64)
        self.sess = np.empty((0, K.N_SESS_COLS), dtype=np.int64)

    def set_sessions(self, first_ns: int, last_ns: int) -> None:
        """Install a session table covering ``[first_ns, last_ns]`` and rewind its pointer."""
        self.sess = session_table(first_ns, last_ns, self.spec.flatten_hhmm,
                                  self.spec.flatten_tz)
        self.is_[K.I_SESS] = 0

    def args(self) -> tuple[np.ndarray, ...]:
        """Kernel state arguments, in kernel order (after the bar values)."""
        return (self.pi, self.fs, self.is_, self.rts, self.rf, self.lbp, self.wp, self.wsum,
                self.wforced, self.tfc, self.sess, self.full)


def _column(frame: Any, name: str) -> np.ndarray:
    try:
        col = frame[name]
    except (KeyError, IndexError, TypeError):
        raise DataError(f"bar frame has no column {name!r}",
                        hint="pass a canonical bar frame (core.datasets.schema): timestamp, "
                             "open, high, low, close, volume") from None
    return col.to_numpy() if hasattr(col, "to_numpy") else np.asarray(col)


def bar_arrays(frame: Any) -> tuple[np.ndarray, ...]:
    """(ts int64 ns, open, high, low, close, volume float64) from a bar frame, validated.

    Accepts a canonical bar frame (or any mapping of arrays with its columns). A ``ts``
    datetime column (as in the shared Parquet samples) is accepted in place of
    ``timestamp``.

    Raises:
        DataError: a column is missing, timestamps are not strictly increasing, prices
            are NaN or not positive.
    """
    has_ts = isinstance(frame, Mapping) or hasattr(frame, "columns")
    cols = set(frame.keys()) if has_ts else set()
    tname = "ts" if ("timestamp" not in cols and "ts" in cols) else "timestamp"
    _column(frame, tname)  # raises the clear error when missing
    raw = frame[tname]
    if getattr(getattr(raw, "dtype", None), "tz", None) is not None:
        raw = raw.dt.tz_convert("UTC").dt.tz_localize(None)  # tz-aware pandas column
    ts = raw.to_numpy() if hasattr(raw, "to_numpy") else np.asarray(raw)
    if ts.dtype.kind == "M":
        ts = ts.astype("datetime64[ns]").view(np.int64)
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    arrs = [np.ascontiguousarray(_column(frame, c), dtype=np.float64)
            for c in ("open", "high", "low", "close", "volume")]
    n = ts.shape[0]
    if any(a.shape[0] != n for a in arrs):
        raise DataError("bar frame columns have different lengths", hint="rebuild the frame")
    if n > 1:
        bad = np.flatnonzero(ts[1:] <= ts[:-1])
        if bad.size:
            i = int(bad[0]) + 1
            raise DataError(f"timestamps are not strictly increasing at row {i} "
                            f"({ts[i - 1]} then {ts[i]})",
                            hint="sort the bars and drop duplicates (scalpdesk data validate)")
    for name, a in zip(("open", "high", "low", "close", "volume"), arrs):
        nan = np.flatnonzero(np.isnan(a))
        if nan.size:
            raise DataError(f"column {name!r} is NaN at row {int(nan[0])}",
                            hint="drop or repair the bar (scalpdesk data validate)")
    nonpos = np.flatnonzero(arrs[3] <= 0.0)
    if nonpos.size:
        raise DataError(f"close is not positive at row {int(nonpos[0])}",
                        hint="features use log returns; check the price scale of the source")
    return (ts, *arrs)


def compute_features(frame: Any, feature_set: str = "default", *,
                     progress: Callable[[float], None] | None = None
                     ) -> tuple[np.ndarray, list[str]]:
    """Compute every feature of ``feature_set`` for every bar of ``frame`` (batch form).

    Row ``i`` depends only on rows ``<= i`` (causal); it equals what
    :class:`FeatureStream` returns after being fed rows ``0..i``.

    Args:
        frame: Canonical bar frame (sorted, strictly increasing ``timestamp``).
        feature_set: Name of a feature set (see :func:`core.features.feature_set_names`).
        progress: Optional callback receiving the fraction done (0..1).

    Returns:
        ``(X, names)``: float32 matrix ``(n_rows, n_features)``, NaN during warm-up, and the
        column names.

    Raises:
        DataError: bad frame (missing columns, unsorted, NaN prices).
        ConfigError: unknown feature set.
    """
    names = feature_names(feature_set)
    cm = colmap(feature_set)
    ts, o, h, l, c, v = bar_arrays(frame)
    n = ts.shape[0]
    out = np.empty((n, len(names)), dtype=np.float32)
    if n == 0:
        return out, names
    st = _State(feature_set)
    st.set_sessions(int(ts[0]), int(ts[-1]))
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        K.run_batch(ts[a:b], o[a:b], h[a:b], l[a:b], c[a:b], v[a:b], *st.args(), cm, out, a)
        if progress is not None:
            progress(b / n)
    return out, names


def iter_features(frame: Any, feature_set: str = "default", *, chunk_rows: int = 1 << 20
                  ) -> Iterator[tuple[int, np.ndarray]]:
    """Batch form in bounded memory: yield ``(first_row, X_chunk)`` over consecutive rows.

    The kernel state carries from chunk to chunk, so the concatenated chunks equal
    :func:`compute_features` exactly. Use it when the full matrix would not fit (33 M
    full-session 1-second rows x 49 features is ~6.5 GB in float32).

    Args:
        frame: Canonical bar frame.
        feature_set: Name of a feature set.
        chunk_rows: Rows per yielded chunk (each chunk is a new float32 array).
    """
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be >= 1, got {chunk_rows}", hint="e.g. 1048576")
    names = feature_names(feature_set)
    cm = colmap(feature_set)
    ts, o, h, l, c, v = bar_arrays(frame)
    n = ts.shape[0]
    if n == 0:
        return
    st = _State(feature_set)
    st.set_sessions(int(ts[0]), int(ts[-1]))
    for a in range(0, n, chunk_rows):
        b = min(n, a + chunk_rows)
        out = np.empty((b - a, len(names)), dtype=np.float32)
        K.run_batch(ts[a:b], o[a:b], h[a:b], l[a:b], c[a:b], v[a:b], *st.args(), cm, out, 0)
        yield a, out


class FeatureStream:
    """Streaming form: O(1) work per new bar, the same numbers as :func:`compute_features`.

    ``update`` returns a preallocated float32 row that is overwritten by the next call
    (copy it if you keep it). Feed bars in strictly increasing time order.

    Args:
        feature_set: Name of a feature set.
    """

    def __init__(self, feature_set: str = "default") -> None:
        self.feature_set = feature_set
        self.names: list[str] = feature_names(feature_set)
        self._cm = colmap(feature_set)
        self._row = np.empty(len(self.names), dtype=np.float32)
        self._st = _State(feature_set)
        self._sess_end = np.iinfo(np.int64).min   # table must be (re)built before this ts
        self._last_ts = np.iinfo(np.int64).min

    @property
    def n_bars(self) -> int:
        """Bars consumed so far."""
        return int(self._st.is_[K.I_N])

    def reset(self) -> None:
        """Forget every bar (e.g. after a data gap you do not want to bridge)."""
        self.__init__(self.feature_set)

    def warm_up(self, frame: Any) -> np.ndarray:
        """Consume many historical bars at batch speed (e.g. at engine start-up).

        Runs the same compiled kernel as :func:`compute_features` on this stream's state, so
        ``warm_up(history)`` followed by ``update`` calls gives exactly the rows a batch run
        over ``history + new bars`` gives.

        Returns:
            The feature row of the last bar (the reused buffer), or the current buffer when
            ``frame`` is empty.

        Raises:
            DataError: bad frame, or its first bar is not after the last consumed bar.
        """
        ts, o, h, l, c, v = bar_arrays(frame)
        n = ts.shape[0]
        if n == 0:
            return self._row
        if int(ts[0]) <= self._last_ts:
            raise DataError(f"warm_up: first bar at {int(ts[0])} is not after the last "
                            f"consumed bar at {self._last_ts}",
                            hint="warm up before streaming, with history older than live bars")
        if int(ts[-1]) >= self._sess_end:
            self._st.set_sessions(int(ts[0]), int(ts[-1]) + _STREAM_TABLE_DAYS * _NS_PER_DAY)
            sess = self._st.sess
            self._sess_end = int(sess[-1, K.C_CLOSE]) if len(sess) else int(ts[-1]) + _NS_PER_DAY
        chunk = 1 << 16
        buf = np.empty((min(n, chunk), len(self.names)), dtype=np.float32)
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            K.run_batch(ts[a:b], o[a:b], h[a:b], l[a:b], c[a:b], v[a:b], *self._st.args(),
                        self._cm, buf, 0)
        self._row[:] = buf[(n - 1) % chunk]
        self._last_ts = int(ts[-1])
        return self._row

    def update(self, ts_ns: int, o: float, h: float, l: float, c: float, v: float
               ) -> np.ndarray:
        """Consume one completed bar and return its feature row (float32, reused buffer).

        Raises:
            DataError: ``ts_ns`` is not after the previous bar, or a price is NaN/not positive.
        """
        ts = int(ts_ns)
        if ts <= self._last_ts:
            raise DataError(f"bar at {ts} is not after the previous bar at {self._last_ts}",
                            hint="feed bars in time order without duplicates")
        if not c > 0.0 or o != o or h != h or l != l or v != v:
            raise DataError(f"bad bar at {ts}: o={o} h={h} l={l} c={c} v={v}",
                            hint="prices must be finite and positive, volume not NaN")
        if ts >= self._sess_end:
            self._st.set_sessions(ts, ts + _STREAM_TABLE_DAYS * _NS_PER_DAY)
            sess = self._st.sess
            self._sess_end = int(sess[-1, K.C_CLOSE]) if len(sess) else ts + _NS_PER_DAY
        self._last_ts = ts
        K.run_one(ts, float(o), float(h), float(l), float(c), float(v), *self._st.args(),
                  self._cm, self._row)
        return self._row
