"""Turn bars into a stream of quotes and trades, and play it into the matching engine.

The path inside one bar (documented assumption, deterministic):

* Four points per bar at ``t``, ``t + D/4``, ``t + D/2``, ``t + 3D/4`` (``D`` = the bar size,
  the most common timestamp step of the frame): **O → L → H → C** when the bar closed up or
  flat (``C >= O``), **O → H → L → C** when it closed down — the usual "the wick came first"
  order, which is the pessimistic one for a position held in the bar's direction.
* Each point is one trade print of ``volume // 4`` contracts (the remainder goes to the close;
  zero-size prints are kept as quotes only). The aggressor is a **buy** when the price rose
  from the previous point, a **sell** when it fell, unchanged otherwise.
* The quote around a print at ``P`` is one tick wide and sits on the aggressor's side: a buy
  lifted the ask (``bid = P - 1 tick, ask = P``), a sell hit the bid (``bid = P,
  ask = P + 1 tick``). So a market buy placed after an up-tick pays ``P``; after a down-tick
  ``P + 1 tick``.
* At each point the quote is published first, then the print.

Speed: ``speed = 1`` plays in real time, ``10`` ten times faster, ``0`` as fast as possible
(yielding to the event loop every ``yield_every`` events so sockets keep flowing). Market gaps
(nights, weekends) are compressed to at most ``max_gap_s`` of wall time; during a gap the
engine still sees the market clock advance in ``timer_step_s`` steps (so the 15:10 CT flatten
and the end-of-day MLL update happen on time even when the data has no bars then).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.domain.types import Side
from core.errors import DataError
from core.venues.sim.matching import MatchingEngine

_NS = 1_000_000_000


@dataclass(slots=True)
class MarketPath:
    """Columnar stream of market points: ``ts`` (ns), ``price``, ``size``, ``aggressor`` (the
    :class:`~core.domain.types.Side` value, +1 buy / -1 sell), ``bid``, ``ask``."""

    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    aggressor: np.ndarray
    bid: np.ndarray
    ask: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


def bar_seconds(ts: np.ndarray) -> float:
    """The bar size of a frame: its most common positive timestamp step (seconds), default 1."""
    if len(ts) < 2:
        return 1.0
    d = np.diff(ts)
    d = d[d > 0]
    if not len(d):
        return 1.0
    vals, counts = np.unique(d, return_counts=True)
    return float(vals[np.argmax(counts)]) / _NS


def bars_to_path(frame: pd.DataFrame, tick_size: float) -> MarketPath:
    """Vectorised O→(L,H | H,L)→C path of a canonical bar frame (see the module docstring).

    Raises:
        DataError: The frame is empty or lacks the canonical columns.
    """
    missing = [c for c in ("timestamp", "open", "high", "low", "close", "volume") if c not in frame]
    if missing:
        raise DataError(f"bar frame lacks columns {missing}",
                        hint="pass a canonical bar frame (core.datasets.schema)")
    if not len(frame):
        raise DataError("bar frame is empty: nothing to replay", hint="pick a file with bars")
    ts = frame["timestamp"].to_numpy(np.int64)
    o, h, l, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    v = frame["volume"].to_numpy(np.int64)
    d_ns = int(bar_seconds(ts) * _NS)
    up = c >= o
    pts = np.stack([o, np.where(up, l, h), np.where(up, h, l), c], axis=1)
    pts = np.round(pts / tick_size) * tick_size  # snap to the grid (float noise in files)
    times = ts[:, None] + (np.arange(4, dtype=np.int64) * (d_ns // 4))[None, :]
    q = v // 4
    sizes = np.stack([q, q, q, v - 3 * q], axis=1)
    price = pts.reshape(-1)
    t = times.reshape(-1)
    # keep time monotone even if bars overlap (irregular files): never step back
    t = np.maximum.accumulate(t)
    step = np.diff(price, prepend=price[0])
    aggr = np.sign(step).astype(np.int8)  # the Side values: +1 buy (up-tick), -1 sell
    # unchanged price: keep the previous aggressor (first point: buy)
    idx = np.where(aggr != 0, np.arange(len(aggr)), 0)
    np.maximum.accumulate(idx, out=idx)
    aggr = np.where(aggr[idx] == 0, 1, aggr[idx]).astype(np.int8)
    bid = np.where(aggr > 0, price - tick_size, price)
    ask = np.where(aggr > 0, price, price + tick_size)
    return MarketPath(t, price, sizes.reshape(-1), aggr, np.round(bid, 10), np.round(ask, 10))


class Replay:
    """Plays a :class:`MarketPath` into a :class:`MatchingEngine` for one contract.

    Args:
        engine: The engine (its clock must be a ``SimClock``; the replay moves it).
        contract_id: Contract that receives the quotes and prints.
        path: The market points.
        speed: 1 real time, 10 ten times faster, 0 as fast as possible.
        max_gap_s: Longest wall-clock wait for one gap (nights and weekends are compressed).
        timer_step_s: Market-time step of the engine timer during gaps.
        yield_every: At speed 0, yield to the event loop every this many points.
        on_point: Optional callback after each point (index) — e.g. progress.
    """

    def __init__(self, engine: MatchingEngine, contract_id: str, path: MarketPath, *,
                 speed: float = 1.0, max_gap_s: float = 2.0, timer_step_s: float = 60.0,
                 yield_every: int = 64, on_point: Callable[[int], None] | None = None) -> None:
        if speed < 0:
            raise DataError(f"replay speed must be >= 0, got {speed}",
                            hint="1 = real time, 10 = ten times faster, 0 = as fast as possible")
        self.engine = engine
        self.contract_id = contract_id
        self.path = path
        self.speed = float(speed)
        self.max_gap_s = max_gap_s
        self.timer_step_ns = int(timer_step_s * _NS)
        self.yield_every = max(1, yield_every)
        self.on_point = on_point
        self.index = 0
        self._running = asyncio.Event()
        self._running.set()
        self._anchor: tuple[float, int] | None = None  # (monotonic, market ns)

    @property
    def done(self) -> bool:
        """Whether every point has been played."""
        return self.index >= len(self.path)

    def pause(self) -> None:
        """Stop after the current point (``resume`` continues)."""
        self._running.clear()

    def resume(self, speed: float | None = None) -> None:
        """Continue, optionally at a new speed."""
        if speed is not None:
            self.speed = float(speed)
        self._anchor = None
        self._running.set()

    @property
    def paused(self) -> bool:
        """Whether the replay is paused."""
        return not self._running.is_set()

    def step(self, n: int = 1) -> int:
        """Play the next ``n`` points synchronously (tests); returns how many were played."""
        k = 0
        while k < n and not self.done:
            self._play(self.index)
            self.index += 1
            k += 1
        return k

    def _play(self, i: int) -> None:
        p = self.path
        ts = int(p.ts[i])
        eng = self.engine
        now = eng.clock.now_ns()
        if now and ts - now > self.timer_step_ns:  # a gap: let the rule timers see it pass
            t = now + self.timer_step_ns
            while t < ts:
                eng.on_time(t)
                t += self.timer_step_ns
        eng.on_quote(self.contract_id, float(p.bid[i]), float(p.ask[i]), ts_ns=ts)
        if p.size[i] > 0:
            eng.on_trade(self.contract_id, float(p.price[i]), int(p.size[i]), ts_ns=ts,
                         aggressor=Side(int(p.aggressor[i])))
        if self.on_point is not None:
            self.on_point(i)

    def skip_to(self, ts_ns: int) -> int:
        """Jump to the first point at or after ``ts_ns`` without matching or publishing.

        The skipped bars become *history* (``History/retrieveBars`` serves them at once); the
        market state is set to the last skipped point and the clock to ``ts_ns``. Use it before
        any order exists. Returns the number of points skipped.
        """
        p = self.path
        j = int(np.searchsorted(p.ts, ts_ns, side="left"))
        if j <= self.index:
            return 0
        k = j - 1
        c = self.engine.contracts[self.contract_id]
        m = self.engine.market[self.contract_id]
        seg = slice(self.index, j)
        m.bid, m.ask, m.last = c.to_ticks(p.bid[k]), c.to_ticks(p.ask[k]), c.to_ticks(p.price[k])
        m.volume += int(p.size[seg].sum())
        lo, hi = c.to_ticks(float(p.price[seg].min())), c.to_ticks(float(p.price[seg].max()))
        m.open = m.last if m.open is None else m.open
        m.high = hi if m.high is None else max(m.high, hi)
        m.low = lo if m.low is None else min(m.low, lo)
        self.engine._set_time(max(ts_ns, int(p.ts[k])))  # noqa: SLF001 — replay owns the clock
        m.ts_ns = self.engine.clock.now_ns()
        n = j - self.index
        self.index = j
        return n

    async def run(self) -> None:
        """Play to the end, honouring speed, pause and gap compression.

        While waiting in real time (speed > 0, no gap compression) the engine still sees the
        market clock advance about once a second, so rule timers fire on time.
        """
        while not self.done:
            await self._running.wait()
            i = self.index
            if self.speed > 0:
                ts = int(self.path.ts[i])
                if self._anchor is None:
                    self._anchor = (time.monotonic(), self.engine.clock.now_ns() or ts)
                mono0, ts0 = self._anchor
                wait = mono0 + (ts - ts0) / _NS / self.speed - time.monotonic()
                compressed = wait > self.max_gap_s
                if compressed:  # compress the gap, then re-anchor after it
                    wait = self.max_gap_s
                    self._anchor = (time.monotonic() + wait, ts)
                end = time.monotonic() + wait
                while wait > 0:
                    await asyncio.sleep(min(wait, 1.0))
                    if not self._running.is_set():
                        break
                    if not compressed:
                        now = ts0 + int((time.monotonic() - mono0) * self.speed * _NS)
                        if self.engine.clock.now_ns() < now < ts:
                            self.engine.on_time(now)
                    wait = end - time.monotonic()
                if not self._running.is_set():
                    continue
            elif i % self.yield_every == 0:
                await asyncio.sleep(0)
            self._play(i)
            self.index = i + 1
