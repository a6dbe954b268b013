"""Run the live engine as its own process: venue, journal, control socket, timers, shutdown.

``scalpdesk live`` calls :func:`run_live`. Start-up (requirements §9): profile and secrets
(env vars) → venue (core.venues.factory: TopstepX, or the local simulator for ``venue.kind =
"sim"``) → account and contract → journal (risk state restored) → model warm-up from the
venue's history → market data → :meth:`LiveEngine.recover` (the broker is the truth) → the
control socket → trade. A timer runs every ``timer_s``: bar close on the clock, the schedule,
the protection invariant, a heartbeat. SIGINT/SIGTERM (or ``run_for_s``) shut down with the
profile's policy — by default cancel every working order and flatten — then a session report.

Clock: against TopstepX the engine runs on wall time. Against the simulator it follows the
replay's market time (:class:`MarketTime`), so bars and the schedule see the replayed day.
"""

from __future__ import annotations

import asyncio
import json
import signal as _signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clock import Clock, LiveClock
from core.config import Profile
from core.engine.feeds import coalesce
from core.engine.live import LiveEngine
from core.engine.signals import ModelSignal
from core.errors import ConfigError

#: Events printed by the headless mode (quotes and bars are too many; the journal has them).
SIGNIFICANT = {"SignalDecided", "OrderUpdated", "FillReceived", "PositionChanged",
               "RiskStateChanged", "Alert", "FeedHealthChanged"}
#: Events the journal keeps (everything but the quote stream and the heartbeat).
JOURNALED = SIGNIFICANT | {"BarClosed", "PredictionMade"}


class MarketTime(Clock):
    """Market time of a replayed feed: the newest event time, advanced by wall time since it
    (at most ``cap_s``) — so a quiet bar still closes, and a replay's compressed nights pass."""

    def __init__(self, wall: Clock | None = None, cap_s: float = 5.0) -> None:
        self.wall = wall or LiveClock()
        self.cap_ns = int(cap_s * 1e9)
        self._last = 0
        self._at = 0

    def observe(self, ts_ns: int) -> None:
        """An event stamped ``ts_ns`` arrived."""
        if ts_ns > self._last:
            self._last, self._at = int(ts_ns), self.wall.now_ns()

    def now_ns(self) -> int:
        if not self._last:
            return self.wall.now_ns()
        return self._last + min(self.wall.now_ns() - self._at, self.cap_ns)


@dataclass
class LiveOptions:
    """What `scalpdesk live` was asked to do."""

    profile: Profile
    model: str | None = None
    account: str | None = None
    journal_path: Path | None = None
    socket_path: Path | None = None
    armed: bool | None = None          #: None: armed on the simulator, disarmed on live accounts
    run_for_s: float | None = None     #: stop after this long (demos, tests)
    status_every_s: float = 5.0
    timer_s: float = 0.25
    shutdown: str = "flatten"          #: "flatten" (cancel + close) or "leave" (brackets stay)
    sim_speed: float = 10.0
    bar_seconds: int | None = None
    sim_overrides: dict[str, Any] = field(default_factory=dict)
    metrics_port: int | None = None
    shadow_model: str | None = None   #: a candidate model that predicts without trading


@dataclass
class SessionReport:
    """What the run did (printed at shutdown, returned to callers)."""

    run_id: str
    seconds: float
    bars: int
    trades: list[dict[str, Any]]
    net_pnl: float
    balance: float
    mode: str
    flat_at_exit: bool
    alerts: list[str]

    def lines(self) -> list[str]:
        """The report in words."""
        out = [f"session {self.run_id}: {self.seconds:,.0f} s, {self.bars:,} bars, "
               f"{len(self.trades)} trades, net {self.net_pnl:+,.2f}, balance {self.balance:,.2f}, "
               f"risk {self.mode}, {'flat' if self.flat_at_exit else 'NOT FLAT'} at exit"]
        out += [f"  {t['exit_reason']:>8} {'long' if t['direction'] > 0 else 'short'} "
                f"{t['contracts']} @ {t['entry_price']:.2f} → {t['exit_price']:.2f}  "
                f"{t['net_pnl']:+.2f}" for t in self.trades]
        out += [f"  alert: {a}" for a in self.alerts]
        return out


def default_journal_path(profile_name: str) -> Path:
    """The user's journal of a profile: ``$SCALPDESK_HOME/journal/<profile>.sqlite``."""
    import os

    home = Path(os.environ.get("SCALPDESK_HOME", Path.home() / ".scalpdesk")).expanduser()
    return home / "journal" / f"{profile_name}.sqlite"


async def run_live(opts: LiveOptions, *, out: Callable[[str], None] = print,
                   stop: asyncio.Event | None = None) -> SessionReport:
    """Run the engine until a signal, ``stop`` or ``run_for_s``; returns the session report."""
    from core.control.paths import socket_path
    from core.control.server import ControlServer
    from core.journal import Journal
    from core.venues.factory import open_venue
    from core.venues.sim.launch import SimSettings

    prof = opts.profile
    kind = prof.venue.kind
    clock: Clock = MarketTime() if kind == "sim" else LiveClock()
    sim = SimSettings(symbol=prof.instrument if prof.instrument in ("MES", "ES", "MNQ", "NQ")
                      else "MES", days=2, serve_history=True, speed=opts.sim_speed,
                      **opts.sim_overrides) if kind == "sim" else None
    venue = await open_venue(prof, sim=sim)
    await venue.connect()
    stop = stop or asyncio.Event()
    started = time.perf_counter()
    journal = None
    control = None
    try:
        accounts = await venue.accounts()
        acc = next((a for a in accounts if opts.account in (None, a.name)), None)
        if acc is None:
            raise ConfigError(f"account {opts.account!r} not found",
                              hint="accounts: " + ", ".join(a.name for a in accounts))
        await venue.watch_account(acc.id)
        contract = await venue.active_contract(prof.venue.symbol_id)
        await venue.subscribe_quotes(contract.id)
        await venue.subscribe_trades(contract.id)
        early = await _first_market_event(venue, clock)   # the replay's "now" for the history
        signal, bar_s = await _signal_source(opts, venue, contract.id, clock)
        run_id = f"{prof.name}-{LiveClock().now_ns() // 1_000_000_000}"
        journal = Journal(opts.journal_path or default_journal_path(prof.name),
                          now_ns=clock.now_ns)
        armed = (kind == "sim") if opts.armed is None else opts.armed
        engine: LiveEngine | None = None
        metrics = None
        if opts.metrics_port is not None:
            from core.engine.metrics import EngineMetrics

            metrics = EngineMetrics(opts.metrics_port)

        def publish(ev: dict[str, Any]) -> None:
            t = ev.get("type")
            if t in JOURNALED:
                journal.append(ev, run_id=run_id)
            if control is not None:
                control.publish(ev)
            if metrics is not None:
                metrics.on_event(ev)
            if t in SIGNIFICANT and not (t == "SignalDecided" and ev.get("action") == "none"):
                out(json.dumps(ev, default=str, separators=(",", ":")))

        engine = LiveEngine(profile=prof, venue=venue, journal=journal, clock=clock,
                            account_id=acc.id, contract=contract, signal=signal,
                            bar_seconds=bar_s, run_id=run_id, armed=armed, publish=publish)
        from core.engine.snapshot import book_of

        engine.info = {"book": book_of(kind, bool(getattr(acc, "simulated", False))),
                       "account": acc.name}
        if opts.shadow_model is not None:
            from core.engine.shadow import ShadowModel

            shadow_sig, _ = await _signal_source(LiveOptions(profile=prof, model=opts.shadow_model,
                                                             bar_seconds=bar_s),
                                                 venue, contract.id, clock)
            engine.shadow = ShadowModel(shadow_sig)
        for ev in early:
            await engine.on_event(ev)
        found = await engine.guard.recover()
        engine.on_stop = stop.set                     # `ctl stop`: shut down like a SIGTERM
        control = ControlServer(engine.ops, opts.socket_path or socket_path(prof.name))
        await control.start()
        out(json.dumps({"type": "EngineStarted", "run_id": run_id, "profile": prof.name,
                        "venue": kind, "account": acc.name, "contract": contract.id,
                        "armed": armed, "socket": str(control.path), "journal": str(journal.path),
                        "recovered": found}, default=str))
        _install_signals(stop)
        await _loop(engine, venue, clock, opts, stop, out, metrics)
        flat = True
        policy = engine.shutdown_policy or opts.shutdown
        if policy == "flatten" and (engine.state.position or engine.book.live()):
            flat = await engine.flatten(reason="shutdown")
        report = SessionReport(run_id, time.perf_counter() - started, engine.state.bars,
                               engine.trades, sum(t["net_pnl"] for t in engine.trades),
                               float(engine.risk.fs[0]), (await engine.ops.status())["mode"],
                               flat and engine.state.position == 0,
                               [a["message"] for a in engine.alerts.values()])
        if engine.shadow is not None:
            sh = engine.shadow.report(prof)
            engine.alert("shadow-report", "info",
                         f"shadow model {sh['model']}: {sh['trades']} hypothetical trades, net "
                         f"{sh['net_pnl']:+,.2f} over {sh['bars']} bars (the backtester, this "
                         "profile; the live model is unchanged)")
            report.alerts.append(f"shadow {sh['model']}: {sh['trades']} trades, "
                                 f"net {sh['net_pnl']:+,.2f}")
        journal.save_risk(engine.risk.snapshot())
        return report
    finally:
        if control is not None:
            await control.close()
        await venue.close()
        if journal is not None:
            journal.close()


async def _signal_source(opts: LiveOptions, venue: Any, contract_id: str, clock: Clock
                         ) -> tuple[Callable[[Any], tuple[int, float]], int]:
    """The model's streaming signal (warmed up on the venue's history) or no signal at all."""
    if opts.model is None:
        return (lambda bar: (0, 0.0)), int(opts.bar_seconds or 60)
    from core.ml.artifacts import model_bar_seconds

    bar_s = int(opts.bar_seconds or model_bar_seconds(opts.model))
    now = clock.now_ns()
    hist = await venue.bars(contract_id, now - 3 * 86_400 * 10**9, now, bar_seconds=bar_s)
    import pandas as pd

    frame = pd.DataFrame([(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in hist],
                         columns=["timestamp", "open", "high", "low", "close", "volume"])
    return ModelSignal(opts.model, history=frame if len(frame) else None), bar_s


async def _first_market_event(venue: Any, clock: Clock, timeout_s: float = 15.0) -> list[Any]:
    """Wait for the first quote or print (market time starts there); returns what was read."""
    out: list[Any] = []
    if not isinstance(clock, MarketTime):
        return out
    it = venue.events().__aiter__()
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            ev = await asyncio.wait_for(it.__anext__(), timeout=max(end - time.monotonic(), 0.01))
        except (TimeoutError, StopAsyncIteration):
            break
        out.append(ev)
        ts = getattr(getattr(ev, "tick", None) or getattr(ev, "quote", None), "ts", 0)
        if ts:
            clock.observe(int(ts))
            break
    return out


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (_signal.SIGINT, _signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):   # not the main thread (tests)
            pass


async def _loop(engine: LiveEngine, venue: Any, clock: Clock, opts: LiveOptions,
                stop: asyncio.Event, out: Callable[[str], None], metrics: Any = None) -> None:
    follow = clock.observe if isinstance(clock, MarketTime) else None

    drain = getattr(venue, "drain_events", None)

    async def pump() -> None:
        async for first in venue.events():
            # A burst waiting behind this event: keep the latest quote per contract only.
            burst, dropped = coalesce([first] + (drain() if drain is not None else []))
            engine.quotes_coalesced += dropped
            for ev in burst:
                if follow is not None:
                    ts = getattr(getattr(ev, "tick", None) or getattr(ev, "quote", None), "ts", 0)
                    if ts:
                        follow(int(ts))
                try:
                    await engine.on_event(ev)
                except Exception as exc:  # noqa: BLE001 - requirements §9: flatten, halt, alert
                    engine.alert("engine-error", "critical", f"unhandled error {exc!r}: "
                                 "flattening and halting (re-arm after review)", needs_ack=True)
                    await engine.guard.kill()

    task = asyncio.create_task(pump(), name="engine-events")
    t_end = None if opts.run_for_s is None else time.perf_counter() + opts.run_for_s
    next_status = time.perf_counter()          # a first status line right away
    seq = 0
    try:
        while not stop.is_set():
            if task.done():
                task.result()                           # surface a crash of the event pump
            await engine.on_time()
            seq += 1
            engine.publish({"type": "Heartbeat", "ts_ns": clock.now_ns(), "seq": seq,
                            "uptime_s": seq * opts.timer_s})
            now = time.perf_counter()
            if metrics is not None:
                metrics.on_status(await engine.ops.status())
            if now >= next_status:
                st = await engine.ops.status()
                out(f"status mode={st['mode']} armed={st['armed']} pos={st['position']} "
                    f"last={st['last_price']} day_pnl={st['day_pnl']:+.2f} bars={st['bars']} "
                    f"trades={st['trades']} alerts={len(st['alerts'])}")
                next_status = now + opts.status_every_s
            if t_end is not None and now >= t_end:
                break
            try:
                await asyncio.wait_for(stop.wait(), timeout=opts.timer_s)
            except TimeoutError:
                pass
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
            pass
