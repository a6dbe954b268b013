"""Start a local simulator without a console: bars → :class:`SimGateway` on loopback → replay.

``scalpdesk sim run`` uses it (then prints the URLs and waits for Ctrl-C), and so does
:func:`core.venues.factory.open_venue` for profiles with ``venue.kind = "sim"`` (an in-process
simulator owned by the venue it returns). One start-up path, so the simulator a paper-trading
engine talks to is the one a person runs by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.clock import Clock, LiveClock
from core.errors import ConfigError
from core.venues.sim.gateway import AccountConfig, Faults, GatewayConfig, SimGateway, SimUrls
from core.venues.sim.gateway.schedule import ScheduledFault, parse_fault_spec, run_fault_schedule
from core.venues.sim.matching import MatchingConfig
from core.venues.sim.models import BracketMode

ACCOUNT_SIZES = (50_000, 100_000, 150_000)
#: A pause between two bars at least this long separates sessions (nights, weekends, halts).
SESSION_GAP_NS = 3_600 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How to start a simulator: the options of ``scalpdesk sim run``.

    Attributes:
        data: Bars to replay: a file/directory, a catalog symbol (``MES``), or None for
            generated MES RTH days.
        bar: Bar size of catalog data (``1m``); default the only size held.
        symbol: Instrument root the simulator lists (MES, ES, MNQ, NQ).
        start / end: Optional UTC window of the data (``YYYY-MM-DD`` or ISO).
        days: Days of generated data.
        seed: Seed of the generated data and of the fault dice.
        speed: Replay speed (1 real time, 10 ten times faster, 0 as fast as possible).
        wall_clock: Shift the bars by whole weeks so market time equals wall time, serve the
            bars before now as history and replay at speed 1 (paper trading in real time).
        serve_history: Serve every session but the last as history at once and replay only
            the last one (feature warm-up and bar look-ups work from the first second).
            Ignored with ``wall_clock``, which already serves everything before now.
        account_size: Topstep combine size (balance, Maximum Loss Limit, contract cap).
        bracket_mode: ``auto_oco`` (native brackets accepted) or ``position`` (rejected).
        partial_fills: Fill at most this many contracts per order per market event.
        daily_loss_limit: Optional Topstep Daily Loss Limit in dollars.
        faults: Fault schedule (``drop:30,stall:60:20``; see ``scalpdesk sim run --help``).
        host / port: Where to listen (keep it on loopback; port 0 = any free port).
    """

    data: str | None = None
    bar: str | None = None
    symbol: str = "MES"
    start: str | None = None
    end: str | None = None
    days: int = 1
    seed: int = 0
    speed: float = 10.0
    wall_clock: bool = False
    serve_history: bool = False
    account_size: int = 50_000
    bracket_mode: str = "auto_oco"
    partial_fills: int | None = None
    daily_loss_limit: float | None = None
    faults: str | None = None
    host: str = "127.0.0.1"
    port: int = 0

    def check(self) -> list[ScheduledFault]:
        """Validate every setting at once and return the parsed fault schedule.

        Raises:
            ConfigError: Listing every problem (fault spec problems included).
        """
        problems: list[str] = []
        if self.account_size not in ACCOUNT_SIZES:
            problems.append(f"account size {self.account_size} is not a Topstep combine size "
                            "(use 50000, 100000 or 150000)")
        if self.bracket_mode not in {m.value for m in BracketMode}:
            problems.append(f"bracket mode {self.bracket_mode!r} is not auto_oco or position")
        if self.speed < 0:
            problems.append(f"speed {self.speed:g} must be >= 0")
        if self.days < 1:
            problems.append(f"days {self.days} must be >= 1")
        if not 0 <= self.port <= 65_535:
            problems.append(f"port {self.port} is not 0..65535")
        try:
            items = parse_fault_spec(self.faults)
        except ConfigError as exc:
            problems += exc.problems or [exc.message]
            items = []
        if problems:
            raise ConfigError("bad simulator settings", problems=problems,
                              hint="see `scalpdesk sim run --help` for every option")
        return items


@dataclass(frozen=True, slots=True)
class SimBars:
    """Bars ready to replay.

    Attributes:
        frame: Canonical bar frame, sorted.
        what: One line saying where the bars came from.
        history_until_ns: Bars before this market time are history (None: replay them all).
        notes: Things a person should know (e.g. the data starts in the future).
        speed: The replay speed to use (``wall_clock`` forces real time).
    """

    frame: pd.DataFrame
    what: str
    history_until_ns: int | None
    notes: tuple[str, ...] = ()
    speed: float = 10.0


def last_session_start(ts: np.ndarray) -> int | None:
    """Start of the last session of sorted bar times (after the last gap of an hour or more).

    Returns None when the bars hold one session only (nothing to serve as history).
    """
    if len(ts) < 2:
        return None
    gaps = np.flatnonzero(np.diff(ts) >= SESSION_GAP_NS)
    return None if not len(gaps) else int(ts[gaps[-1] + 1])


def load_sim_bars(settings: SimSettings, *, now_ns: int | None = None,
                  progress: Callable[[float], None] | None = None) -> SimBars:
    """Load (or generate) the bars ``settings`` describe and decide what is history.

    Args:
        settings: The simulator settings.
        now_ns: Wall time; required with ``settings.wall_clock`` (only the caller's clock
            reads wall time).
        progress: Fraction-done callback while reading files.

    Raises:
        DataError: Nothing to replay (missing file, unknown catalog entry, empty range).
        ConfigError: ``wall_clock`` without ``now_ns``.
    """
    from core.venues.sim.loader import align_to_week_of, load_replay_bars

    days, gen_start, speed = settings.days, None, settings.speed
    if settings.wall_clock:
        if now_ns is None:
            raise ConfigError("a wall-clock simulator needs the current time",
                              hint="pass now_ns=clock.now_ns()")
        speed = 1.0
        if settings.data is None:  # generate a window around today so history exists at once
            gen_start = (pd.Timestamp(now_ns, tz="UTC") - pd.Timedelta(days=4)).strftime("%Y-%m-%d")
            days = max(days, 5)
    frame, what = load_replay_bars(settings.data, symbol=settings.symbol, start=settings.start,
                                   end=settings.end, days=days, seed=settings.seed,
                                   progress=progress, generate_from=gen_start, bar=settings.bar)
    notes: list[str] = []
    history: int | None = None
    if settings.wall_clock:
        frame, weeks = align_to_week_of(frame, now_ns)  # type: ignore[arg-type]
        what += f", shifted {weeks} week(s) to wall time"
        history = now_ns
        first = int(frame["timestamp"].iloc[0])
        if first > now_ns:  # type: ignore[operator]
            notes.append(f"the data starts {(first - now_ns) / 3.6e12:.1f} h from now; "  # type: ignore[operator]
                         "the market stays quiet until then")
    elif settings.serve_history:
        history = last_session_start(frame["timestamp"].to_numpy(np.int64))
        if history is not None:
            what += ", all but the last session served as history"
    return SimBars(frame, what, history, tuple(notes), speed)


def build_gateway(bars: SimBars, settings: SimSettings) -> SimGateway:
    """A :class:`SimGateway` over ``bars`` with one Topstep combine account (not started)."""
    cfg = GatewayConfig(symbol=settings.symbol, accounts=[AccountConfig(
        name=f"{settings.account_size // 1000}KTC-V2-SIM-1", balance=float(settings.account_size),
        account_size=settings.account_size, bracket_mode=BracketMode(settings.bracket_mode),
        daily_loss_limit=settings.daily_loss_limit)])
    # Real-time paper trading waits through nights and weekends instead of compressing them.
    max_gap = float("inf") if settings.wall_clock else 2.0
    return SimGateway(bars.frame, config=cfg, faults=Faults(seed=settings.seed), speed=bars.speed,
                      matching=MatchingConfig(max_fill_per_event=settings.partial_fills),
                      history_until_ns=bars.history_until_ns, max_gap_s=max_gap)


class LocalSimulator:
    """A started simulator: the gateway, its URLs, and the tasks that drive it.

    Args:
        gateway: The started gateway.
        bars: What it replays.
        tasks: Background tasks (fault schedule) cancelled on :meth:`stop`.
    """

    def __init__(self, gateway: SimGateway, bars: SimBars, tasks: list[asyncio.Task[Any]]) -> None:
        self.gateway = gateway
        self.bars = bars
        self._tasks = tasks
        self._stopped = False

    @property
    def urls(self) -> SimUrls:
        """Where it listens."""
        assert self.gateway.urls is not None  # set by start()
        return self.gateway.urls

    def market_open(self) -> bool:
        """Whether quotes should be flowing: the replay plays and is not in a gap between
        sessions (the client's stall watchdog asks this instead of the CME calendar, which
        knows nothing of a replay's market time)."""
        rp = self.gateway.replay
        if rp is None or rp.done or rp.paused:
            return False
        ahead = int(rp.path.ts[rp.index]) - self.gateway.clock.now_ns()
        return ahead <= max(60_000_000_000, 2 * self.gateway.bar_ns)

    @property
    def credentials(self) -> tuple[str, str]:
        """``(username, api_key)`` the simulator accepts (not secrets: documented defaults)."""
        return self.gateway.config.username, self.gateway.config.api_key

    async def stop(self) -> None:
        """Stop the fault schedule, the replay and the server (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.gateway.stop()

    async def __aenter__(self) -> LocalSimulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def start_simulator(settings: SimSettings | None = None, *, bars: SimBars | None = None,
                          clock: Clock | None = None, feed: bool = True,
                          log: Callable[[str], Any] | None = None) -> LocalSimulator:
    """Load the bars (unless given), build the gateway, listen, start the replay and faults.

    Args:
        settings: Simulator settings (defaults: generated MES data at speed 10).
        bars: Bars already loaded with :func:`load_sim_bars` (the CLI loads them first to show
            a progress bar); loaded here, off the event loop, when None.
        clock: Wall clock for ``wall_clock`` settings (default :class:`LiveClock`).
        feed: Start the replay now (False: a test steps it).
        log: Where the fault schedule reports what it does.

    Raises:
        ConfigError: Bad settings. DataError: nothing to replay. OSError: cannot listen.
    """
    settings = settings or SimSettings()
    items = settings.check()
    if bars is None:
        now = (clock or LiveClock()).now_ns() if settings.wall_clock else None
        # Reading or generating bars takes seconds: keep the caller's event loop responsive.
        bars = await asyncio.to_thread(load_sim_bars, settings, now_ns=now)
    gw = build_gateway(bars, settings)
    await gw.start(settings.host, settings.port, feed=feed)
    tasks: list[asyncio.Task[Any]] = []
    if items:
        tasks.append(asyncio.create_task(run_fault_schedule(gw, items, log=log or (lambda _m: None)),
                                         name="sim-faults"))
    return LocalSimulator(gw, bars, tasks)
