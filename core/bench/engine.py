"""Live-engine benchmarks: decision latency in process, kill → flat against the simulator,
memory over a long replay.

* **decision latency**: the print that closes a bar → the engine has run every step (bar,
  breaker step, streaming features + LightGBM + calibration, decision, bracket, risk check)
  and handed the entry order to the venue. Measured in process with a recording venue (no
  network), per closed bar, on synthetic 1-second MES bars and a LightGBM model trained on
  the bars before them.
* **kill → flat**: ``engine.kill()`` with a position and its bracket working, against the
  local simulator over loopback, until REST confirms flat with no working order.
* **memory**: RSS growth while the engine consumes an 8-hour session of 1-second bars (four
  prints each) at full speed.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.venues.base import PlaceResult


class RecordingVenue:
    """An in-process venue that accepts every order at once and records when it got it."""

    def __init__(self) -> None:
        self.orders: list[tuple[int, Any]] = []
        self._id = 0

    async def place_order(self, request: Any) -> PlaceResult:
        self.orders.append((time.perf_counter_ns(), request))
        self._id += 1
        return PlaceResult(order_id=self._id, tag=request.tag or "")

    async def flatten(self, account_id: int, contract_id: str) -> None:
        return None

    async def positions(self, account_id: int) -> list:
        return []

    async def open_orders(self, account_id: int, *, include_suspended: bool = True) -> list:
        return []

    async def cancel_order(self, account_id: int, order_id: int) -> None:
        return None

    async def modify_order(self, *a: Any, **k: Any) -> None:
        return None


class MemoryJournal:
    """The engine's journal interface kept in memory (benchmarks only: nothing survives)."""

    def __init__(self) -> None:
        self.n = 0
        self.risk: dict | None = None

    def next_tag(self, run_id: str) -> str:
        self.n += 1
        return f"{run_id}-{self.n}"

    def record_intent(self, tag: str, payload: dict) -> None:
        pass

    def mark(self, tag: str, status: str, order_id: int | None = None, reason: str = "") -> None:
        pass

    def save_risk(self, snapshot: dict) -> None:
        self.risk = snapshot

    def last_risk(self) -> dict | None:
        return self.risk


@dataclass(frozen=True)
class DecisionRun:
    """Per-closed-bar latencies of one run (µs)."""

    bars: int
    orders: int
    p50_us: float
    p99_us: float
    max_us: float
    order_p50_us: float
    order_p99_us: float


def _engine(venue: Any, signal: Any, bar_seconds: int) -> Any:
    from dataclasses import replace

    from core.clock import SimClock
    from core.config import load_profile
    from core.domain import Contract
    from core.engine.live import LiveEngine

    from core.config import ConfidenceStep

    prof = load_profile("demo")
    # Limits out of reach and a confidence floor a bench model reaches, so entries happen and
    # the path to the order is measured too (the rules still run on every bar).
    prof = replace(prof, risk=replace(prof.risk, starting_balance=1e7, max_daily_loss=1e6,
                                      max_daily_drawdown=1e6, account_drawdown_stop=1e6,
                                      kill_switch_loss=1e6, loss_pauses=(), min_confidence=0.34,
                                      confidence_steps=(ConfidenceStep(0.34, 1.0),)),
                   schedule=replace(prof.schedule, rth_only=False, entries_resume_at=None))
    c = Contract(id="CON.F.US.MES.H25", name="MESH5", tick_size=0.25, tick_value=1.25,
                 symbol_id="F.US.MES", active=True)
    return LiveEngine(profile=prof, venue=venue, journal=MemoryJournal(), clock=SimClock(0),
                      account_id=1, contract=c, signal=signal, bar_seconds=bar_seconds,
                      run_id="bench", armed=True)


def _prints(frame: Any) -> list[tuple[int, float, int]]:
    out = []
    for t, o, h, lo, c, v in zip(frame["timestamp"].to_numpy(np.int64), frame["open"],
                                 frame["high"], frame["low"], frame["close"], frame["volume"]):
        q = int(v) // 4
        out += [(int(t), float(o), q), (int(t) + 250_000_000, float(lo), q),
                (int(t) + 500_000_000, float(h), q), (int(t) + 750_000_000, float(c), int(v) - 3 * q)]
    return out


async def _feed(eng: Any, prints: list[tuple[int, float, int]], venue: RecordingVenue
                ) -> tuple[list[float], list[float]]:
    from core.domain import TradeTick
    from core.venues.base import TradeEvent

    lat, olat = [], []
    cid = eng.contract.id
    for t, px, q in prints:
        ev = TradeEvent(TradeTick(ts=t, contract_id=cid, price=px, size=q))
        before = eng.state.bars
        n_orders = len(venue.orders)
        t0 = time.perf_counter_ns()
        await eng.on_event(ev)
        t1 = time.perf_counter_ns()
        if eng.state.bars != before:
            lat.append((t1 - t0) / 1e3)
            if len(venue.orders) != n_orders:
                olat.append((venue.orders[-1][0] - t0) / 1e3)
        if len(venue.orders) != n_orders:
            # The recording venue never fills: retire the order so the next signal is a new
            # entry (otherwise the working order fills the contract cap and entries stop).
            for o in eng.book.live():
                eng.book.apply_order(order_id=o.order_id, status="cancelled", updated_ts=t)
    return lat, olat


def decision_latency(*, bars: int = 3000, runs: int = 3, seed: int = 3) -> list[DecisionRun]:
    """Median-able runs of the per-bar decision latency with a LightGBM model (see module)."""
    from core.bench.inference import train_bench_model
    from core.datasets.synth import generate
    from core.engine.signals import ModelSignal

    # A planted pattern (strength 3, as the demo) so the model signals and entries happen:
    # the path to the order is measured too, not only the decision.
    frame = generate(2, seed=seed, rth_only=True, planted=True, strength=3.0)
    warm = len(frame) - bars - 1
    if warm < 1000:
        raise ValueError(f"two days give too few bars for {bars} measured bars")
    out = []
    with tempfile.TemporaryDirectory(prefix="scalpdesk-bench-") as tmp:
        path = train_bench_model("lightgbm", frame.iloc[:warm], Path(tmp))
        live = frame.iloc[warm:warm + bars].reset_index(drop=True)
        for _ in range(runs):
            venue = RecordingVenue()
            sig = ModelSignal(path, history=frame.iloc[:warm])
            eng = _engine(venue, sig, sig.bar_seconds)
            lat, olat = asyncio.run(_feed(eng, _prints(live), venue))
            lat, olat = lat[20:], olat[2:]      # the first bars build the session tables once
            a = np.asarray(lat)
            o = np.asarray(olat) if olat else np.asarray([np.nan])
            out.append(DecisionRun(len(a), len(olat), float(np.percentile(a, 50)),
                                   float(np.percentile(a, 99)), float(a.max()),
                                   float(np.nanpercentile(o, 50)), float(np.nanpercentile(o, 99))))
    return out


def memory_growth(*, hours: float = 8.0, seed: int = 4) -> tuple[float, float, int]:
    """(RSS before MB, RSS growth MB, bars) while the engine consumes ``hours`` of 1-s bars.

    The signal is a fixed alternating source (a model would add its own, constant, memory):
    what is measured is the engine's own state over a long session.
    """
    from core.backtest.synthetic import random_walk_bars

    n = int(hours * 3600)
    frame = random_walk_bars(n, seed=seed, bar_seconds=1, rth_only=False, sigma_ticks=0.6)
    k = {"i": 0}

    def signal(bar: Any) -> tuple[int, float]:
        k["i"] += 1
        return ((1 if k["i"] % 2 else -1), 0.75) if k["i"] % 300 == 0 else (0, 0.0)

    venue = RecordingVenue()
    eng = _engine(venue, signal, 1)
    prints = _prints(frame)
    half = len(prints) // 8
    asyncio.run(_feed(eng, prints[:half], venue))
    before = _rss_mb()
    asyncio.run(_feed(eng, prints[half:], venue))
    return before, _rss_mb() - before, n


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _kill_once(gw: Any) -> float:
    from core.clock import LiveClock
    from core.domain import OrderType
    from core.engine.live import LiveEngine, side_of
    from core.venues.base import Bracket, OrderRequest
    from core.venues.topstepx.config import TopstepXConfig
    from core.venues.topstepx.venue import TopstepXVenue

    cfg = TopstepXConfig(api_url=gw.urls.rest, user_hub_url=gw.urls.user_hub,
                         market_hub_url=gw.urls.market_hub)
    v = TopstepXVenue(cfg, username=gw.config.username, api_key=gw.config.api_key,
                      clock=LiveClock(), market_open=lambda: True)
    await v.connect()
    try:
        acc = (await v.accounts())[0]
        await v.watch_account(acc.id)
        c = await v.active_contract("F.US.MES")
        from core.config import load_profile

        eng = LiveEngine(profile=load_profile("demo"), venue=v, journal=MemoryJournal(),
                         clock=gw.engine.clock, account_id=acc.id, contract=c,
                         signal=lambda b: (0, 0.0), bar_seconds=60, run_id="k", armed=False)
        await v.place_order(OrderRequest(account_id=acc.id, contract_id=c.id, side=side_of(1),
                                         type=OrderType.MARKET, size=2,
                                         bracket=Bracket(stop_ticks=8, target_ticks=8)))
        for _ in range(200):
            if [p for p in await v.positions(acc.id) if p.signed_size]:
                break
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        ok = await eng.guard.kill()
        dt = time.perf_counter() - t0
        if not ok:
            raise RuntimeError("kill did not reach flat")
        return dt
    finally:
        await v.close()


def kill_to_flat(*, runs: int = 5) -> list[float]:
    """Seconds from ``kill()`` to REST-verified flat, against the simulator on loopback."""
    from core.venues.sim.gateway.server import SimGateway

    from core.backtest.synthetic import random_walk_bars

    async def one() -> float:
        bars = random_walk_bars(240, seed=1, bar_seconds=60, rth_only=True, start="2025-01-02")
        gw = SimGateway(bars)
        await gw.start()
        try:
            gw.replay.step(8)
            return await _kill_once(gw)
        finally:
            await gw.stop()
    return [asyncio.run(one()) for _ in range(runs)]


def median(xs: list[float]) -> float:
    """Median of a list."""
    return float(statistics.median(xs))


async def _restart_once(gw: Any, journal_path: Any) -> float:
    """Engine A opens a position with its bracket and dies without cleaning up; its legs are
    lost meanwhile (the worst case). Engine B starts on A's journal: seconds from the start
    of recovery until the broker holds a working stop for the full position."""
    from core.clock import LiveClock
    from core.config import load_profile
    from core.domain import OrderType
    from core.engine.live import LiveEngine, side_of
    from core.journal import Journal
    from core.venues.base import Bracket, OrderRequest
    from core.venues.topstepx.config import TopstepXConfig
    from core.venues.topstepx.venue import TopstepXVenue

    cfg = TopstepXConfig(api_url=gw.urls.rest, user_hub_url=gw.urls.user_hub,
                         market_hub_url=gw.urls.market_hub)

    async def connect() -> tuple[Any, int, Any]:
        v = TopstepXVenue(cfg, username=gw.config.username, api_key=gw.config.api_key,
                          clock=LiveClock(), market_open=lambda: True)
        await v.connect()
        acc = (await v.accounts())[0]
        await v.watch_account(acc.id)
        return v, acc.id, await v.active_contract("F.US.MES")

    v, acc, c = await connect()
    try:
        await v.place_order(OrderRequest(account_id=acc, contract_id=c.id, side=side_of(1),
                                         type=OrderType.MARKET, size=2,
                                         bracket=Bracket(stop_ticks=8, target_ticks=8)))
        for _ in range(300):
            if [p for p in await v.positions(acc) if p.signed_size]:
                break
            await asyncio.sleep(0.01)
        for _ in range(300):                       # the crash loses the legs
            legs = await v.open_orders(acc)
            if not legs:
                break
            for o in legs:
                await v.cancel_order(acc, o.id)
            await asyncio.sleep(0.01)
    finally:
        await v.close()
    v, acc, c = await connect()                    # the restarted process
    j = Journal(journal_path)
    try:
        eng = LiveEngine(profile=load_profile("demo"), venue=v, journal=j,
                         clock=gw.engine.clock, account_id=acc, contract=c,
                         signal=lambda b: (0, 0.0), bar_seconds=60, run_id="restart",
                         armed=False)
        t0 = time.perf_counter()
        await eng.guard.recover()
        while time.perf_counter() - t0 < 10.0:
            stops = [o for o in await v.open_orders(acc) if o.stop_price is not None]
            if sum(o.size for o in stops) >= 2:
                return time.perf_counter() - t0
            await asyncio.sleep(0.005)
        raise RuntimeError("no protective stop within 10 s of the restart")
    finally:
        j.close()
        await v.close()


def restart_to_protected(*, runs: int = 5) -> list[float]:
    """Seconds from a restart's recovery to a working stop for the whole position found
    (the crash lost its bracket), against the simulator on loopback."""
    import tempfile
    from pathlib import Path

    from core.backtest.synthetic import random_walk_bars
    from core.venues.sim.gateway.server import SimGateway

    async def one(path: Path) -> float:
        bars = random_walk_bars(240, seed=1, bar_seconds=60, rth_only=True, start="2025-01-02")
        gw = SimGateway(bars)
        await gw.start()
        try:
            gw.replay.step(8)
            return await _restart_once(gw, path)
        finally:
            await gw.stop()
    with tempfile.TemporaryDirectory(prefix="scalpdesk-bench-") as d:
        return [asyncio.run(one(Path(d) / f"j{k}.sqlite")) for k in range(runs)]
