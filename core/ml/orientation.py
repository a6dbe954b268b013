"""Mirror orientation: learn a pattern once for both directions (issue 11, research power).

Many scalping edges are *conditional on the direction of the move that triggers them*: "after a
high-volume bar, price keeps going the bar's way". For a tree that is an XOR — neither "high
volume" nor "up bar" alone says anything about the next move, only the two together — and
greedy splits cannot find an XOR that lives on 1-2 % of the bars: the first split never pays.

Up and down are mirror images (price ``p`` → ``K − p``). So each row is shown to the model in
the orientation where its own last bar went up: rows whose reference direction ``r`` is down
are replaced by their mirror image (odd features negated, ``upper_wick``/``lower_wick``
swapped, RSI → 100 − RSI, Bollinger position → 1 − position; even features unchanged) and their
label flipped. The pattern above becomes a plain main effect ("high volume → continues"), found
with a couple of splits. Predictions are mapped back (UP and DOWN swapped for mirrored rows).
``r`` itself is kept as an extra column, so a market that is *not* symmetric (a drift, say)
remains learnable.

The parity of each feature was measured, not assumed: features computed on mirrored bars equal
the transformed features of the real bars (``tests/unit/test_orientation.py`` pins it for both
default feature sets). A feature set with a name this module does not know is left alone
(:func:`mirror_map` returns None), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_ODD = re.compile(r"^(ret_|logret_|mom_|macd|ema_\d+_dist$|mtf_.+_(mom|trend)$|bar_dir$|body$|"
                  r"vwap_dist$)")
_EVEN = re.compile(r"^(vol_|range|volume_rel_|bb_width$|atr_|tod_|min_|day_of_week$|"
                   r"vol_regime$|trend_strength$)")
_COMPLEMENT = ((re.compile(r"^rsi_\d+$"), 100.0), (re.compile(r"^bb_pos$"), 1.0))
_SWAPS = {"upper_wick": "lower_wick", "lower_wick": "upper_wick"}


@dataclass(frozen=True)
class MirrorMap:
    """Column indices of each parity class and the reference-direction columns."""

    odd: np.ndarray
    comp_idx: np.ndarray
    comp_val: np.ndarray
    swap_from: np.ndarray
    swap_to: np.ndarray
    ref: int       #: bar_dir column (exact sign of the last bar)
    ref_ret: int   #: the shortest return (tie-break when the bar closed at its open)


def mirror_map(names: list[str] | tuple[str, ...]) -> MirrorMap | None:
    """The mirror of a feature set, or None when a name's parity is unknown or no reference."""
    odd, comp_i, comp_v, sw_f, sw_t = [], [], [], [], []
    index = {n: i for i, n in enumerate(names)}
    for i, n in enumerate(names):
        if n in _SWAPS:
            if _SWAPS[n] not in index:
                return None
            sw_f.append(i)
            sw_t.append(index[_SWAPS[n]])
            continue
        comp = next((v for rx, v in _COMPLEMENT if rx.match(n)), None)
        if comp is not None:
            comp_i.append(i)
            comp_v.append(comp)
        elif _ODD.match(n):
            odd.append(i)
        elif not _EVEN.match(n):
            return None
    rets = [i for i, n in enumerate(names) if n.startswith("ret_")]
    if "bar_dir" not in index or not rets:
        return None
    return MirrorMap(np.array(odd, np.int64), np.array(comp_i, np.int64),
                     np.array(comp_v, np.float64), np.array(sw_f, np.int64),
                     np.array(sw_t, np.int64), index["bar_dir"], rets[0])


def reference(X: np.ndarray, m: MirrorMap) -> np.ndarray:
    """+1 / -1 per row: the direction of the last bar (its return on a doji; +1 if flat)."""
    d = np.sign(np.nan_to_num(X[:, m.ref]))
    tie = d == 0
    if tie.any():
        d[tie] = np.sign(np.nan_to_num(X[tie, m.ref_ret]))
    d[d == 0] = 1.0
    return d


def orient(X: np.ndarray, m: MirrorMap) -> tuple[np.ndarray, np.ndarray]:
    """(rows in their up orientation plus the reference column, the reference ``r``)."""
    r = reference(X, m)
    out = np.empty((X.shape[0], X.shape[1] + 1), dtype=np.float32 if X.dtype == np.float32
                   else np.float64)
    out[:, :-1] = X
    out[:, -1] = r
    down = np.flatnonzero(r < 0)
    if down.size:
        rows = X[down]
        mirrored = rows.copy()
        mirrored[:, m.odd] = -rows[:, m.odd]
        mirrored[:, m.comp_idx] = m.comp_val - rows[:, m.comp_idx]
        mirrored[:, m.swap_from] = rows[:, m.swap_to]
        out[down, :-1] = mirrored
    return out, r


def unorient(proba: np.ndarray, r: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map probabilities of oriented rows back: UP and DOWN swap where ``r`` was down."""
    vals = [int(c) for c in classes]
    up, dn = vals.index(1), vals.index(-1)
    out = proba.copy()
    down = r < 0
    out[down, up] = proba[down, dn]
    out[down, dn] = proba[down, up]
    return out


def symmetric_classes(classes: np.ndarray) -> bool:
    """Orientation needs direction labels: values in {-1, 0, 1} with both -1 and 1."""
    vals = {int(c) for c in classes}
    return vals <= {-1, 0, 1} and {-1, 1} <= vals
