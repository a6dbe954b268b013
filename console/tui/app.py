"""The console: attach to a running engine's control socket, show its state, stop it with a key.

A CLIENT of the engine (``scalpdesk live`` runs the engine in its own process): quitting the
console or losing it never takes the engine down. Widgets only render state pushed to them;
two background threads talk to the socket — one polls ``status`` twice a second, one follows
the event stream — and hand results to the app with ``call_from_thread``. The engine's own
heartbeat (its ``Heartbeat`` events) is shown apart from the console's: an engine that stops
sending them shows as FROZEN.

Keys: ``ctrl+k`` kill (one chord, no dialog, not a toggle), ``f`` flatten, ``p`` pause/resume,
``a`` arm/disarm, ``?`` help, ``q`` quit (the engine keeps running under its brackets).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Footer, Header, RichLog, Static

FROZEN_AFTER_S = 3.0      # no engine heartbeat for this long: the engine shows as FROZEN
LOG_LINES = 2000          # the journal keeps the rest


def _money(x: Any) -> str:
    if x is None:
        return "–"
    x = float(x)
    return f"{'−' if x < 0 else ''}${abs(x):,.2f}"


class ConsoleApp(App[None]):
    """The trading console attached to one engine's control socket."""

    TITLE = "scalpdesk"
    CSS = """
    Grid { grid-size: 3 2; grid-rows: 9 1fr; }
    Static.pane { border: round $accent; padding: 0 1; }
    #log { column-span: 3; border: round $panel; }
    """
    BINDINGS = [
        Binding("ctrl+k", "kill", "KILL", priority=True),
        Binding("f", "flatten", "flatten"),
        Binding("p", "pause", "pause/resume"),
        Binding("a", "arm", "arm/disarm"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit (engine keeps running)"),
    ]

    def __init__(self, socket_path: str | Path, *, poll_s: float = 0.5) -> None:
        super().__init__()
        from core.control.client import ControlClient

        self.socket_path = Path(socket_path)
        self.client = ControlClient(self.socket_path, timeout=5.0)
        self.poll_s = poll_s
        self.status: dict[str, Any] = {}
        self.last_heartbeat: float | None = None
        self.engine_error = ""
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        with Grid():
            yield Static("connecting…", id="risk", classes="pane")
            yield Static("", id="position", classes="pane")
            yield Static("", id="feeds", classes="pane")
            yield RichLog(id="log", max_lines=LOG_LINES, wrap=True, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.socket_path)
        threading.Thread(target=self._poll, daemon=True, name="console-status").start()
        threading.Thread(target=self._follow, daemon=True, name="console-events").start()
        self.set_interval(0.5, self._render_heartbeat)

    def on_unmount(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------------ socket threads
    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                st = self.client.call("status")
                self.call_from_thread(self.show_status, st, "")
            except Exception as exc:  # noqa: BLE001 - shown, then retried
                self.call_from_thread(self.show_status, self.status, str(exc))
            self._stop.wait(self.poll_s)

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                for ev in self.client.stream_events(raw=True):
                    if self._stop.is_set():
                        return
                    self.call_from_thread(self.on_engine_event, ev)
            except Exception as exc:  # noqa: BLE001 - the engine may be restarting
                self.call_from_thread(self.log_line, f"event stream lost: {exc}")
            self._stop.wait(1.0)

    # ------------------------------------------------------------------ rendering
    def show_status(self, st: dict[str, Any], error: str) -> None:
        """Render a status answer (or the error of the last attempt)."""
        self.status, self.engine_error = st or {}, error
        s = self.status
        mode = s.get("mode", "?")
        risk = [f"[b]{mode}[/b]  {s.get('reason', '')}",
                f"armed {'yes' if s.get('armed') else 'no'}"
                f"{'  KILLED' if s.get('killed') else ''}",
                f"balance {_money(s.get('balance'))}   day {_money(s.get('day_pnl'))}",
                f"MLL headroom {_money(s.get('mll_headroom'))}"]
        if s.get("entries_blocked"):
            risk.append(f"[red]entries blocked: {s['entries_blocked']}[/red]")
        if error:
            risk.append(f"[red]engine unreachable: {error}[/red]")
        self.query_one("#risk", Static).update("\n".join(risk))
        pos = s.get("position", 0) or 0
        self.query_one("#position", Static).update("\n".join([
            f"position {'flat' if not pos else pos} @ {s.get('avg_price') or '–'}",
            f"last {s.get('last_price', '–')}   open {_money(s.get('open_pnl'))}",
            f"working {', '.join(s.get('working_orders', [])) or 'none'}",
            f"bars {s.get('bars', '–')}   trades {s.get('trades', '–')}"]))
        alerts = s.get("alerts") or []
        feeds = s.get("feeds") or {}
        self.query_one("#feeds", Static).update("\n".join(
            [f"feeds {', '.join(f'{k} {v}' for k, v in feeds.items()) or '–'}"]
            + [f"[yellow]{a.get('level')}: {a.get('message')}[/yellow]" for a in alerts[:4]]))

    def on_engine_event(self, ev: dict[str, Any]) -> None:
        """One event from the engine's stream."""
        t = ev.get("type")
        if t == "Heartbeat":
            self.last_heartbeat = time.monotonic()
            return
        if t in ("QuoteUpdated", "BarClosed", "PredictionMade"):
            return
        if t == "SignalDecided" and ev.get("action") == "none":
            return
        self.log_line(f"{t}: " + ", ".join(f"{k}={v}" for k, v in ev.items()
                                          if k not in ("type", "ts_ns")))

    def log_line(self, text: str) -> None:
        """Append one line to the event log (capped; the journal has everything)."""
        self.query_one("#log", RichLog).write(text)

    def _render_heartbeat(self) -> None:
        if self.last_heartbeat is None:
            state = "engine: waiting for its heartbeat"
        else:
            age = time.monotonic() - self.last_heartbeat
            state = (f"engine FROZEN ({age:.0f} s without a heartbeat)" if age > FROZEN_AFTER_S
                     else f"engine alive ({age:.1f} s)")
        mode = self.status.get("mode", "?")
        self.title = f"scalpdesk · {mode} · {state}"

    # ------------------------------------------------------------------ intents
    def _send(self, cmd: str) -> None:
        def go() -> None:
            try:
                st = self.client.call(cmd)
                self.call_from_thread(self.show_status, st, "")
                self.call_from_thread(self.log_line, f"→ {cmd}: done")
            except Exception as exc:  # noqa: BLE001 - the operator must see why
                self.call_from_thread(self.log_line, f"→ {cmd} FAILED: {exc}")
        threading.Thread(target=go, daemon=True, name=f"console-{cmd}").start()

    def action_kill(self) -> None:
        """Kill: one chord, no dialog, not a toggle."""
        self._send("kill")

    def action_flatten(self) -> None:
        self._send("flatten")

    def action_pause(self) -> None:
        self._send("resume" if self.status.get("mode") == "PAUSED" else "pause")

    def action_arm(self) -> None:
        self._send("disarm" if self.status.get("armed") else "arm")

    def action_help(self) -> None:
        self.log_line("keys: ctrl+k kill (no dialog) · f flatten · p pause/resume · "
                      "a arm/disarm · q quit (the engine keeps running) · the same as "
                      "`scalpdesk ctl kill|flatten|pause|resume|arm|disarm`")
