"""Fixtures: the local gateway simulator on loopback and a TopstepX client pointed at it.

The client is the production one, unchanged; only its URLs and timings differ (small
watchdog/backoff values keep the tests fast). No wall-clock thresholds are asserted.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.clock import Clock, LiveClock
from core.venues.base import ConnectionEvent, ConnectionState, VenueEvent
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.venue import TopstepXVenue

sim_mod = pytest.importorskip("core.venues.sim.gateway.server",
                              reason="the gateway simulator (core/venues/sim) is not there yet")
SimGateway = sim_mod.SimGateway

T0 = 1_735_828_200_000_000_000  # 2025-01-02 14:30 UTC (RTH)
FAST = dict(stall_timeout_s=0.6, reconnect_delays_s=(0.0, 0.1, 0.2), handshake_timeout_s=5.0,
            invoke_timeout_s=5.0, backoff_base_s=0.02, backoff_max_s=0.1, request_timeout_s=2.0,
            rate=100_000, bars_rate=100_000)


def make_bars(n: int = 240, seed: int = 7, start_ns: int = T0) -> pd.DataFrame:
    """A small one-minute MES bar frame (random walk on the 0.25 grid)."""
    rng = np.random.default_rng(seed)
    close = 5000 + np.cumsum(rng.integers(-4, 5, n)) * 0.25
    open_ = np.concatenate([[5000.0], close[:-1]])
    high = np.maximum(open_, close) + rng.integers(0, 4, n) * 0.25
    low = np.minimum(open_, close) - rng.integers(0, 4, n) * 0.25
    return pd.DataFrame({"timestamp": start_ns + np.arange(n, dtype=np.int64) * 60_000_000_000,
                         "open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.integers(40, 400, n).astype(np.int64), "symbol": "MES"})


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    """A started simulator with 240 bars of replay data (feed paused; tests step it)."""
    from core.venues.sim.gateway.config import GatewayConfig

    gw = SimGateway(make_bars(), config=GatewayConfig(rest_limit=(100_000, 60.0),
                                                     bars_limit=(100_000, 30.0)))
    await gw.start()
    gw.replay.step(8)  # a market exists before the client connects
    yield gw
    await gw.stop()


def venue_for(gw: Any, *, clock: Clock | None = None, **overrides: Any) -> TopstepXVenue:
    """A client for ``gw`` (fast timings; overrides win)."""
    cfg = TopstepXConfig(api_url=gw.urls.rest, user_hub_url=gw.urls.user_hub,
                         market_hub_url=gw.urls.market_hub, **{**FAST, **overrides})
    return TopstepXVenue(cfg, username=gw.config.username, api_key=gw.config.api_key,
                         clock=clock or LiveClock(), market_open=lambda: True)


@pytest.fixture
async def venue(sim: Any) -> AsyncIterator[TopstepXVenue]:
    """A connected client watching the simulator's first account."""
    v = venue_for(sim)
    await v.connect()
    acc = (await v.accounts())[0]
    await v.watch_account(acc.id)
    v.account_id = acc.id  # type: ignore[attr-defined]
    yield v
    await v.close()


async def wait_for(pred: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``pred`` until true (the test fails with ``what`` on timeout)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Recorder:
    """Collects a venue's events in a background task."""

    def __init__(self, venue: TopstepXVenue) -> None:
        self.events: list[VenueEvent] = []
        self._task = asyncio.create_task(self._run(venue))

    async def _run(self, venue: TopstepXVenue) -> None:
        async for ev in venue.events():
            self.events.append(ev)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def states(self, hub: str) -> list[ConnectionState]:
        return [e.state for e in self.of(ConnectionEvent) if e.hub == hub]

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


@pytest.fixture
async def recorder(venue: TopstepXVenue) -> AsyncIterator[Recorder]:
    r = Recorder(venue)
    yield r
    await r.stop()


Waiter = Callable[..., Awaitable[None]]


_NET_SEEN: list[tuple[str, Any]] = []
_NET_WATCHING: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # An audit hook sees the real sockets of every thread (signalrcore's included); no mock.
    if _NET_WATCHING and event in ("socket.connect", "socket.getaddrinfo"):
        _NET_SEEN.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed: it records only inside watch_network()


@contextmanager
def watch_network() -> Iterator[list[tuple[str, Any]]]:
    """Record every socket connect and DNS lookup made inside the block.

    Yields the list of ``(event, address or host)``; pass it to :func:`off_machine`.
    """
    _NET_SEEN.clear()
    _NET_WATCHING.append(True)
    try:
        yield _NET_SEEN
    finally:
        _NET_WATCHING.clear()


def off_machine(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The recorded connects/lookups that leave this machine (Unix-socket paths are local)."""
    from core.venues.factory import is_loopback_host

    bad = []
    for event, where in seen:
        if event == "socket.connect" and not isinstance(where, tuple):
            continue
        host = where[0] if isinstance(where, tuple) else where
        host = host.decode() if isinstance(host, bytes) else host
        if host is not None and not is_loopback_host(str(host)):
            bad.append((event, where))
    return bad
