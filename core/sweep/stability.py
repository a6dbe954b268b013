"""Parameter stability: is the best point a plateau or a lone spike?

* :func:`importance` — how much of the objective's variance each parameter explains on its
  own (η², the between-group share; continuous values grouped into quantile bins).
* :func:`heatmap` — mean objective over a grid of two parameters (the two most important by
  default): a broad bright region is robust, a single bright cell is luck.
* :func:`neighbourhood` — the best trial's nearest neighbours in normalised parameter
  space (each range scaled to 0..1, log ranges on a log scale, a different categorical value
  counts as distance 1): their median objective next to the best's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.sweep.space import Param

MAX_CELLS_PER_AXIS = 10


def _codes(values: pd.Series, param: Param | None, bins: int = MAX_CELLS_PER_AXIS
           ) -> tuple[np.ndarray, list[str]]:
    """Group labels of a parameter's values: each value if few, else quantile bins."""
    v = values
    uniq = list(pd.unique(v))
    numeric = param is not None and param.kind != "categorical"
    sortable = numeric or all(isinstance(u, (int, float, np.integer, np.floating))
                              and not isinstance(u, bool) for u in uniq)
    if not numeric or len(uniq) <= bins:
        # Numbers in order (a list of tick values reads left to right); other values as given.
        order = sorted(uniq, key=float) if sortable else uniq
        index = {u: i for i, u in enumerate(order)}
        return np.array([index[x] for x in v]), [_fmt(u) for u in order]
    x = v.astype(float).to_numpy()
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    codes = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    labels = [f"{_fmt(a)}–{_fmt(b)}" for a, b in zip(edges[:-1], edges[1:])]
    return codes, labels


def _fmt(x: object) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def importance(df: pd.DataFrame, params: list[Param], objective: str = "objective"
               ) -> dict[str, float]:
    """η² of the objective per parameter (0: irrelevant, 1: explains everything)."""
    y = df[objective].to_numpy(float)
    total = float(np.var(y)) if len(y) > 1 else 0.0
    out: dict[str, float] = {}
    for p in params:
        if total <= 0:
            out[p.key] = 0.0
            continue
        codes, _ = _codes(df[f"param.{p.key}"], p)
        means = pd.Series(y).groupby(codes).agg(["mean", "count"])
        between = float((means["count"] * (means["mean"] - y.mean()) ** 2).sum() / len(y))
        out[p.key] = between / total
    return out


@dataclass(frozen=True)
class Heatmap:
    """Mean objective on a two-parameter grid (NaN where no trial landed)."""

    x: str
    y: str
    x_labels: list[str]
    y_labels: list[str]
    mean: np.ndarray  #: len(y_labels) × len(x_labels)
    count: np.ndarray


def heatmap(df: pd.DataFrame, x: Param, y: Param, objective: str = "objective") -> Heatmap:
    """Mean objective by (x, y) cell."""
    cx, lx = _codes(df[f"param.{x.key}"], x)
    cy, ly = _codes(df[f"param.{y.key}"], y)
    mean = np.full((len(ly), len(lx)), np.nan)
    count = np.zeros((len(ly), len(lx)), dtype=int)
    vals = df[objective].to_numpy(float)
    for i in range(len(ly)):
        for j in range(len(lx)):
            sel = (cy == i) & (cx == j)
            if sel.any():
                mean[i, j] = float(vals[sel].mean())
                count[i, j] = int(sel.sum())
    return Heatmap(x.key, y.key, lx, ly, mean, count)


def heatmap_axes(params: list[Param], imp: dict[str, float],
                 chosen: list[str] | None = None) -> tuple[Param, Param] | None:
    """The two axes: the space's ``heatmap`` setting, else the two most important."""
    by_key = {p.key: p for p in params}
    if chosen and len(chosen) == 2 and all(k in by_key for k in chosen):
        return by_key[chosen[0]], by_key[chosen[1]]
    if len(params) < 2:
        return None
    top = sorted(params, key=lambda p: -imp.get(p.key, 0.0))[:2]
    return top[0], top[1]


def _normalised(df: pd.DataFrame, params: list[Param]) -> np.ndarray:
    cols = []
    for p in params:
        v = df[f"param.{p.key}"]
        if p.kind == "categorical":
            cols.append(v.astype(str).to_numpy())
            continue
        x = v.astype(float).to_numpy()
        lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
        if p.log and lo > 0:
            x, lo, hi = np.log(x), math.log(lo), math.log(hi)
        cols.append((x - lo) / (hi - lo) if hi > lo else np.zeros(len(x)))
    return np.array(cols, dtype=object).T if cols else np.zeros((len(df), 0))


@dataclass(frozen=True)
class Neighbourhood:
    """The best trial against its nearest neighbours in parameter space."""

    best: float
    k: int
    median: float  #: median objective of the k nearest other trials
    share_positive: float  #: share of them with a positive objective
    ratio: float  #: median / best (NaN unless best > 0)


def neighbourhood(df: pd.DataFrame, params: list[Param], best_index: int, *,
                  objective: str = "objective", k: int | None = None) -> Neighbourhood:
    """Compare the best trial (row ``best_index`` of ``df``) with its k nearest neighbours.

    ``k`` defaults to max(5, 5 % of the trials).
    """
    n = len(df)
    k = int(k or max(5, n // 20))
    k = min(k, n - 1)
    y = df[objective].to_numpy(float)
    best = float(y[best_index])
    if k < 1:
        return Neighbourhood(best, 0, math.nan, math.nan, math.nan)
    z = _normalised(df, params)
    d = np.zeros(n)
    for j, p in enumerate(params):
        col = z[:, j]
        if p.kind == "categorical":
            d += (col != col[best_index]).astype(float)
        else:
            d += (col.astype(float) - float(col[best_index])) ** 2
    d[best_index] = np.inf
    near = np.argsort(d, kind="stable")[:k]
    med = float(np.median(y[near]))
    return Neighbourhood(best=best, k=k, median=med,
                         share_positive=float(np.mean(y[near] > 0)),
                         ratio=med / best if best > 0 else math.nan)
