"""``scalpdesk bench venue``: the TopstepX client against the local simulator on loopback.

Measures what the live engine depends on:

* quote throughput — quotes/s the client receives, parses, merges and delivers as events;
* place → acknowledgement latency — ``place_order`` returning the venue's order id (REST),
  and until the order's first hub event (p50/p99/max);
* recovery — a dropped hub until it is reconnected, resubscribed and the REST resync is done,
  and a full simulator outage until the same, counted from the moment it is reachable again.

The simulator runs in its own process on loopback (like the real gateway, its work does not
share the client's GIL or event loop; on a small machine the two still compete for cores).
Both sides' REST rate limits are lifted: this measures the wire and the client, not the
200/min budget.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.clock import LiveClock
from core.domain import OrderType, Side
from core.errors import ConfigError
from core.venues.base import ConnectionEvent, ConnectionState, OrderEvent, OrderRequest, QuoteEvent
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.venue import TopstepXVenue

_T0 = 1_735_828_200_000_000_000


@dataclass
class VenueBench:
    """One run's figures (seconds unless named otherwise)."""

    quotes_sent: int = 0
    quotes_received: int = 0
    quotes_per_s: float = 0.0
    ping_ms: list[float] = field(default_factory=list)
    place_ack_ms: list[float] = field(default_factory=list)
    place_event_ms: list[float] = field(default_factory=list)
    drop_resync_s: list[float] = field(default_factory=list)
    outage_resync_s: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Flat figures: rates, percentiles and maxima."""
        def pct(xs: list[float], q: float) -> float:
            if not xs:
                return float("nan")
            s = sorted(xs)
            return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]

        return {
            "quotes_per_s": self.quotes_per_s,
            "quotes_lost": float(self.quotes_sent - self.quotes_received),
            "ping_p50_ms": pct(self.ping_ms, 0.5), "ping_p99_ms": pct(self.ping_ms, 0.99),
            "ack_p50_ms": pct(self.place_ack_ms, 0.5), "ack_p99_ms": pct(self.place_ack_ms, 0.99),
            "ack_max_ms": max(self.place_ack_ms, default=float("nan")),
            "event_p50_ms": pct(self.place_event_ms, 0.5),
            "event_p99_ms": pct(self.place_event_ms, 0.99),
            "drop_resync_median_s": statistics.median(self.drop_resync_s) if self.drop_resync_s else float("nan"),
            "drop_resync_max_s": max(self.drop_resync_s, default=float("nan")),
            "outage_resync_max_s": max(self.outage_resync_s, default=float("nan")),
        }


def _bars(n: int = 600) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    close = 5000 + np.cumsum(rng.integers(-3, 4, n)) * 0.25
    open_ = np.concatenate([[5000.0], close[:-1]])
    return pd.DataFrame({"timestamp": _T0 + np.arange(n, dtype=np.int64) * 60_000_000_000,
                         "open": open_, "high": np.maximum(open_, close) + 0.25,
                         "low": np.minimum(open_, close) - 0.25, "close": close,
                         "volume": rng.integers(50, 300, n).astype(np.int64), "symbol": "MES"})


def _serve_sim(queue: Any, port: int) -> None:
    """Child process: run the simulator on ``port`` until terminated."""
    from core.venues.sim.gateway.config import GatewayConfig
    from core.venues.sim.gateway.server import SimGateway

    async def main() -> None:
        gw = SimGateway(_bars(), config=GatewayConfig(rest_limit=(10**9, 60.0),
                                                     bars_limit=(10**9, 30.0)))
        urls = await gw.start(port=port)
        gw.replay.step(8)
        queue.put(urls.rest)
        await asyncio.Event().wait()

    asyncio.run(main())


class _SimProcess:
    """The simulator in its own process (its work does not share our GIL or event loop)."""

    def __init__(self) -> None:
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self.rest = ""
        self.port = 0

    async def start(self, port: int = 0) -> str:
        q = self._ctx.Queue()
        self._proc = self._ctx.Process(target=_serve_sim, args=(q, port), daemon=True)
        self._proc.start()
        loop = asyncio.get_running_loop()
        self.rest = await loop.run_in_executor(None, q.get, True, 120)
        self.port = int(self.rest.rsplit(":", 1)[1])
        return self.rest

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(10)
            self._proc = None

    async def admin(self, session: Any, action: str, body: dict[str, Any]) -> Any:
        async with session.post(f"{self.rest}/_sim/{action}", json=body) as resp:
            return await resp.json(content_type=None)


async def run_bench(*, quotes: int = 50_000, orders: int = 200, drops: int = 5,
                    outage_s: float = 2.0, transport: str = "signalrcore",
                    progress: Callable[[float], None] | None = None,
                    log: Callable[[str], None] | None = None) -> VenueBench:
    """One benchmark run: a fresh simulator process and a fresh client.

    ``transport`` picks the hub transport: ``signalrcore`` (default) or ``aiohttp``.
    """
    import aiohttp

    from core.venues.topstepx.signalr import signalrcore_factory
    from core.venues.topstepx.wshub import aiohttp_factory

    factories = {"signalrcore": signalrcore_factory, "aiohttp": aiohttp_factory}
    if transport not in factories:
        raise ConfigError(f"unknown hub transport {transport!r}",
                          hint=f"use one of: {', '.join(factories)}")

    out = VenueBench()
    sim = _SimProcess()
    rest = await sim.start()
    cfg = TopstepXConfig(api_url=rest, user_hub_url=f"{rest}/hubs/user",
                         market_hub_url=f"{rest}/hubs/market", rate=10**9, bars_rate=10**9,
                         stall_timeout_s=3600.0)
    venue = TopstepXVenue(cfg, username="sim", api_key="sim-key", clock=LiveClock(),
                          market_open=lambda: True, hub_factory=factories[transport])
    got = {"quotes": 0, "last": 0.0}
    first_event: dict[int, float] = {}
    resynced = asyncio.Event()
    connected = asyncio.Event()
    t_start = time.perf_counter()

    async def consume() -> None:
        async for ev in venue.events():
            if isinstance(ev, QuoteEvent):
                got["quotes"] += 1
                got["last"] = time.perf_counter()
            elif isinstance(ev, OrderEvent):
                first_event.setdefault(ev.order.id, time.perf_counter())
            elif isinstance(ev, ConnectionEvent):
                if log is not None:
                    log(f"{time.perf_counter() - t_start:7.2f}s {ev.hub} {ev.state.value} {ev.reason}")
                if ev.hub == "user" and ev.state == ConnectionState.RESYNCED:
                    resynced.set()
                if ev.hub == "market" and ev.state == ConnectionState.CONNECTED:
                    connected.set()

    consumer = asyncio.create_task(consume())
    admin = aiohttp.ClientSession()
    try:
        await venue.connect()
        acc = (await venue.accounts())[0].id
        await venue.watch_account(acc)
        cid = (await venue.active_contract("F.US.MES")).id
        await venue.subscribe_quotes(cid)
        await asyncio.sleep(0.3)
        # --- quote throughput: the server pushes as fast as it can; we count what we process
        got["quotes"] = 0
        t0 = time.perf_counter()
        sent = await sim.admin(admin, "blast", {"contractId": cid, "count": quotes})
        out.quotes_sent = int(sent.get("queued", quotes)) if isinstance(sent, dict) else quotes
        while got["quotes"] < out.quotes_sent:
            await asyncio.sleep(0.01)
            if time.perf_counter() - max(got["last"], t0) > 3.0:
                break  # nothing more is coming
        out.quotes_received = got["quotes"]
        out.quotes_per_s = got["quotes"] / max(1e-9, (got["last"] or time.perf_counter()) - t0)
        if progress:
            progress(1)
        # --- baseline: a bare HTTP round trip to the same server (no client logic)
        for _ in range(orders):
            t = time.perf_counter()
            async with admin.get(f"{rest}/api/Status/ping") as resp:
                await resp.read()
            out.ping_ms.append((time.perf_counter() - t) * 1e3)
        # --- place → ack (REST answer) and → first hub event
        sent_at: dict[int, float] = {}
        for i in range(orders):
            side = Side.BUY if i % 2 == 0 else Side.SELL  # net flat: never near a position cap
            t = time.perf_counter()
            res = await venue.place_order(OrderRequest(acc, cid, side, OrderType.MARKET, 1))
            out.place_ack_ms.append((time.perf_counter() - t) * 1e3)
            sent_at[res.order_id] = t
        await asyncio.sleep(0.5)
        out.place_event_ms = [(first_event[oid] - t) * 1e3 for oid, t in sent_at.items()
                              if oid in first_event]
        if progress:
            progress(1)
        # --- dropped hubs → reconnected, resubscribed, resynced
        for _ in range(drops):
            resynced.clear()
            connected.clear()
            t = time.perf_counter()
            await sim.admin(admin, "faults", {"drop": "all"})
            await asyncio.wait_for(asyncio.gather(resynced.wait(), connected.wait()), 30)
            out.drop_resync_s.append(time.perf_counter() - t)
        # --- the whole gateway gone for outage_s (a restart: tokens forgotten), then back
        if outage_s > 0:
            resynced.clear()
            connected.clear()
            port = sim.port
            sim.kill()
            await asyncio.sleep(outage_s)
            await sim.start(port=port)
            t = time.perf_counter()
            if log is not None:
                log(f"{t - t_start:7.2f}s simulator reachable again")
            await asyncio.wait_for(asyncio.gather(resynced.wait(), connected.wait()), 60)
            out.outage_resync_s.append(time.perf_counter() - t)
        if progress:
            progress(1)
    finally:
        consumer.cancel()
        await venue.close()
        await admin.close()
        sim.kill()
    return out
