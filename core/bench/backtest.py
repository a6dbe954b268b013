"""Backtest benchmarks: compiled-loop throughput, Python reference, memory, 33 M end to end.

Two workloads, always reported side by side (never only the flattering one):

* **sparse** (:func:`bars_and_signals`): 1-second bars, random entries on 0.2 % of the bars;
  the loop spends most bars flat or holding, where its fast paths skip work.
* **dense** (:func:`dense_bars_and_signals`, issue 8's definition): 1,000,000 one-minute bars
  over real CME Globex sessions (1,380 bars a day from the 17:00 CT open), MES-like prices on
  the tick grid, entries at every SMA(10)/SMA(30) cross of the close (~39,000 signals), one
  position at a time, 1 contract, next-open market entry with 1 tick slippage, an OCO
  bracket 8 ticks stop / 6 target from the fill with the stop first on ambiguous bars, a
  30-bar time stop, $0.84 round trip, opposite signals ignored — with every risk rule on.

The sparse workload is a bracket strategy (random entries, fixed 8/12-tick bracket, 30-min time
stop) with every risk rule of the $1k profile switched on — daily loss and drawdown,
loss-streak pauses, the end-of-day schedule, the volatility and volume breakers — except
that the account-ending limits (account drawdown, kill switch, minimum balance) are moved
out of reach so the account keeps trading for the whole run (otherwise random entries halt
it within days and the loop would coast).
"""

from __future__ import annotations

import os
import statistics
import time
import tracemalloc
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

BENCH_DIR = Path(os.environ.get("SCALPDESK_BENCH_DIR", ".bench"))


def bench_profile():  # noqa: ANN201 - Profile, imported lazily
    """The $1k profile with the account-ending limits out of reach (see module docstring)."""
    from core.config import load_profile

    p = load_profile("account_1k")
    # A huge balance: the top tier's 1.5 % budget is capped by the $25 max risk per trade,
    # so sizes stay those of a funded $1k account while the balance can never run out.
    r = replace(p.risk, starting_balance=1e9, account_drawdown_stop=1e12, kill_switch_loss=1e12)
    return replace(p, risk=r)


def dense_profile():  # noqa: ANN201 - Profile, imported lazily
    """The dense workload's rules: :func:`bench_profile` with issue 8's strategy settings.

    Entries all session (not RTH only), 1 contract, fixed 1-tick slippage, 8/6-tick bracket
    anchored at the fill, 30-minute (= 30-bar) time stop, opposite signals ignored; the daily
    limits, loss pauses, breakers and the end-of-day schedule stay on.
    """
    b = bench_profile()
    return replace(
        b,
        risk=replace(b.risk, max_contracts=1),
        schedule=replace(b.schedule, rth_only=False, entries_resume_at=None),
        costs=replace(b.costs, slippage_ticks=1.0),
        strategy=replace(b.strategy, bracket="fixed", stop_ticks=8, target_ticks=6,
                         time_stop_minutes=30.0, entry_order="market", fill_mode="realistic",
                         slippage_model="fixed", same_bar="pessimistic", on_opposite="ignore",
                         bracket_anchor="fill", stop_fill="stop_market", cooldown_bars=0,
                         breakeven_after_ticks=None))


def dense_bars_and_signals(n: int = 1_000_000, seed: int = 0):  # noqa: ANN201
    """1-minute MES-like bars on real Globex sessions and SMA(10)/SMA(30) cross entries."""
    from core.backtest.synthetic import random_walk_bars
    from core.strategy import sma_cross_signals

    bars = random_walk_bars(n, seed=seed, bar_seconds=60, rth_only=False, sigma_ticks=3.0,
                            start="2021-01-04")
    return bars, sma_cross_signals(bars, fast=10, slow=30)


def bars_and_signals(n: int, seed: int = 0, rate: float = 0.002):  # noqa: ANN201
    """Synthetic 1-s bars over whole Globex sessions and random bracket-strategy signals."""
    from core.backtest.synthetic import random_walk_bars
    from core.strategy import random_signals

    bars = random_walk_bars(n, seed=seed, bar_seconds=1, rth_only=False, sigma_ticks=0.6)
    return bars, random_signals(n, seed=seed, rate=rate)


@dataclass(frozen=True)
class LoopRun:
    """One timing of the compiled loop (prepared inputs; compile excluded)."""

    bars: int
    loop_s: float
    loop_cpu_s: float     #: CPU time of the loop (this process): robust on a shared machine
    prepare_s: float
    total_s: float
    trades: int

    @property
    def bars_per_s(self) -> float:
        return self.bars / self.loop_s if self.loop_s > 0 else float("nan")

    @property
    def bars_per_cpu_s(self) -> float:
        return self.bars / self.loop_cpu_s if self.loop_cpu_s > 0 else float("nan")


def time_loop(bars, sig, profile, runs: int = 3) -> list[LoopRun]:  # noqa: ANN001
    """Time ``runs`` compiled-loop passes (first a warm-up to load/compile the cache)."""
    from core.backtest import engine as E

    n = len(bars)
    action = E.actions_of(sig, n, profile.risk.min_confidence)
    conf = np.ascontiguousarray(sig.confidence, dtype=np.float64)
    pcls = np.ascontiguousarray(sig.direction, dtype=np.int8)
    small = bars.iloc[:10_000].reset_index(drop=True)
    pr0 = E.prepare(small, profile)
    E.run_prepared(pr0, action[:10_000], conf[:10_000], pcls[:10_000])   # warm (cache load)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        pr = E.prepare(bars, profile)
        t1 = time.perf_counter()
        c1 = time.process_time()
        tr = E.run_prepared(pr, action, conf, pcls, record_equity=True)[0]
        c2 = time.process_time()
        t2 = time.perf_counter()
        out.append(LoopRun(n, t2 - t1, c2 - c1, t1 - t0, t2 - t0, len(tr)))
    return out


def time_run_backtest(bars, sig, profile, runs: int = 3) -> list[float]:  # noqa: ANN001
    """Seconds of the whole public ``run_backtest`` (prepare, loop, ambiguity reruns, frames)."""
    from core.backtest import run_backtest

    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run_backtest(bars, sig, profile=profile)
        out.append(time.perf_counter() - t0)
    return out


def reference_check(bars, sig, profile) -> tuple[float, bool, int]:  # noqa: ANN001
    """(reference bars/s, trade-for-trade agreement with the compiled loop, trades)."""
    from core.backtest import run_backtest
    from core.backtest.reference import run_reference

    t0 = time.perf_counter()
    ref = run_reference(bars, sig, profile=profile)
    dt = time.perf_counter() - t0
    fast = run_backtest(bars, sig, profile=profile, record_equity=False).trades
    num = fast.select_dtypes("number").columns
    same = (len(ref) == len(fast)
            and np.allclose(ref[num].to_numpy(float), fast[num].to_numpy(float), atol=1e-9)
            and bool((ref["exit_reason"].astype(str).to_numpy()
                      == fast["exit_reason"].astype(str).to_numpy()).all()))
    return len(bars) / dt, same, len(fast)


def memory_ratio(bars, sig, profile) -> tuple[int, int]:  # noqa: ANN001
    """(input array bytes, peak bytes allocated during run_backtest) via tracemalloc."""
    from core.backtest import run_backtest

    inp = int(sum(bars[c].to_numpy().nbytes for c in ("timestamp", "open", "high", "low",
                                                       "close", "volume")))
    inp += int(sig.direction.nbytes + np.asarray(sig.confidence).nbytes)
    tracemalloc.start()
    try:
        run_backtest(bars, sig, profile=profile)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return inp, int(peak)


@dataclass(frozen=True)
class EndToEnd:
    """33 M-bar load → backtest → stats timing."""

    bars: int
    load_s: float
    backtest_s: float
    stats_s: float
    trades: int
    cpu_s: float = 0.0    #: CPU time of the three steps (this process, all threads)

    @property
    def total_s(self) -> float:
        return self.load_s + self.backtest_s + self.stats_s


def e2e_files(n: int, seed: int = 0) -> tuple[Path, Path]:
    """Bars and precomputed signals as Parquet under .bench/ (made once, then reused)."""
    import pandas as pd

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    bp, sp = BENCH_DIR / f"bt_bars_{n}_{seed}.parquet", BENCH_DIR / f"bt_signals_{n}_{seed}.parquet"
    if not (bp.exists() and sp.exists()):
        bars, sig = bars_and_signals(n, seed)
        for path, frame in ((bp, bars), (sp, pd.DataFrame({
                "timestamp": bars["timestamp"].to_numpy(), "direction": sig.direction,
                "confidence": sig.confidence}))):
            tmp = path.with_name(f".{path.name}.tmp")
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        del bars, sig
    return bp, sp


def end_to_end(bars_path: Path, signals_path: Path, profile) -> EndToEnd:  # noqa: ANN001
    """Load bars + signals from Parquet, backtest, compute stats; time each step."""
    import pandas as pd

    from core.backtest import Signals, run_backtest

    t0 = time.perf_counter()
    c0 = time.process_time()
    bars = pd.read_parquet(bars_path, columns=["timestamp", "open", "high", "low", "close",
                                                "volume"])
    sf = pd.read_parquet(signals_path)
    sig = Signals(sf["direction"].to_numpy(np.int8), sf["confidence"].to_numpy(np.float64))
    t1 = time.perf_counter()
    res = run_backtest(bars, sig, profile=profile)
    t2 = time.perf_counter()
    try:
        from core.backtest.stats import compute_stats

        compute_stats(res.trades, res.equity, starting_balance=profile.risk.starting_balance)
    except ImportError:  # stats layer absent: time stays 0
        pass
    t3 = time.perf_counter()
    return EndToEnd(len(bars), t1 - t0, t2 - t1, t3 - t2, len(res.trades),
                    time.process_time() - c0)


def median(xs: list[float]) -> float:
    """Median of a list of numbers."""
    return float(statistics.median(xs))


__all__ = ["BENCH_DIR", "EndToEnd", "LoopRun", "asdict", "bars_and_signals", "bench_profile",
           "e2e_files", "end_to_end", "median", "memory_ratio", "reference_check",
           "time_loop", "time_run_backtest"]
