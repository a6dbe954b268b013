"""`scalpdesk bench tui`: the console's own figures (issue 10).

The engine side is a stand-in served by the real :class:`~core.control.ControlServer` in a
SEPARATE process (forked), publishing ``QuoteUpdated`` events at a fixed rate through the
real fan-out; the console is the real :class:`~console.tui.app.ConsoleApp` in this process,
run headless by Textual's test driver (layout and rendering happen; nothing is written to a
terminal, so a real terminal adds its own write cost on top). Times are CLOCK_MONOTONIC,
which is one clock for every process on Linux.

* key → kill: ``ctrl+k`` pressed → the stand-in's ``kill`` handler runs (the socket hop
  included);
* max frame gap: the longest time between two applied frames while quotes stream at a rate;
* CPU: this process's user+system CPU time over a window, as % of one core.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class _Target:
    """A minimal control target: a status, and a kill that reports when it ran."""

    def __init__(self, kills: Any) -> None:
        self.kills = kills
        self.killed = False

    async def status(self) -> dict[str, Any]:
        return {"ts_ns": 1_704_292_328_000_000_000, "mode": "HALTED" if self.killed else "ACTIVE",
                "armed": not self.killed, "killed": self.killed, "position": 0,
                "profile": "bench", "book": "simulator", "venue": "sim", "account": "bench",
                "feeds": {"user": "connected", "market": "connected"}, "alerts": [],
                "orders": [], "limits": [{"name": "daily loss", "limit": 1000.0, "used": 10.0}]}

    async def kill(self) -> dict[str, Any]:
        self.kills.put(time.monotonic())
        self.killed = True
        return await self.status()

    async def _same(self, *a: Any, **k: Any) -> dict[str, Any]:
        return await self.status()

    pause = resume = flatten = rearm = arm = disarm = ack = _same


def _serve(path: str, rate: Any, kills: Any, ready: Any, stop: Any) -> None:
    # The engine stand-in's process: a ControlServer and a quote pump at `rate` per second.
    from core.control import ControlServer
    from core.domain import events as E

    async def main() -> None:
        srv = ControlServer(_Target(kills), path)
        await srv.start()
        ready.set()
        n, t0, beat = 0, time.monotonic(), 0.0
        while not stop.is_set():
            per_s = rate.value
            now = time.monotonic()
            if per_s > 0:
                due = int((now - t0) * per_s)
                for _ in range(min(due - n, 1000)):
                    n += 1
                    px = 5000.0 + 0.25 * (n % 40)
                    srv.publish(E.QuoteUpdated(contract_id="CON.F.US.MES.H24", bid=px - 0.25,
                                               ask=px, last=px, volume=float(n), ts_ns=n))
                n = max(n, due - 1000)
            else:
                t0, n = now, 0
            if now - beat >= 0.25:
                beat = now
                srv.publish(E.Heartbeat(ts_ns=int(now * 1e9), seq=n, uptime_s=now - t0))
            await asyncio.sleep(0.005)
        await srv.close()

    asyncio.run(main())


@dataclass
class TuiRun:
    """One run's figures."""

    kill_ms: list[float] = field(default_factory=list)
    max_gap_ms: float = 0.0
    p99_gap_ms: float = 0.0
    frames_per_s: float = 0.0
    quotes_seen: int = 0          #: quotes per second the console received at 1,000/s
    cpu_pct_100: float = 0.0
    cpu_pct_1000: float = 0.0
    cpu_pct_idle: float = 0.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _one_run(sock: Path, rate: Any, kills: Any, *, seconds: float, presses: int,
                   fps: float) -> TuiRun:
    from console.tui.app import ConsoleApp

    out = TuiRun()
    app = ConsoleApp(sock, poll_s=0.5, fps=fps)
    async with app.run_test(size=(160, 48)) as pilot:
        end = time.monotonic() + 30
        while app.last_heartbeat is None and time.monotonic() < end:
            await pilot.pause(0.05)

        async def window(per_s: int) -> float:
            rate.value = per_s
            await pilot.pause(0.5)                       # let the stream settle
            c0, t0 = _cpu(), time.monotonic()
            app.frame_times.clear()
            app.record_frames = True
            await pilot.pause(seconds)
            app.record_frames = False
            return 100.0 * (_cpu() - c0) / (time.monotonic() - t0)

        out.cpu_pct_idle = await window(0)
        out.cpu_pct_100 = await window(100)
        q0 = app.quotes_received
        out.cpu_pct_1000 = await window(1000)
        out.quotes_seen = round((app.quotes_received - q0) / seconds)
        ft = app.frame_times
        gaps = sorted((b - a) * 1e3 for a, b in zip(ft, ft[1:], strict=False))
        if gaps:
            out.max_gap_ms = gaps[-1]
            out.p99_gap_ms = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
            out.frames_per_s = len(gaps) / max((ft[-1] - ft[0]), 1e-9)
        rate.value = 100                                 # kills under a normal stream
        for _ in range(presses):
            while not kills.empty():
                kills.get_nowait()
            await pilot.pause(0.3)
            t0 = time.monotonic()
            await pilot.press("ctrl+k")
            got = None
            limit = time.monotonic() + 5
            while got is None and time.monotonic() < limit:
                try:
                    got = kills.get_nowait()
                except Exception:  # noqa: BLE001 - queue.Empty: not yet
                    await asyncio.sleep(0.001)
            if got is not None:
                out.kill_ms.append((got - t0) * 1e3)
        rate.value = 0
    return out


def run_tui_bench(*, runs: int = 3, seconds: float = 5.0, presses: int = 5,
                  fps: float = 15.0, progress: Any = None) -> list[TuiRun]:
    """Measure ``runs`` times (a fresh engine stand-in process and console each time)."""
    ctx = mp.get_context("fork")
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="sdb-", dir="/tmp") as d:
            sock = Path(d) / "bench.sock"
            rate, kills = ctx.Value("i", 0), ctx.Queue()
            ready, stop = ctx.Event(), ctx.Event()
            proc = ctx.Process(target=_serve, args=(str(sock), rate, kills, ready, stop),
                               daemon=True)
            proc.start()
            try:
                if not ready.wait(30):
                    raise RuntimeError("the engine stand-in did not start")
                results.append(asyncio.run(_one_run(sock, rate, kills, seconds=seconds,
                                                    presses=presses, fps=fps)))
            finally:
                stop.set()
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
        if progress is not None:
            progress(1)
    return results


def summary(results: list[TuiRun]) -> dict[str, float]:
    """Medians over runs (the kill latency: median of every press of every run)."""
    med = statistics.median
    kills = [k for r in results for k in r.kill_ms]
    return {"kill_ms_median": med(kills) if kills else float("nan"),
            "kill_ms_max": max(kills) if kills else float("nan"),
            "max_gap_ms": med(r.max_gap_ms for r in results),
            "p99_gap_ms": med(r.p99_gap_ms for r in results),
            "frames_per_s": med(r.frames_per_s for r in results),
            "quotes_seen_per_s": med(r.quotes_seen for r in results),
            "cpu_pct_idle": med(r.cpu_pct_idle for r in results),
            "cpu_pct_100": med(r.cpu_pct_100 for r in results),
            "cpu_pct_1000": med(r.cpu_pct_1000 for r in results)}
