"""Features: batch == streaming, each definition vs an independent slow reference, causality.

The reference implementations below are written from the definitions in
``core/features/registry.py`` with plain numpy/pandas (searchsorted lookbacks, explicit
windows, pandas EWM/rolling, calendar queries): they share no code with the kernel.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import calendar as cal
from core.datasets.schema import make_frame
from core.errors import ConfigError, DataError, ModelError
from core.features import (
    FEATURE_SET_VERSION,
    FeatureStream,
    Normalizer,
    compute_features,
    feature_defs,
    feature_names,
    feature_set_fingerprint,
    feature_set_names,
    feature_set_spec,
    feature_versions,
)
from core.features.causality import check_causal
from core.features.registry import fmt_seconds

NS = 1_000_000_000
TICK = 0.25


# ----------------------------------------------------------------------------- data
def irregular_frame(ts: np.ndarray, seed: int) -> pd.DataFrame:
    """Random-walk bars on the tick grid at the given timestamps (int64 ns)."""
    rng = np.random.default_rng(seed)
    n = len(ts)
    c = 5000.0 + np.cumsum(rng.integers(-2, 3, n)) * TICK
    o = np.r_[c[0], c[:-1]]
    h = np.maximum(o, c) + rng.integers(0, 2, n) * TICK
    lo = np.minimum(o, c) - rng.integers(0, 2, n) * TICK
    v = rng.integers(1, 50, n)
    return make_frame(ts, o, h, lo, c, v, "MES")


def _segment(day: str, hhmm: str, seconds: int, rng: np.random.Generator) -> np.ndarray:
    start = cal.local_time_ns(day, hhmm, cal.ET)
    gaps = rng.choice([1, 1, 1, 1, 2, 3, 7, 20], size=seconds)
    s = np.cumsum(gaps)
    return start + s[s < seconds] * NS


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """~1,500 irregular 1-s bars: RTH morning, the RTH close into the evening, the next
    pre-open through the 09:30 ET open (VWAP resets, session changes, big gaps)."""
    rng = np.random.default_rng(7)
    ts = np.concatenate([_segment("2024-03-05", "09:30", 2400, rng),
                         _segment("2024-03-05", "15:50", 1200, rng),
                         _segment("2024-03-06", "09:00", 3000, rng)])
    return irregular_frame(ts, seed=1)


def stream_all(f: pd.DataFrame, feature_set: str = "default") -> np.ndarray:
    fs = FeatureStream(feature_set)
    ts = f["timestamp"].to_numpy()
    cols = [f[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume")]
    out = np.empty((len(ts), len(fs.names)), dtype=np.float32)
    for i in range(len(ts)):
        out[i] = fs.update(int(ts[i]), cols[0][i], cols[1][i], cols[2][i], cols[3][i],
                           cols[4][i])
    return out


def read_shared(path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    t = pq.read_table(path).to_pandas()
    ts = t["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    ts = ts.astype("datetime64[ns]").view(np.int64)
    return make_frame(ts, t["open"], t["high"], t["low"], t["close"], t["volume"],
                      t["symbol"].astype(str).to_numpy())


# ----------------------------------------------------------------------------- reference
def _ewm(x: np.ndarray, span: int) -> np.ndarray:
    return pd.Series(x).ewm(span=span, adjust=False).mean().to_numpy()


def _wilder(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder average seeded with the simple mean of the first n values (NaN before)."""
    out = np.full(len(x), np.nan)
    if len(x) < n:
        return out
    a = x[:n].mean()
    out[n - 1] = a
    for i in range(n, len(x)):
        a = (a * (n - 1) + x[i]) / n
        out[i] = a
    return out


def reference(f: pd.DataFrame, feature_set: str) -> dict[str, np.ndarray]:
    spec = feature_set_spec(feature_set)
    ts = f["timestamp"].to_numpy()
    o, h, lo, c, v = (f[k].to_numpy(dtype=np.float64)
                      for k in ("open", "high", "low", "close", "volume"))
    n = len(ts)
    idx = np.arange(n)
    out: dict[str, np.ndarray] = {}
    nan = np.full(n, np.nan)

    def warm(x: np.ndarray, bars: int) -> np.ndarray:
        x = x.copy()
        x[: max(bars - 1, 0)] = np.nan
        return x

    for s in spec.ret_seconds + spec.mom_seconds:
        j = np.searchsorted(ts, ts - s * NS, side="right") - 1
        ok = j >= 0
        r, lr = nan.copy(), nan.copy()
        r[ok] = c[ok] / c[j[ok]] - 1
        lr[ok] = np.log(c[ok] / c[j[ok]])
        name = fmt_seconds(s)
        if s in spec.ret_seconds:
            out[f"ret_{name}"], out[f"logret_{name}"] = r, lr
        else:
            out[f"mom_{name}"] = r
    lr1 = np.r_[np.nan, np.log(c[1:] / c[:-1])]
    rng = (h - lo) / c
    for k, w in enumerate(spec.win_seconds):
        start = np.searchsorted(ts, ts - w * NS, side="right")
        vol, rmean, vrel = nan.copy(), nan.copy(), nan.copy()
        for i in range(n):
            seg = lr1[start[i]:i + 1]
            seg = seg[~np.isnan(seg)]
            if len(seg) >= 2:
                vol[i] = seg.std(ddof=1)
            rmean[i] = rng[start[i]:i + 1].mean()
            vrel[i] = v[i] / v[start[i]:i + 1].mean()
        name = fmt_seconds(w)
        out[f"vol_{name}"] = vol
        if k >= 1:
            out[f"range_mean_{name}"], out[f"volume_rel_{name}"] = rmean, vrel
    out["range"] = rng
    out["bar_dir"] = np.sign(c - o)
    span = h - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        out["upper_wick"] = np.where(span > 0, (h - np.maximum(o, c)) / span, 0.0)
        out["lower_wick"] = np.where(span > 0, (np.minimum(o, c) - lo) / span, 0.0)
        out["body"] = np.where(span > 0, (c - o) / span, 0.0)
    emas = {}
    for e in spec.ema_spans:
        emas[e] = _ewm(c, e)
        out[f"ema_{e}_dist"] = warm((c - emas[e]) / c, e)
    d = np.diff(c)
    ag = _wilder(np.maximum(d, 0.0), spec.rsi)
    al = _wilder(np.maximum(-d, 0.0), spec.rsi)
    with np.errstate(invalid="ignore", divide="ignore"):
        rsi = np.where(al == 0, np.where(ag > 0, 100.0, 50.0), 100 - 100 / (1 + ag / al))
    out[f"rsi_{spec.rsi}"] = np.r_[np.nan, np.where(np.isnan(ag), np.nan, rsi)]
    fa, sl, sg = spec.macd
    macd = _ewm(c, fa) - _ewm(c, sl)
    sig = _ewm(macd, sg)
    wm = sl + sg - 1
    out["macd"], out["macd_signal"] = warm(macd / c, wm), warm(sig / c, wm)
    out["macd_hist"] = warm((macd - sig) / c, wm)
    # Two-pass window statistics (pandas' online rolling std leaves ~1e-9 on flat windows).
    mid, sd = nan.copy(), nan.copy()
    if n >= spec.bb:
        win = np.lib.stride_tricks.sliding_window_view(c, spec.bb)
        mid[spec.bb - 1:] = win.mean(axis=1)
        sd[spec.bb - 1:] = np.sqrt(((win - mid[spec.bb - 1:, None]) ** 2).mean(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["bb_pos"] = np.where(sd > 0, 0.5 + (c - mid) / (2 * spec.bb_k * sd),
                                 np.where(np.isnan(sd), np.nan, 0.5))
    out["bb_width"] = 2 * spec.bb_k * sd / mid
    tr = np.r_[h[0] - lo[0], np.maximum(h[1:], c[:-1]) - np.minimum(lo[1:], c[:-1])]
    atr = _wilder(tr, spec.atr)
    out[f"atr_{spec.atr}"] = atr / c
    # Time and VWAP from the calendar.
    day = cal.trading_day_of(ts)
    tab = cal.sessions(pd.Timestamp(int(ts[0]) - 3 * 86400 * NS), pd.Timestamp(int(ts[-1])))
    tab_day = tab["trading_day"].to_numpy().astype("datetime64[D]").astype(np.int64)
    row = np.searchsorted(tab_day, day)
    rth_open = tab["rth_open_ns"].to_numpy()[row]
    rth_close = tab["rth_close_ns"].to_numpy()[row]
    udays, inv = np.unique(day, return_inverse=True)
    flat = np.array([cal.flatten_deadline_ns(int(d_), spec.flatten_hhmm, spec.flatten_tz)
                     for d_ in udays])[inv]
    mins = (ts - rth_open) / (60 * NS)
    out["tod_sin"] = np.sin(2 * np.pi * mins / 1440)
    out["tod_cos"] = np.cos(2 * np.pi * mins / 1440)
    out["min_since_open"] = mins
    out["day_of_week"] = pd.to_datetime(day, unit="D").day_of_week.to_numpy().astype(float)
    out["min_to_close"] = cal.minutes_to_close(ts)
    out["min_to_rth_close"] = (rth_close - ts) / (60 * NS)
    out["min_to_flatten"] = (flat - ts) / (60 * NS)
    seg = day * 2 + (ts >= rth_open)
    tp = (h + lo + c) / 3
    g = pd.DataFrame({"seg": seg, "pv": tp * v, "v": v}).groupby("seg", sort=False)
    vwap = g["pv"].cumsum().to_numpy() / g["v"].cumsum().to_numpy()
    out["vwap_dist"] = (c - vwap) / c
    # Multi-timeframe from completed buckets only.
    for tf in spec.tf_seconds:
        b = ts // (tf * NS)
        last_of_bucket = np.r_[b[1:] != b[:-1], True]
        bclose = c[last_of_bucket]                # closes of buckets, in time order
        bid = b[last_of_bucket]
        m = np.searchsorted(bid, b, side="left")  # buckets completed before bar's bucket
        ef, es = _ewm(bclose, spec.mtf_ema[0]), _ewm(bclose, spec.mtf_ema[1])
        mom, trend = nan.copy(), nan.copy()
        mb = spec.mtf_mom_bars
        for i in range(n):
            if m[i] > mb:
                mom[i] = bclose[m[i] - 1] / bclose[m[i] - 1 - mb] - 1
            if m[i] >= spec.mtf_ema[1]:
                trend[i] = (ef[m[i] - 1] - es[m[i] - 1]) / bclose[m[i] - 1]
        name = fmt_seconds(tf)
        out[f"mtf_{name}_mom"], out[f"mtf_{name}_trend"] = mom, trend
    w1, w2 = (fmt_seconds(x) for x in spec.win_seconds[1:])
    a, b_ = out[f"vol_{w1}"], out[f"vol_{w2}"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["vol_regime"] = np.where(b_ > 0, a / b_, np.where(np.isnan(b_), np.nan, 1.0))
    e1, sb = emas[spec.ema_spans[1]], spec.slope_bars
    ts_ = nan.copy()
    ok = (idx >= sb) & (idx + 1 - sb >= spec.ema_spans[1]) & ~np.isnan(atr)
    with np.errstate(invalid="ignore", divide="ignore"):
        ts_[ok] = np.abs(e1[ok] - e1[idx[ok] - sb]) / (sb * atr[ok])
    out["trend_strength"] = ts_
    return out


def assert_matches_reference(X: np.ndarray, names: list[str], ref: dict[str, np.ndarray]
                             ) -> None:
    assert set(names) == set(ref), set(names) ^ set(ref)
    for j, name in enumerate(names):
        got, want = X[:, j].astype(np.float64), ref[name]
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{name}: NaN mask")
        ok = ~np.isnan(want)
        # float32 output; the absolute slack scales with the feature's size (bb_pos ~ 1 has
        # 1e-9 of two-pass-vs-pandas rounding near 0, returns ~ 1e-4 need far less).
        scale = max(float(np.abs(want[ok]).max()), 1e-3) if ok.any() else 1.0
        np.testing.assert_allclose(got[ok], want[ok], rtol=2e-5, atol=1e-8 * scale,
                                   err_msg=name)


# ----------------------------------------------------------------------------- tests
def test_registry_is_named_versioned_and_documented() -> None:
    assert FEATURE_SET_VERSION
    assert {"default", "default_1m"} <= set(feature_set_names())
    for fs in feature_set_names():
        defs = feature_defs(fs)
        names = feature_names(fs)
        assert len(names) == len(set(names)) >= 40
        groups = {"price_action", "microstructure", "indicators", "multi_timeframe", "regime"}
        assert {d.group for d in defs} == groups | ({"time"} if fs != "crypto_1m" else set())
        assert all(isinstance(v, int) and v >= 1 for v in feature_versions(fs).values())
        assert all(d.window in ("time", "bars", "bucket", "session", "bar") and d.doc
                   for d in defs)
    assert feature_set_fingerprint("default") == feature_set_fingerprint("default")
    assert feature_set_fingerprint("default") != feature_set_fingerprint("default_1m")
    with pytest.raises(ConfigError, match="unknown feature set"):
        feature_names("nope")
    from core.features import feature_set_for

    assert feature_set_for(1) == "default" and feature_set_for(60) == "default_1m"
    assert feature_set_for(60, sessions=False) == "crypto_1m"


def test_batch_matches_independent_reference(frame: pd.DataFrame) -> None:
    X, names = compute_features(frame)
    assert X.dtype == np.float32 and X.shape == (len(frame), len(names))
    assert_matches_reference(X, names, reference(frame, "default"))


def test_batch_equals_streaming(frame: pd.DataFrame) -> None:
    X, _ = compute_features(frame)
    np.testing.assert_allclose(stream_all(frame), X, rtol=1e-9, equal_nan=True)


def test_warm_up_then_stream_equals_batch(frame: pd.DataFrame) -> None:
    X, _ = compute_features(frame)
    k = len(frame) // 2
    fs = FeatureStream()
    last = fs.warm_up(frame.iloc[:k])
    np.testing.assert_array_equal(last, X[k - 1])
    ts = frame["timestamp"].to_numpy()
    for i in range(k, len(frame)):
        r = frame.iloc[i]
        row = fs.update(int(ts[i]), r["open"], r["high"], r["low"], r["close"], r["volume"])
        np.testing.assert_allclose(row, X[i], rtol=1e-9, equal_nan=True)
    with pytest.raises(DataError, match="not after"):
        fs.warm_up(frame.iloc[:10])


def test_iter_features_chunks_equal_batch(frame: pd.DataFrame) -> None:
    from core.features import iter_features

    X, _ = compute_features(frame)
    parts = list(iter_features(frame, chunk_rows=97))
    assert [a for a, _ in parts] == list(range(0, len(frame), 97))
    np.testing.assert_array_equal(np.concatenate([x for _, x in parts]), X)
    with pytest.raises(ConfigError):
        next(iter_features(frame, chunk_rows=0))


@st.composite
def random_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 250))
    gaps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 5, 30, 61, 700, 3600, 50_000]),
                         min_size=n, max_size=n))
    start = draw(st.sampled_from(["2024-03-05 14:31", "2024-03-08 21:50", "2024-11-03 05:00",
                                  "2024-07-04 16:30"]))
    t0 = int(pd.Timestamp(start, tz="UTC").value)
    return irregular_frame(t0 + np.cumsum(gaps) * NS, seed=draw(st.integers(0, 99)))


@settings(max_examples=30, deadline=None)
@given(random_frames(), st.sampled_from(["default", "default_1m"]))
def test_batch_equals_streaming_property(f: pd.DataFrame, fs: str) -> None:
    X, _ = compute_features(f, fs)
    np.testing.assert_allclose(stream_all(f, fs), X, rtol=1e-9, equal_nan=True)


@settings(max_examples=8, deadline=None)
@given(random_frames())
def test_causal_property(f: pd.DataFrame) -> None:
    assert check_causal(compute_features, f, n_cuts=1, seed=len(f)) == []


def test_causal_on_synthetic_frame(frame: pd.DataFrame) -> None:
    assert check_causal(compute_features, frame, n_cuts=3) == []


def test_peeking_feature_is_caught(frame: pd.DataFrame) -> None:
    def with_peek(f: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        X, names = compute_features(f)
        c = np.asarray(f["close"], dtype=np.float64)
        nxt = np.r_[c[1:], np.nan]          # one bar ahead: lookahead
        return np.column_stack([X, nxt]), [*names, "peek_next_close"]

    bad = check_causal(with_peek, frame, n_cuts=2)
    assert bad and {b.feature for b in bad} == {"peek_next_close"}
    assert {b.mode for b in bad} == {"truncate", "perturb", "drop"}
    assert all(b.row == b.cut for b in bad)   # exactly the last bar before each cut
    assert "peek_next_close" in str(bad[0])

    def centered(f: pd.DataFrame) -> np.ndarray:  # a subtler leak: a centred rolling mean
        return pd.Series(np.asarray(f["close"], float)).rolling(5, center=True).mean().to_numpy()

    assert check_causal(centered, frame, n_cuts=2, modes=("perturb",))


def test_mtf_uses_completed_buckets_only(frame: pd.DataFrame) -> None:
    X, names = compute_features(frame)
    ts = frame["timestamp"].to_numpy()
    for tf, col in ((60, "mtf_1m_mom"), (300, "mtf_5m_mom"), (300, "mtf_5m_trend")):
        j = names.index(col)
        b = ts // (tf * NS)
        same = b[1:] == b[:-1]
        x = X[:, j]
        both = same & ~np.isnan(x[1:]) & ~np.isnan(x[:-1])
        # Within one bucket nothing changes: the current bucket is not complete yet.
        assert both.any() and np.array_equal(x[1:][both], x[:-1][both])


def test_required_history_covers_every_warm_up(frame: pd.DataFrame) -> None:
    from core.features import required_history

    bars, secs = required_history("default")
    assert bars == 200 and secs == 21 * 300
    # 1-s bars, every second for the required time: the last row is fully defined.
    t0 = cal.local_time_ns("2024-03-05", "09:30", cal.ET)
    n = int(secs) + 60
    f = irregular_frame(t0 + np.arange(n) * NS, seed=2)
    X, names = compute_features(f)
    assert not np.isnan(X[-1]).any(), [m for m, x in zip(names, X[-1]) if np.isnan(x)]


def test_time_features_agree_with_calendar(frame: pd.DataFrame) -> None:
    X, names = compute_features(frame)
    ts = frame["timestamp"].to_numpy()
    np.testing.assert_allclose(X[:, names.index("min_to_close")], cal.minutes_to_close(ts),
                               rtol=1e-6)
    rth = cal.rth_mask(ts)
    m = X[:, names.index("min_since_open")]
    assert (m[rth] >= 0).all() and (m[~rth & (m < 300)] < 0).all()


def test_ring_overflow_gives_nan_not_wrong_values() -> None:
    # 10 bars per second: a 15-minute lookback needs 9,000 bars > the 2,048-bar ring.
    t0 = cal.local_time_ns("2024-03-05", "10:00", cal.ET)
    f = irregular_frame(t0 + np.arange(12_000) * (NS // 10), seed=3)
    X, names = compute_features(f)
    ts = f["timestamp"].to_numpy()
    c = f["close"].to_numpy()
    for col, secs in (("ret_1m", 60), ("mom_5m", 300), ("mom_15m", 900)):
        j = np.searchsorted(ts, ts - secs * NS, side="right") - 1
        x = X[:, names.index(col)].astype(np.float64)
        known = ~np.isnan(x)
        # Whatever is reported is right; what would need an overwritten bar is NaN.
        np.testing.assert_allclose(x[known], (c / c[np.maximum(j, 0)] - 1)[known], rtol=2e-5,
                                   atol=1e-9)
        lost = (j >= 0) & (j < np.arange(len(ts)) + 1 - 2048)
        assert np.isnan(x[lost]).all()
    assert np.isnan(X[2100:, names.index("vol_5m")]).all()       # window lost bars -> NaN
    assert not np.isnan(X[2100:, names.index("vol_30s")]).any()  # 300 bars: fits the ring
    np.testing.assert_allclose(stream_all(f.iloc[:3000]), X[:3000], rtol=1e-9, equal_nan=True)


def test_bad_input_is_reported(frame: pd.DataFrame) -> None:
    swapped = frame.copy()
    ts = swapped["timestamp"].to_numpy().copy()
    ts[10], ts[11] = ts[11], ts[10]
    swapped["timestamp"] = ts
    with pytest.raises(DataError, match="row 11"):
        compute_features(swapped)
    nanf = frame.copy()
    c = nanf["close"].to_numpy().copy()
    c[5] = np.nan
    nanf["close"] = c
    with pytest.raises(DataError, match="row 5"):
        compute_features(nanf)
    with pytest.raises(DataError, match="volume"):
        compute_features(frame.drop(columns=["volume"]))
    fs = FeatureStream()
    fs.update(int(frame["timestamp"].iat[0]), 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(DataError, match="not after"):
        fs.update(int(frame["timestamp"].iat[0]), 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(DataError):
        fs.update(int(frame["timestamp"].iat[1]), 1.0, 1.0, 1.0, 0.0, 1.0)
    X, names = compute_features(frame.iloc[:0])
    assert X.shape == (0, len(names))


def test_normalizer_is_fitted_on_training_rows_only(frame: pd.DataFrame) -> None:
    X, names = compute_features(frame)
    k = len(X) // 2
    norm = Normalizer().fit(X[:k], names)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN warm-up columns
        want_mean = np.nanmean(X[:k].astype(np.float64), axis=0)
    have = ~np.isnan(want_mean)
    np.testing.assert_allclose(norm.mean[have], want_mean[have], rtol=1e-9, atol=1e-15)
    Z = norm.transform(X[k:])
    assert Z.dtype == np.float32 and not np.isnan(Z).any() and np.abs(Z).max() <= 10.0
    # Statistics come from the training half only: the test half is not standardised exactly.
    col = names.index("min_since_open")
    assert abs(float(Z[:, col].mean())) > 0.5
    back = Normalizer.from_dict(norm.to_dict())
    np.testing.assert_array_equal(back.transform(X[k:]), Z)
    assert back.names == names
    with pytest.raises(ModelError):
        Normalizer().transform(X)
    with pytest.raises(ModelError):
        norm.transform(X[:, :3])


# ----------------------------------------------------------------------------- real data
def test_real_es_1s(shared_data) -> None:
    f = read_shared(shared_data / "es_1s_esm8_2018-05-07_from_ticks_rtrawl.parquet")
    X, names = compute_features(f)
    np.testing.assert_allclose(stream_all(f), X, rtol=1e-9, equal_nan=True)
    assert_matches_reference(X, names, reference(f, "default"))
    assert check_causal(compute_features, f, n_cuts=1, modes=("truncate", "perturb")) == []
    assert not np.isnan(X[-1]).any()   # after 3.5 h every feature is warm


def test_crypto_set_needs_no_calendar() -> None:
    # A week of 24/7 minute bars including the weekend: after warm-up nothing is NaN.
    t0 = int(pd.Timestamp("2024-03-01 00:00", tz="UTC").value)
    f = irregular_frame(t0 + np.arange(7 * 1440) * 60 * NS, seed=5)
    X, names = compute_features(f, "crypto_1m")
    assert not any(n.startswith(("tod_", "min_to", "vwap")) for n in names)
    assert not np.isnan(X[2000:]).any()
    np.testing.assert_allclose(stream_all(f.iloc[:3000], "crypto_1m"), X[:3000], rtol=1e-9,
                               equal_nan=True)


def test_real_mes_1m(shared_data) -> None:
    f = read_shared(shared_data / "mes_1m_frd_2023-11-26_2023-12-11.parquet")
    X, names = compute_features(f, "default_1m")
    np.testing.assert_allclose(stream_all(f, "default_1m"), X, rtol=1e-9, equal_nan=True)
    k = 5000   # ~4 sessions: every feature is warm; keeps the slow reference quick
    assert_matches_reference(X[:k], names, reference(f.iloc[:k], "default_1m"))
    # Every feature of the 1-minute set is defined on most 1-minute bars.
    assert (np.isnan(X).mean(axis=0) < 0.35).all(), dict(zip(names, np.isnan(X).mean(0)))
    assert check_causal(lambda g: compute_features(g, "default_1m"), f, n_cuts=1,
                        modes=("perturb",)) == []
