"""`scalpdesk demo`: the console trading the local simulator — no flags, no network, no key.

First run: a quick LightGBM is trained on synthetic MES bars with a planted pattern and cached
in the user's directory (``core.training.demo_model``); every run then starts the engine in
paper mode against the in-process simulator replaying bars the model never saw, and opens the
console on it (or, with ``--headless``, prints what happens and ends with the session report).
The step-by-step research walk-through that used to be the demo is ``scalpdesk tour``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from console.cli.common import console, err_console, run_cli

PROFILE = "demo"
DEFAULT_SPEED = 20.0


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def prepare(fresh: bool) -> Any:
    """The cached demo model and replay bars (trained now when missing or ``fresh``)."""
    from core.training.demo_model import demo_cache_dir, ensure_demo_model

    cache = demo_cache_dir()

    def step(line: str) -> None:
        _say(f"  {line}")

    if fresh or not _cached(cache):
        _say(f"first run: training the demo model once (cached in {cache}; "
             "`scalpdesk demo --fresh` retrains)")
    found = run_cli(lambda: ensure_demo_model(cache, fresh=fresh, progress=step))
    for line in found.describe():
        _say(line)
    return found


def _cached(cache: Path) -> bool:
    from core.training.demo_model import RECIPE, load_demo_assets
    return load_demo_assets(cache / RECIPE.key()) is not None


def _et(ts_ns: int) -> str:
    """Market time of an event as HH:MM:SS ET (the replay's clock, not the wall's)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(ts_ns / 1e9, UTC).astimezone(
        ZoneInfo("America/New_York")).strftime("%H:%M:%S ET")


class Narrator:
    """Engine output lines in words for the demo (``__call__`` returns None: not worth a line).

    The engine prints one JSON line per significant event (for machines and ``jq``); the
    demo is read by a person, so entries, fills, positions, risk changes and alerts become
    short sentences and the rest (order-state churn, feed reconnects) is left to the journal.
    Times are the replay's market time, never earlier than the last line's: a broker's
    position event can carry the time the position was opened.
    """

    def __init__(self) -> None:
        self.last_ns = 0
        self.refused = ""      # the last refusal shown: a blocked engine refuses every bar

    def __call__(self, line: str) -> str | None:
        """The line in words, or None."""
        return _narrate(line, self)


def _narrate(line: str, state: Narrator) -> str | None:
    if not line.startswith("{"):
        return line                                   # status lines and notes, as printed
    try:
        ev = json.loads(line)
    except ValueError:
        return line
    t = ev.get("type")
    side = {1: "long", -1: "short"}
    if t == "EngineStarted":
        return (f"engine started: profile {ev['profile']}, {ev['venue']} account "
                f"{ev['account']}, {ev['contract']}, {'armed' if ev['armed'] else 'disarmed'}; "
                f"control socket {ev['socket']}")
    state.last_ns = max(state.last_ns, int(ev.get("ts_ns") or 0))
    when = _et(state.last_ns) if state.last_ns else ""
    if t == "SignalDecided" and ev.get("action") not in (None, "none"):
        # Only an entry has a side and a size; an exit or a reverse says what it does.
        entry = ev["action"] == "entry"
        what = f"entry {side.get(ev['direction'], 'flat')}" if entry else ev["action"]
        if ev.get("denied_code") is not None or ev.get("reason"):
            if ev["reason"] == state.refused:
                return None
            state.refused = ev["reason"]
            return (f"{when}  signal {what} at {ev['confidence']:.0%}: refused ({ev['reason']}; "
                    "further refusals for this reason are not shown)")
        state.refused = ""
        size = f" {ev['contracts']}" if entry else ""
        return f"{when}  signal {what}{size} at {ev['confidence']:.0%} confidence"
    if t == "FillReceived":
        return (f"{when}  fill {'buy' if ev['side'] > 0 else 'sell'} {ev['size']} @ "
                f"{ev['price']:.2f}")
    if t == "PositionChanged":
        return (f"{when}  position flat" if ev["size"] == 0 else
                f"{when}  position {ev['size']:+d} @ {ev['avg_price']:.2f}")
    if t == "RiskStateChanged":
        return (f"{when}  risk {ev['old']} → {ev['new']} ({ev['reason']}), day P&L "
                f"{ev['day_pnl']:+.2f}")
    if t == "Alert":
        return f"{when}  alert [{ev['level']}] {ev['message']}"
    return None


def fresh_journal() -> Path:
    """The demo's journal, emptied for this run: ``$SCALPDESK_HOME/demo/journal.sqlite``.

    The journal restores risk state on start (day P&L, loss streak, a kill's HALTED latch); a
    demo starts from a clean $1,000 account each time, so the last run's journal is removed —
    unless a demo engine still runs on it (a console that detached), which is refused.
    The file stays after the run for `sqlite3` or `scalpdesk ctl` look-ups.
    """
    from console.cli.common import fail
    from core.control.client import ControlClient
    from core.control.paths import socket_path
    from core.profile_files import scalpdesk_home

    sock = run_cli(lambda: socket_path(PROFILE))
    if ControlClient(sock, timeout=2.0).is_running():
        raise fail(f"a demo engine already runs (control socket {sock})",
                   f"attach to it with `scalpdesk attach --socket {sock}`, or stop it with "
                   f"`scalpdesk ctl kill --socket {sock}` and end its process")
    path = scalpdesk_home() / "demo" / "journal.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return path


def run_headless(assets: Any, *, speed: float, minutes: float | None,
                 journal: Path) -> Any:
    """The engine in this process against the simulator; returns the session report."""
    import asyncio

    from core.config import load_profile
    from core.engine.runner import LiveOptions, run_live

    prof = run_cli(lambda: load_profile(PROFILE))
    opts = LiveOptions(profile=prof, model=str(assets.model), journal_path=journal,
                       armed=True, run_for_s=None if minutes is None else minutes * 60.0,
                       shutdown="flatten", sim_speed=speed,
                       sim_overrides={"data": str(assets.replay)})

    narrate = Narrator()

    def out(line: str) -> None:
        text = narrate(line)
        if text is not None:
            _say(text)

    return run_cli(lambda: asyncio.run(run_live(opts, out=out)))


def live_args(assets: Any, *, speed: float, minutes: float | None, journal: Path) -> list[str]:
    """The `scalpdesk live` arguments of the demo's engine (the hosted console starts it;
    it adds ``--headless``, ``--on-exit`` and ``--socket``)."""
    args = ["--profile", PROFILE, "--model", str(assets.model), "--sim-data", str(assets.replay),
            "--speed", f"{speed:g}", "--journal", str(journal), "--armed"]
    if minutes is not None:
        args += ["--run-for", f"{minutes * 60.0:g}"]
    return args


def run_console(assets: Any, *, speed: float, minutes: float | None, journal: Path) -> int:
    """The engine in its own process and the console attached (``console.tui.host``).

    Returns the exit code; a failure to start the engine is exit 2 with its log's tail.
    """
    from console.cli.common import fail
    from console.tui.backtest_run import runner_for
    from console.tui.host import HostError, run_hosted
    from core.config import load_profile
    from core.control.paths import socket_path

    prof = run_cli(lambda: load_profile(PROFILE))
    sock = run_cli(lambda: socket_path(PROFILE))
    try:
        return run_hosted(live_args(assets, speed=speed, minutes=minutes, journal=journal),
                          sock, on_exit="flatten",
                          # `b` backtests the model on the replay's bars (out of sample too)
                          backtest=runner_for(prof, str(assets.model), str(assets.replay)),
                          say=lambda s: err_console.print(s, markup=False, highlight=False))
    except HostError as exc:
        raise fail(exc.message, exc.hint) from None


def demo(
    headless: Annotated[bool, typer.Option(
        "--headless", help="No console: print entries, fills and status lines, then the session "
        "report (works over SSH; control it with `scalpdesk ctl --profile demo`).")] = False,
    minutes: Annotated[float | None, typer.Option(
        "--minutes", min=0.1, help="Stop after this many minutes of wall time (default: until "
        "you quit, or Ctrl-C).")] = None,
    speed: Annotated[float, typer.Option(
        "--speed", min=1.0, max=200.0, help="Replay speed (20: a minute of market every 3 s).")]
        = DEFAULT_SPEED,
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Retrain the cached demo model and regenerate its replay bars.")] = False,
) -> None:
    """Watch the engine paper-trade the local simulator in the console (no network, no key).

    The model is a quick LightGBM trained once on SYNTHETIC MES 1-second bars with a planted
    pattern (cached in ~/.scalpdesk/cache/demo; SCALPDESK_HOME moves it); the simulator replays
    bars from another seed, so every trade is out of sample. The engine runs the demo
    profile's rules ($1,000 account, 60 % confidence floor) in paper mode. Keys: ctrl+k kill,
    f flatten, p pause, ? help, q quit. Each run starts a fresh journal (in a temporary
    ~/.scalpdesk/demo/journal.sqlite), so a kill in one demo does not carry into the next.

    Examples:

    \b
      scalpdesk demo                          the console trading the simulator
      scalpdesk demo --headless --minutes 2   two minutes headless, then the session report
      scalpdesk demo --speed 50 --fresh       retrain the demo model, replay faster

    The step-by-step research walk-through (data → training → backtest → venue check) is
    `scalpdesk tour`.
    """
    _say("scalpdesk demo: paper trading on the local simulator (no network, no account, "
         "no real orders)")
    assets = prepare(fresh)
    journal = fresh_journal()
    if not headless:
        code = run_console(assets, speed=speed, minutes=minutes, journal=journal)
        if code:
            raise typer.Exit(code)
        return
    _say(f"replaying at speed {speed:g}" + ("" if minutes is None else
                                             f" for {minutes:g} minute(s)") + "; Ctrl-C stops "
         "(positions are flattened)")
    report = run_headless(assets, speed=speed, minutes=minutes, journal=journal)
    for line in report.lines():
        _say(line)
