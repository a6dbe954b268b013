"""Walk-forward splits in *time*, purged of overlapping label horizons and embargoed.

Layout of one fold (time flows right)::

    [ train ......... ] purge+embargo [ val ] purge+embargo [ test ]
                                                   ... next fold steps forward by ``step``
    ... all folds ...                                            | final holdout (never used
                                                                 |  for training or selection)

* :func:`walk_forward` takes lengths as durations (ns); :func:`walk_forward_auto` places the
  boundaries at row quantiles (session-only data has long empty nights) — either way the
  boundaries are timestamps and purging/embargo are in time, never in rows.
* A row's label looks ``purge_ns`` into the future (lookahead + one bar). A train row is
  kept only if its whole label window ends *before* validation starts minus the embargo;
  a validation row only if its label window ends before the test period starts minus the
  embargo. So no row used to fit or select a model has seen a price from its test window.
* ``rolling`` keeps the train length fixed; ``expanding`` keeps the start fixed.
* The final holdout (``holdout_ns`` at the end of the data) is excluded from every fold and
  only scored once, by the final model, at the very end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import ConfigError

NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class WalkForwardConfig:
    """Fold geometry (all durations in ns)."""

    train_ns: int
    val_ns: int
    test_ns: int
    step_ns: int | None = None  #: default: ``test_ns`` (test periods tile the data)
    purge_ns: int = 0  #: label horizon (lookahead + one bar)
    embargo_ns: int = 0  #: extra gap after each purge
    holdout_ns: int = 0  #: final test period at the end, never used in folds
    mode: str = "rolling"  #: "rolling" | "expanding"
    max_folds: int | None = None

    def __post_init__(self) -> None:
        for name in ("train_ns", "val_ns", "test_ns"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"walk-forward {name} must be positive, got {getattr(self, name)}",
                                  hint="give train/validation/test lengths in days or hours")
        if self.purge_ns < 0 or self.embargo_ns < 0 or self.holdout_ns < 0:
            raise ConfigError("walk-forward purge, embargo and holdout must be >= 0")
        if self.mode not in ("rolling", "expanding"):
            raise ConfigError(f"walk-forward mode {self.mode!r} unknown",
                              hint="use rolling or expanding")


@dataclass(frozen=True)
class Fold:
    """Row indices (into the timestamp array) of one fold, and its time bounds."""

    number: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    train_start: int
    val_start: int
    test_start: int
    test_end: int  #: exclusive
    is_holdout: bool = False


def _rows(ts: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Indices of rows with lo <= ts < hi (ts sorted)."""
    a, b = np.searchsorted(ts, [lo, hi], side="left")
    return np.arange(a, b, dtype=np.int64)


def walk_forward(ts: np.ndarray, cfg: WalkForwardConfig) -> list[Fold]:
    """Folds of fixed *durations* over sorted timestamps ``ts``, then the holdout fold.

    Raises:
        ConfigError: When the data is too short for even one fold.
    """
    ts = _check_ts(ts)
    step = cfg.step_ns or cfg.test_ns
    first, end = int(ts[0]), int(ts[-1]) + 1
    holdout_start = end - cfg.holdout_ns if cfg.holdout_ns else end
    bounds: list[tuple[int, int, int, int]] = []
    k = 0
    while cfg.max_folds is None or len(bounds) < cfg.max_folds:
        train_start = first if cfg.mode == "expanding" else first + k * step
        val_start = first + cfg.train_ns + k * step
        test_start = val_start + cfg.val_ns
        test_end = test_start + cfg.test_ns
        if test_end > holdout_start:
            # The last test period may stop at the holdout if at least half of it remains.
            if holdout_start - test_start < cfg.test_ns // 2:
                break
            test_end = holdout_start
        bounds.append((train_start, val_start, test_start, test_end))
        k += 1
        if test_end >= holdout_start:
            break
    final = None
    if cfg.holdout_ns:
        val_start = holdout_start - cfg.val_ns
        train_start = first if cfg.mode == "expanding" else max(first, val_start - cfg.train_ns)
        final = (train_start, val_start, holdout_start, end)
    return make_folds(ts, bounds, final, purge_ns=cfg.purge_ns, embargo_ns=cfg.embargo_ns,
                      describe=f"train {cfg.train_ns / NS_PER_DAY:.2f} + val "
                               f"{cfg.val_ns / NS_PER_DAY:.2f} + test {cfg.test_ns / NS_PER_DAY:.2f}"
                               f" days (+ holdout {cfg.holdout_ns / NS_PER_DAY:.2f})")


def walk_forward_auto(ts: np.ndarray, n_folds: int, *, purge_ns: int, embargo_ns: int = 0,
                      mode: str = "expanding", holdout_fraction: float = 0.15) -> list[Fold]:
    """``n_folds`` folds plus a holdout, sized by *row count* and cut at timestamps.

    Calendar durations fit badly on session-only data (an RTH-only test period of "0.4 days"
    may fall overnight and hold no bars), so the boundaries are placed at row quantiles:
    with N rows, the last ``holdout_fraction``·N form the holdout and the rest is cut into
    units u = rows / (n + 3): first train 2.5 u, validation 0.5 u, each test period 1 u.
    Purging and embargo are still in time.
    """
    if n_folds < 1:
        raise ConfigError(f"--folds must be >= 1, got {n_folds}")
    if mode not in ("rolling", "expanding"):
        raise ConfigError(f"walk-forward mode {mode!r} unknown", hint="use rolling or expanding")
    ts = _check_ts(ts)
    n = len(ts)
    hold_row = n - int(n * holdout_fraction) if holdout_fraction > 0 else n
    u = hold_row / (n_folds + 3)

    def at(row: float) -> int:
        r = int(round(row))
        return int(ts[r]) if r < n else int(ts[-1]) + 1

    bounds = []
    for k in range(n_folds):
        train_start = at(0 if mode == "expanding" else k * u)
        bounds.append((train_start, at(2.5 * u + k * u), at(3 * u + k * u), at(4 * u + k * u)))
    final = None
    if hold_row < n:
        val_row = hold_row - 0.5 * u
        final = (at(0 if mode == "expanding" else max(0.0, val_row - 2.5 * u)), at(val_row),
                 at(hold_row), int(ts[-1]) + 1)
    return make_folds(ts, bounds, final, purge_ns=purge_ns, embargo_ns=embargo_ns,
                      describe=f"{n_folds} folds over {n:,} rows")


def _check_ts(ts: np.ndarray) -> np.ndarray:
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) == 0:
        raise ConfigError("no rows to split", hint="load some bars first")
    if np.any(np.diff(ts) < 0):
        raise ConfigError("timestamps must be sorted for walk-forward splitting")
    return ts


def make_folds(ts: np.ndarray, bounds: list[tuple[int, int, int, int]],
               final: tuple[int, int, int, int] | None, *, purge_ns: int, embargo_ns: int,
               describe: str = "") -> list[Fold]:
    """Folds from (train_start, val_start, test_start, test_end) bounds, purged and embargoed.

    Train rows need ``ts + purge < val_start - embargo``; validation rows
    ``ts + purge < test_start - embargo``; test rows of the walk-forward folds
    ``ts + purge < holdout_start`` so no label reaches into the holdout.
    """
    holdout_start = final[2] if final else int(ts[-1]) + 1
    folds: list[Fold] = []
    for train_start, val_start, test_start, test_end in bounds:
        train = _rows(ts, train_start, val_start - embargo_ns - purge_ns)
        val = _rows(ts, val_start, test_start - embargo_ns - purge_ns)
        test_limit = min(test_end, holdout_start - purge_ns) if final else test_end
        test = _rows(ts, test_start, test_limit)
        if len(train) and len(val) and len(test):
            folds.append(Fold(len(folds), train, val, test, train_start, val_start,
                              test_start, test_end))
    if not folds:
        span = (int(ts[-1]) - int(ts[0])) / NS_PER_DAY
        raise ConfigError(
            f"the data ({len(ts):,} rows over {span:.2f} days) is too short for one "
            f"walk-forward fold ({describe}) with a label horizon of {purge_ns / 1e9:g} s",
            hint="use more data, fewer --folds, or shorter --train-days/--val-days/--test-days")
    if final:
        train_start, val_start, test_start, end = final
        train = _rows(ts, train_start, val_start - embargo_ns - purge_ns)
        val = _rows(ts, val_start, test_start - embargo_ns - purge_ns)
        test = _rows(ts, test_start, end)
        if len(train) and len(val) and len(test):
            folds.append(Fold(len(folds), train, val, test, train_start, val_start,
                              test_start, end, is_holdout=True))
    return folds
