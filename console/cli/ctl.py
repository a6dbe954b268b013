"""`scalpdesk ctl …`: control a running engine through its control socket (another shell, SSH)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from console.cli.common import console, err_console, fail, run_cli, say

if TYPE_CHECKING:
    from core.control import ControlClient

app = typer.Typer(
    help=(
        "Control a running engine (`scalpdesk live`) from another shell: status, pause, resume, "
        "flatten, kill, arm, disarm, ack and a live event stream.\n\n"
        "The engine of profile NAME listens on $XDG_RUNTIME_DIR/scalpdesk/NAME.sock "
        "(else ~/.scalpdesk/run/NAME.sock; SCALPDESK_RUN_DIR moves it). Without --profile or "
        "--socket, ctl uses the only engine running.\n\n"
        "Exit code: 0 done, 1 the engine refused the command (its reason is printed), 2 no "
        "running engine or bad input.\n\n"
        "Examples:\n\n\b\n"
        "  scalpdesk ctl status\n"
        "  scalpdesk ctl kill --profile topstep_50k\n"
        "  scalpdesk ctl events --json"
    ),
    no_args_is_help=True,
)

Profile = Annotated[str | None, typer.Option(
    "--profile", "-p", help="Profile name (or TOML file) of the engine (default: the global "
    "--profile, else the only engine running).", show_default=False)]
Socket = Annotated[Path | None, typer.Option(
    "--socket", help="Control socket path, instead of --profile.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print the engine's raw JSON answer.")]


def _profile_name(value: str | Path) -> str:
    text = str(value)
    if text.endswith(".toml") or "/" in text:
        from core.config import load_profile

        return run_cli(lambda: load_profile(text)).name
    return text


def _client(ctx: typer.Context, profile: str | None, socket: Path | None) -> ControlClient:
    """The client of the engine the options (or the run directory) point at."""
    from core.control import ControlClient, list_sockets, profile_of, run_dir, socket_path

    if profile is not None and socket is not None:
        raise fail("give --profile or --socket, not both")
    if socket is not None:
        return ControlClient(socket, profile=profile_of(socket))
    name = profile or getattr(getattr(ctx, "obj", None), "profile", None)
    if name is not None:
        name = _profile_name(name)
        return ControlClient(run_cli(lambda: socket_path(name)), profile=name)
    found = list_sockets()
    live = [p for p in found if ControlClient(p, timeout=2.0).is_running()]
    if len(live) == 1:
        return ControlClient(live[0], profile=profile_of(live[0]))
    if live:
        raise fail("several engines are running: " + ", ".join(profile_of(p) for p in live),
                   "choose one with --profile NAME")
    stale = f" (stale sockets of stopped engines: {', '.join(profile_of(p) for p in found)})" \
        if found else ""
    raise fail(f"no running engine: no live control socket in {run_dir()}{stale}",
               "start one with `scalpdesk live --profile NAME`, or give --socket PATH")


def _call(ctx: typer.Context, profile: str | None, socket: Path | None, cmd: str,
          **args: Any) -> Any:
    from core.control import CommandFailed

    client = _client(ctx, profile, socket)

    def go() -> Any:
        try:
            return client.call(cmd, **args)
        except CommandFailed as exc:             # the engine's refusal: its words, exit 1
            say(f"error: {exc.message}" + (f"\n  fix: {exc.hint}" if exc.hint else ""),
                stderr=True)
            raise typer.Exit(1) from None

    return run_cli(go)                           # no engine, timeouts: exit 2


def _print_json(obj: Any) -> None:
    console.print(json.dumps(obj, indent=2, default=str), markup=False, highlight=False,
                  soft_wrap=True)


@app.command("status")
def status(ctx: typer.Context, profile: Profile = None, socket: Socket = None,
           as_json: Json = False) -> None:
    """Show the engine's state: risk mode, armed, position, P&L, alerts, working orders.

    Examples:

    \b
      scalpdesk ctl status
      scalpdesk ctl status --profile demo --json
    """
    st = _call(ctx, profile, socket, "status")
    if as_json:
        _print_json(st)
    else:
        _status_table(st)


def _action(name: str, done: str, summary: str) -> Any:
    def command(ctx: typer.Context, profile: Profile = None, socket: Socket = None,
                as_json: Json = False) -> None:
        st = _call(ctx, profile, socket, name)
        if as_json:
            _print_json(st)
        # An engine may decline without an error (arm after a kill stays disarmed): say so.
        if name == "arm" and isinstance(st, dict) and not st.get("armed", True):
            fix = ("the engine was killed: `scalpdesk ctl rearm` first, then `scalpdesk ctl arm`"
                   if st.get("killed") else "see `scalpdesk ctl status` and its alerts")
            say(f"error: the engine did not arm: {_one_line(st)}\n  fix: {fix}", stderr=True)
            raise typer.Exit(1)
        if not as_json:
            say(f"{done}: {_one_line(st)}")
    command.__doc__ = (f"{summary}\n\nExamples:\n\n\b\n  scalpdesk ctl {name}\n"
                       f"  scalpdesk ctl {name} --profile demo --json\n")
    command.__name__ = name
    return app.command(name)(command)


_action("pause", "paused", "Stop new entries until `ctl resume` (positions keep their stops).")
_action("resume", "resumed", "Lift an operator pause (a limit pause keeps its own end time).")
_action("flatten", "flatten done", "Cancel every working order and close the position, verified "
        "flat at the broker (entries stay allowed).")
_action("kill", "killed", "Flatten and latch HALTED: no new entry until `ctl rearm`, then `ctl "
        "arm`.")
_action("rearm", "re-armed", "Lift an operator kill (never a limit halt); entries stay disarmed "
        "until `ctl arm`.")
_action("arm", "armed", "Allow automatic entries (refused after a kill until `ctl rearm`).")
_action("disarm", "disarmed", "Stop automatic entries; exits, stops and flattening still run.")


@app.command("ack")
def ack(ctx: typer.Context,
        alert_id: Annotated[str | None, typer.Argument(
            help="Alert to acknowledge (default: all of them).", show_default=False)] = None,
        profile: Profile = None, socket: Socket = None, as_json: Json = False) -> None:
    """Acknowledge an alert (or all): entries blocked by a reconciliation resume.

    Examples:

    \b
      scalpdesk ctl ack
      scalpdesk ctl ack recon-1 --profile demo
    """
    st = _call(ctx, profile, socket, "ack", alert_id=alert_id)
    if as_json:
        _print_json(st)
    else:
        say(f"acknowledged {alert_id or 'all alerts'}: {_one_line(st)}")


@app.command("stop")
def stop(ctx: typer.Context,
         on_exit: Annotated[str | None, typer.Option(
             "--on-exit", help="flatten (cancel orders, close the position, verified) or leave "
             "(positions stay under their brackets); default the engine's shutdown policy.",
             show_default=False)] = None,
         profile: Profile = None, socket: Socket = None, as_json: Json = False) -> None:
    """Stop the engine: it applies the shutdown policy, writes its session report and exits.

    Examples:

    \b
      scalpdesk ctl stop --on-exit flatten
      scalpdesk ctl stop --on-exit leave --profile demo
    """
    if on_exit not in (None, "flatten", "leave"):
        say(f"error: --on-exit {on_exit!r} is not flatten or leave\n  fix: use --on-exit "
            "flatten or --on-exit leave", stderr=True)
        raise typer.Exit(2)
    st = _call(ctx, profile, socket, "stop", **({} if on_exit is None else {"on_exit": on_exit}))
    if as_json:
        _print_json(st)
    else:
        say(f"stopping ({st.get('on_exit')}): {_one_line(st)}")


@app.command("events")
def events(ctx: typer.Context, profile: Profile = None, socket: Socket = None,
           as_json: Json = False,
           quotes: Annotated[bool, typer.Option(
               "--quotes", help="Also print quotes (many per second; always in --json).")] = False,
           ) -> None:
    """Follow the engine's events as they happen (Ctrl-C to stop; the engine is unaffected).

    One line per event; --json prints each as the engine sent it (one JSON object a line).

    Examples:

    \b
      scalpdesk ctl events
      scalpdesk ctl events --json --profile demo | jq .
    """
    client = _client(ctx, profile, socket)

    def follow() -> None:
        try:
            for ev in client.stream_events(raw=True):   # connects on the first step
                if as_json:
                    console.print(json.dumps(ev, separators=(",", ":")), markup=False,
                                  highlight=False, soft_wrap=True)
                elif quotes or ev.get("type") != "QuoteUpdated":
                    console.print(_event_line(ev), markup=False, highlight=False,
                                  soft_wrap=True)
        except KeyboardInterrupt:
            raise typer.Exit(0) from None
        err_console.print("the engine closed the stream (it stopped)", highlight=False)

    run_cli(follow)


# ------------------------------------------------------------------------------ formatting
def _yes(v: Any) -> str:
    return "yes" if v else "no"


def _money(v: Any) -> str:
    from core.money import money

    return money(v) if isinstance(v, (int, float)) else "–"


def _position(st: dict[str, Any]) -> str:
    pos = st.get("position")
    if not pos:
        return "flat"
    side = "long" if pos > 0 else "short"
    return f"{side} {abs(pos)} @ {st.get('avg_price', 0):.2f}"


def _one_line(st: dict[str, Any]) -> str:
    parts = [f"mode {st.get('mode', '?')}", f"armed {_yes(st.get('armed'))}", _position(st)]
    if st.get("entries_blocked"):
        parts.append(f"entries blocked ({st['entries_blocked']})")
    return ", ".join(parts)


def _status_table(st: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    mode = str(st.get("mode", "?")) + (f" ({st['reason']})" if st.get("reason") else "")
    rows = [("mode", mode), ("armed", _yes(st.get("armed"))),
            ("killed", _yes(st.get("killed"))), ("position", _position(st))]
    if st.get("last_price") is not None:
        rows.append(("last price", f"{st['last_price']:.2f}"))
    for key, label in (("open_pnl", "open P&L"), ("day_pnl", "day P&L"), ("balance", "balance"),
                       ("mll_level", "MLL level")):
        if st.get(key) is not None:
            rows.append((label, _money(st[key])))
    if isinstance(st.get("feeds"), dict):
        rows.append(("feeds", ", ".join(f"{k} {v}" for k, v in st["feeds"].items())
                     + (f" (entries blocked: {st['feed_block']})" if st.get("feed_block") else "")))
    if isinstance(st.get("reconciled_ns"), int):
        rows.append(("reconciled", _hms(st["reconciled_ns"]) + " UTC"))
    if st.get("entries_blocked"):
        rows.append(("entries", f"blocked: {st['entries_blocked']} (`scalpdesk ctl ack`)"))
    alerts = st.get("alerts") or []
    rows.append(("alerts", ", ".join(
        f"{a.get('alert_id')}{' (needs ack)' if a.get('needs_ack') else ''}"
        for a in alerts) or "none"))
    rows.append(("working", ", ".join(map(str, st.get("working_orders") or [])) or "none"))
    if "bars" in st or "trades" in st:
        rows.append(("bars / trades", f"{st.get('bars', 0)} / {st.get('trades', 0)}"))
    ctl = st.get("control") or {}
    dropped = sum((ctl.get("dropped") or {}).values())
    if ctl:
        rows.append(("subscribers", f"{ctl.get('subscribers', 0)}"
                     + (f" ({dropped} events dropped for slow readers)" if dropped else "")))
    for k, v in rows:
        t.add_row(k, v)
    console.print(t, markup=False, highlight=False)
    for a in alerts:
        say(f"{a.get('level', 'warning')}: {a.get('message', '')} [{a.get('alert_id')}]")


def _hms(ts_ns: Any) -> str:
    if not isinstance(ts_ns, int):
        return "--:--:--.---"
    t = datetime.fromtimestamp(ts_ns / 1e9, tz=timezone.utc)
    return t.strftime("%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


_SKIP = {"type", "ts_ns"}


def _event_line(ev: dict[str, Any]) -> str:
    body = " ".join(f"{k}={v}" for k, v in ev.items() if k not in _SKIP and v not in (None, ""))
    return f"{_hms(ev.get('ts_ns'))}Z  {ev.get('type', '?'):<17} {body}"
