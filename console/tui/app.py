"""The trading console: a client of one engine's control socket, never its host.

``scalpdesk attach`` opens it on an engine that already runs; ``scalpdesk live`` (without
``--headless``) starts the engine in its own process and then opens it (console/tui/host.py).
Quitting or losing the console never takes the engine down.

Rendering (issue 10 item 5): the socket threads of :class:`~console.tui.bridge.EngineBridge`
collect state; a frame timer (≤ 15 fps locally, ~5 over SSH) takes one coalesced snapshot and
applies it inside one ``batch_update``. Panes repaint only when their text changed; the
orders table is updated cell by cell. The engine's heartbeat is shown apart from the
console's own frame rate: an engine whose heartbeats stop shows as FROZEN.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from console.tui.backtest_pane import BacktestPane, BacktestView
from console.tui.bridge import LOG_LINES, EngineBridge, Snapshot
from console.tui.dialogs import HelpScreen, QuitScreen, RearmScreen
from console.tui.panes import (AlertsPane, FeedsPane, ModelPane, PositionsPane, QuotesPane,
                               RiskPane, header_text)

FROZEN_AFTER_S = 3.0      # no engine heartbeat for this long: the engine shows as FROZEN
LOCAL_FPS = 15.0
SSH_FPS = 5.0

#: A backtest runner: called on a worker thread with a progress callback(step, fraction);
#: returns the finished view. Built by console/tui/backtest_run.py.
BacktestRunner = Callable[[Callable[[str, float], None]], BacktestView]


def frame_rate(env: dict[str, str] | None = None) -> float:
    """Frames per second: ~5 over SSH (``SSH_CONNECTION`` set), else 15."""
    env = os.environ if env is None else env
    return SSH_FPS if env.get("SSH_CONNECTION") else LOCAL_FPS


class ConsoleApp(App[str | None]):
    """The trading console attached to one engine's control socket.

    Args:
        socket_path: The engine's control socket.
        poll_s: Seconds between status polls.
        hosted: This console started the engine (quit then asks what to do with it).
        on_exit: The shutdown policy (``flatten`` or ``leave``): the quit dialog's default.
        backtest: Runs the `b` backtest (None: `b` explains how to enable it).
        fps: Frame rate (default: :func:`frame_rate`).
        connect: Start the socket threads (False: tests push state with :meth:`push`).

    The app's return value is the quit answer: ``None`` (attached, or nothing open),
    ``"flatten"``, ``"leave"`` or ``"detach"`` — the host acts on it.
    """

    TITLE = "scalpdesk"
    CSS = """
    #head { dock: top; height: 1; background: $panel; }
    Grid { grid-size: 3 3; grid-rows: 12 16 1fr; grid-columns: 1fr 1fr 1fr; }
    .pane { border: round $accent; padding: 0 1; height: 100%; }
    #positions { padding: 0 1; }
    #position-line { height: 2; }
    #orders { height: 1fr; }
    #log { column-span: 2; border: round $panel; }
    #dialog { width: 84; height: auto; border: thick $warning; background: $surface;
              padding: 1 2; }
    #dialog Button { width: 100%; margin: 1 0 0 0; }
    .buttons { height: auto; }
    .buttons Button { width: 1fr; }
    HelpScreen, RearmScreen, QuitScreen { align: center middle; }
    """
    BINDINGS = [
        Binding("ctrl+k", "kill", "KILL", priority=True),
        Binding("f", "flatten", "flatten"),
        Binding("p", "pause", "pause/resume"),
        Binding("a", "arm", "arm/disarm"),
        Binding("r", "rearm", "re-arm"),
        Binding("b", "backtest", "backtest"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, socket_path: str | Path, *, poll_s: float = 0.5, hosted: bool = False,
                 on_exit: str = "flatten", backtest: BacktestRunner | None = None,
                 fps: float | None = None, connect: bool = True) -> None:
        super().__init__()
        self.bridge = EngineBridge(socket_path, poll_s=poll_s, connect=connect)
        self.socket_path = Path(socket_path)
        self.hosted = hosted
        self.on_exit = on_exit
        self.backtest_runner = backtest
        self.fps = fps or frame_rate()
        self.status: dict[str, Any] = {}
        self.status_error = ""
        self.last_heartbeat: float | None = None
        self.frames = 0
        self.frame_times: list[float] = []       # monotonic time of every applied frame
        self.record_frames = False               # the bench turns this on
        self.quotes_received = 0
        self.quotes_coalesced = 0
        self._fps_seen = 0.0
        self._stream_quote: dict[str, Any] | None = None
        self._head = ""
        self._fps_mark = (time.monotonic(), 0)

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Static("", id="head")
        with Grid():
            yield QuotesPane()
            yield ModelPane()
            yield PositionsPane()
            yield RiskPane()
            yield FeedsPane()
            yield AlertsPane()
            yield BacktestPane()
            yield RichLog(id="log", max_lines=LOG_LINES, wrap=True, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        # The grid: quotes · model · positions / risk · feeds · alerts / backtest · log.
        self.query_one(RichLog).border_title = f"events (last {LOG_LINES:,}; the journal has all)"
        self.query_one(BacktestPane).show()
        self.bridge.start()
        self.set_interval(1.0 / self.fps, self.frame)

    def on_unmount(self) -> None:
        self.bridge.stop()

    # ---------------------------------------------------------------- frames
    def push(self, status: dict[str, Any] | None = None, *events: dict[str, Any]) -> None:
        """Feed state as the socket threads would (tests, snapshots)."""
        if status is not None:
            self.bridge.push_status(status)
        for ev in events:
            self.bridge.push_event(ev)

    def frame(self) -> None:
        """One frame: take the coalesced snapshot and apply it in one batch."""
        snap = self.bridge.take()
        now = time.monotonic()
        if self.record_frames:
            self.frame_times.append(now)
        t0, n0 = self._fps_mark
        self.frames += 1
        if now - t0 >= 1.0:
            self._fps_seen = (self.frames - n0) / (now - t0)
            self._fps_mark = (now, self.frames)
        try:
            with self.batch_update():
                self.apply(snap, now)
        except NoMatches:
            # A last tick of the frame timer while the app shuts down and its panes are
            # already gone (seen in CI at the end of a test): nothing left to draw. With
            # the panes still there it is a real bug.
            if self.query(QuotesPane):
                raise

    def heartbeat_age(self, now: float | None = None) -> float | None:
        """Seconds since the engine's last heartbeat (None before the first)."""
        if self.last_heartbeat is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_heartbeat

    def is_frozen(self, now: float | None = None) -> bool:
        """The engine's heartbeats stopped (it may be alive but stuck)."""
        age = self.heartbeat_age(now)
        return age is not None and age > FROZEN_AFTER_S

    def apply(self, snap: Snapshot, now: float) -> None:
        """Apply one snapshot to the panes (call inside ``batch_update``)."""
        if snap.heartbeat_at is not None:
            self.last_heartbeat = snap.heartbeat_at
        if snap.status_error is not None:
            self.status_error = snap.status_error
        self.quotes_received += snap.quotes_received
        self.quotes_coalesced += snap.quotes_coalesced
        st_changed = snap.status is not None
        if st_changed:
            self.status = snap.status  # type: ignore[assignment]
        st = self.status
        age = self.heartbeat_age(now)
        head = header_text(st, heartbeat_age=age, frozen=self.is_frozen(now),
                           fps=round(self._fps_seen or self.fps), error=self.status_error)
        if head.plain != self._head:
            self._head = head.plain
            self.query_one("#head", Static).update(head)
        if snap.quote is not None or st_changed:
            # A streamed quote carries bid/ask/last/volume; the status adds the session's
            # change: merge, the newest non-missing value winning.
            if snap.quote is not None:
                self._stream_quote = snap.quote
            quote = dict(st.get("quote") or {})
            sq = self._stream_quote
            if sq is not None and (sq.get("ts_ns") or 0) >= (quote.get("ts_ns") or 0):
                quote.update({k: v for k, v in sq.items() if v is not None})
            self.query_one(QuotesPane).show(quote, snap.prices)
        if st_changed or snap.status_error is not None:
            self.query_one(ModelPane).show(st)
            self.query_one(PositionsPane).show(st)
            self.query_one(RiskPane).show(st, self.status_error)
            self.query_one(AlertsPane).show(st)
        if st_changed or snap.quotes_received:
            self.query_one(FeedsPane).show(st, received=self.quotes_received,
                                           coalesced=self.quotes_coalesced)
        if snap.log:
            log = self.query_one(RichLog)
            for line in snap.log:
                log.write(line)

    # ---------------------------------------------------------------- intents
    def _send(self, cmd: str, **args: Any) -> None:
        # Off the UI thread: a flatten waits until the broker says flat.
        threading.Thread(target=self.bridge.send, args=(cmd,), kwargs=args, daemon=True,
                         name=f"console-{cmd}").start()

    def action_kill(self) -> None:
        """Kill: one chord, no dialog, not a toggle (a second press kills again)."""
        self._send("kill")

    def action_flatten(self) -> None:
        """Cancel every working order and close the position."""
        self._send("flatten")

    def action_pause(self) -> None:
        """Pause new entries, or resume them when paused."""
        self._send("resume" if self.status.get("mode") == "PAUSED" else "pause")

    def action_arm(self) -> None:
        """Arm automatic entries, or disarm them when armed."""
        self._send("disarm" if self.status.get("armed") else "arm")

    def action_ack(self) -> None:
        """Acknowledge every alert (unblocks entries after a reconciliation mismatch)."""
        self._send("ack")

    def action_rearm(self) -> None:
        """Ask, then re-arm after a kill (never lifts limit halts; entries stay disarmed)."""
        def answered(yes: bool | None) -> None:
            if yes:
                self._send("rearm")
        self.push_screen(RearmScreen(), answered)

    def action_help(self) -> None:
        """The keys and their `scalpdesk ctl` equivalents."""
        self.push_screen(HelpScreen())

    def action_backtest(self) -> None:
        """Backtest the model on recent data in a worker thread (progress in the pane)."""
        from console.tui.backtest_run import start_backtest

        start_backtest(self)

    def exposure(self) -> str:
        """What the engine holds (empty when flat without working orders)."""
        st = self.status
        pos = st.get("position") or 0
        orders = st.get("orders")
        n = len(orders) if orders is not None else len(st.get("working_orders") or [])
        parts = []
        if pos:
            parts.append(f"{'LONG' if pos > 0 else 'SHORT'} {abs(pos)} @ {st.get('avg_price')}")
        if n:
            parts.append(f"{n} working order{'s' if n != 1 else ''}")
        return ", ".join(parts)

    async def action_quit(self) -> None:
        """Quit. Attached: the engine keeps running. Hosted with exposure: ask what to do."""
        if not self.hosted:
            self.exit(None)
            return
        held = self.exposure()
        if not held:
            self.exit(self.on_exit)            # nothing open: stop it by the policy
            return

        def answered(answer: str | None) -> None:
            if answer is not None:
                self.exit(answer)
        self.push_screen(QuitScreen(held, self.on_exit), answered)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette: every key's action, plus acknowledging alerts."""
        yield SystemCommand("Kill", "Flatten everything and latch HALTED (ctrl+k)",
                            self.action_kill)
        yield SystemCommand("Flatten", "Cancel orders and close the position (f)",
                            self.action_flatten)
        yield SystemCommand("Pause / resume", "Pause or resume new entries (p)",
                            self.action_pause)
        yield SystemCommand("Arm / disarm", "Arm or disarm automatic entries (a)",
                            self.action_arm)
        yield SystemCommand("Re-arm after a kill", "Asks first; never lifts limit halts (r)",
                            self.action_rearm)
        yield SystemCommand("Acknowledge alerts", "Acknowledge every alert (ctl ack)",
                            self.action_ack)
        yield SystemCommand("Backtest", "Backtest the model on recent data (b)",
                            self.action_backtest)
        yield SystemCommand("Help", "The keys (?)", self.action_help)
        yield SystemCommand("Quit", "Quit the console (q)", self.action_quit)
        yield from (c for c in super().get_system_commands(screen)
                    if c.title not in ("Quit",))
