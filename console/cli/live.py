"""`scalpdesk live`: run the live engine (its own process), headless or for the console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from console.cli.common import console, err_console, fail, run_cli


def sim_data_overrides(sim_data: Path | None, venue_kind: str, profile: str) -> dict[str, str]:
    """``--sim-data PATH`` as simulator settings; refused (exit 2) when the venue is not the sim.

    Checked here, before the engine starts, so a typo never reaches a half-started session.
    """
    if sim_data is None:
        return {}
    if venue_kind != "sim":
        raise fail(f"--sim-data is for the local simulator, but profile {profile!r} trades "
                   f"venue kind {venue_kind!r}",
                   "drop --sim-data, or use a simulator profile such as --profile demo")
    if not sim_data.exists():
        raise fail(f"--sim-data {sim_data}: no such file or directory",
                   "give a Parquet/CSV bar file or directory, e.g. --sim-data bars.parquet")
    return {"data": str(sim_data)}


def live(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Profile name or TOML file; its [venue] kind picks TopstepX or "
        "the local simulator (default: the global --profile, else demo).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Trained model (name under models/ or a directory). Without it the "
        "engine trades nothing on its own (manual flatten/kill still work).")] = None,
    headless: Annotated[bool, typer.Option(
        "--headless", help="No console: one JSON line per significant event and a status line "
        "every few seconds (for SSH). Control it with `scalpdesk ctl`.")] = False,
    account: Annotated[str | None, typer.Option(
        "--account", help="Account name (default: the profile's, else the first active).")] = None,
    armed: Annotated[bool | None, typer.Option(
        "--armed/--disarmed", help="Automatic entries at start (default: armed on the "
        "simulator, disarmed on live accounts; `scalpdesk ctl arm` later).",
        show_default=False)] = None,
    journal: Annotated[Path | None, typer.Option(
        "--journal", help="Journal file (default: ~/.scalpdesk/journal/PROFILE.sqlite; "
        "SCALPDESK_HOME moves it).")] = None,
    socket: Annotated[Path | None, typer.Option(
        "--socket", help="Control socket path (default: the user's runtime directory, one per "
        "profile).")] = None,
    shutdown: Annotated[str, typer.Option(
        "--on-exit", help="On Ctrl-C / SIGTERM: flatten (cancel orders and close the position) "
        "or leave (positions stay under their brackets).")] = "flatten",
    run_for: Annotated[float | None, typer.Option(
        "--run-for", min=1.0, help="Stop after this many seconds (demos, tests).")] = None,
    speed: Annotated[float, typer.Option(
        min=0.0, help="Simulator replay speed (venue kind sim only).")] = 10.0,
    shadow: Annotated[str | None, typer.Option(
        "--shadow", help="A candidate model that predicts on the same bars without trading; "
        "its predictions are journaled and its hypothetical trades reported at exit.")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        "--metrics-port", min=1, max=65535, help="Serve Prometheus metrics on "
        "127.0.0.1:PORT/metrics.")] = None,
    sim_data: Annotated[Path | None, typer.Option(
        "--sim-data", help="Bars the simulator replays (a Parquet/CSV file or directory; "
        "venue kind sim only). Default: generated noise.")] = None,
) -> None:
    """Run the live engine: quotes → bars → features → model → the risk kernel → orders.

    The engine runs in this process; a console attaches over the control socket and never
    takes it down. Every order is journaled before it is sent; the broker's position wins.

    Examples:
      scalpdesk live --profile demo --model mes_lgbm --headless      (simulator)
      scalpdesk ctl status --profile demo                              (another shell)
      scalpdesk live --profile demo --model M --sim-data bars.parquet --headless --run-for 60
    """
    import asyncio

    from core.config import load_profile
    from core.engine.runner import LiveOptions, run_live

    if shutdown not in ("flatten", "leave"):
        raise fail(f"--on-exit {shutdown!r} is not flatten or leave", "use --on-exit flatten")
    name = profile or getattr(getattr(ctx, "obj", None), "profile", None) or "demo"
    prof = run_cli(lambda: load_profile(name))
    sim_overrides = sim_data_overrides(sim_data, prof.venue.kind, prof.name)
    if not headless:
        _hosted(ctx, prof, name, model=model, shadow=shadow, account=account, armed=armed,
                journal=journal, socket=socket, shutdown=shutdown, run_for=run_for,
                speed=speed, metrics_port=metrics_port, sim_data=sim_data)
        return
    opts = LiveOptions(profile=prof, model=model, account=account, journal_path=journal,
                       socket_path=socket, armed=armed, run_for_s=run_for, shutdown=shutdown,
                       sim_speed=speed, metrics_port=metrics_port, shadow_model=shadow,
                       sim_overrides=sim_overrides)
    report = run_cli(lambda: asyncio.run(run_live(
        opts, out=lambda line: console.print(line, markup=False, highlight=False,
                                             soft_wrap=True))))
    for line in report.lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _hosted(ctx: typer.Context, prof: Any, name: str, *, model: str | None,
            shadow: str | None, account: str | None, armed: bool | None,
            journal: Path | None, socket: Path | None, shutdown: str, run_for: float | None,
            speed: float, metrics_port: int | None, sim_data: Path | None = None) -> None:
    """The engine in its own process, the console attached (console/tui/host.py)."""
    from console.tui.backtest_run import runner_for
    from console.tui.host import HostError, run_hosted
    from core.control.paths import socket_path

    argv = ["--profile", name, "--speed", f"{speed:g}"]
    for flag, value in (("--model", model), ("--shadow", shadow), ("--account", account),
                        ("--journal", journal), ("--run-for", run_for),
                        ("--metrics-port", metrics_port), ("--sim-data", sim_data)):
        if value is not None:
            argv += [flag, str(value)]
    if armed is not None:
        argv.append("--armed" if armed else "--disarmed")
    sock = socket or socket_path(prof.name)
    try:
        code = run_hosted(argv, sock, on_exit=shutdown, backtest=runner_for(prof, model),
                          say=lambda s: err_console.print(s, markup=False, highlight=False))
    except HostError as exc:
        raise fail(exc.message, exc.hint) from None
    if code:
        raise typer.Exit(code)
