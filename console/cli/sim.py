"""`scalpdesk sim …`: run the local ProjectX-compatible gateway simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.cli.common import console, err_console, fail, run_cli
from core.datasets.bars import BAR_CHOICES
from core.money import money

app = typer.Typer(
    help=(
        "Run the local ProjectX-compatible gateway simulator (REST + SignalR hubs on loopback).\n\n"
        "The unchanged TopstepX client talks to it exactly as to TopstepX: point the venue URLs "
        "at the printed addresses and log in with user `sim`, key `sim-key`."
    ),
    no_args_is_help=True,
)

_FAULTS_HELP = (
    "Fault schedule, comma-separated KIND:ARGS (seconds after start): drop:T (drop hub "
    "connections), close:T (SignalR close), logout:T (GatewayLogout), stall:T[:D] / "
    "userstall:T[:D] (silent stall D s), 429:T[:D] (429 storm), 5xx:P, delay:MS, dup:P, "
    "reorder:P, loss:P, timeout:N (next N orders accepted but answered late), wrapped "
    "(user events as [{action,data}]). Example: drop:30,stall:60:20,dup:0.01")


@app.command("run")
def run(
    data: Annotated[str | None, typer.Option(
        "--data", "-d", help="Bars to replay: a file or directory (Parquet, CSV, DBN, TopstepX "
        "JSON), or a catalog symbol such as MES (see --bar). Default: generated MES RTH data.")] = None,
    bar: Annotated[str | None, typer.Option(
        "--bar", metavar=BAR_CHOICES, help="Bar size of catalog data. Default: the only size "
        "the catalog holds; a file's own size is always used.")] = None,
    speed: Annotated[float, typer.Option(
        min=0.0, help="Replay speed: 1 = real time, 10 = ten times faster, 0 = as fast as possible.")] = 10.0,
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0 = any free port).")] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on (keep it on loopback).")] = "127.0.0.1",
    faults: Annotated[str | None, typer.Option("--faults", help=_FAULTS_HELP)] = None,
    symbol: Annotated[str, typer.Option(help="Instrument root the simulator lists (MES, ES, MNQ, NQ).")] = "MES",
    start: Annotated[str | None, typer.Option(help="Replay from this UTC date/time (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Replay until this UTC date/time (exclusive).")] = None,
    days: Annotated[int, typer.Option(min=1, max=60, help="Days of generated data when --data is not given.")] = 1,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the generated data and of the fault dice.")] = 0,
    account_size: Annotated[int, typer.Option(
        min=50_000, max=150_000,
        help="Trading Combine size: 50000, 100000 or 150000 (sets balance, MLL, contract cap).")] = 50_000,
    bracket_mode: Annotated[str, typer.Option(
        help="Account bracket setting: auto_oco (native brackets accepted) or position "
        "(TopstepX's default: orders with brackets are rejected).")] = "auto_oco",
    partial_fills: Annotated[int | None, typer.Option(
        min=1, help="Fill at most N contracts per order per quote/print (default: all at once).")] = None,
    dll: Annotated[float | None, typer.Option(
        min=0.0, help="Optional Topstep Daily Loss Limit in dollars (e.g. 1000): hitting it "
        "flattens and locks the account until 17:00 CT. Default: none.")] = None,
    wall_clock: Annotated[bool, typer.Option(
        "--wall-clock", help="Paper trading in real time: shift the bars by whole weeks (same "
        "weekday and exchange time) so the market clock equals wall time, serve the bars before "
        "now as history, replay at speed 1 and wait through nights and weekends.")] = False,
) -> None:
    """Serve the simulator until Ctrl-C, printing its URLs and how to connect.

    Bars become quotes and trades: O→L→H→C for up bars, O→H→L→C for down bars, quotes one tick wide.

    Orders match like the gateway: market, limit, stop, trailing, join, native OCO brackets.

    Topstep rules apply: the Maximum Loss Limit, flat by 15:10 CT, the contract cap.

    Examples:

    \b
      scalpdesk sim run                        # generated MES bars
      scalpdesk sim run --data MES --speed 10  # the catalog's MES bars
      scalpdesk sim run --data mes.parquet --faults drop:30,stall:60:20
    """
    import asyncio

    from console.cli.common import progress_task
    from core.venues.sim.launch import SimSettings, load_sim_bars

    settings = SimSettings(data=data, bar=bar, symbol=symbol, start=start, end=end, days=days,
                           seed=seed, speed=speed, wall_clock=wall_clock,
                           account_size=account_size, bracket_mode=bracket_mode,
                           partial_fills=partial_fills, daily_loss_limit=dll, faults=faults,
                           host=host, port=port)
    items = run_cli(settings.check)
    if data is not None and ":" in data and not Path(data).exists():
        root, _, label = data.partition(":")
        err_console.print(f"note: --data {data} is the old spelling of --data {root} --bar {label}",
                          highlight=False)
    now_ns = None
    if wall_clock:
        from core.clock import LiveClock

        now_ns = LiveClock().now_ns()
    with progress_task("loading bars", total=1.0) as advance:
        bars = run_cli(lambda: load_sim_bars(settings, now_ns=now_ns, progress=advance))
    for note in bars.notes:
        err_console.print(f"note: {note}", highlight=False)
    try:
        asyncio.run(_serve(settings, bars, items))
    except KeyboardInterrupt:
        err_console.print("simulator stopped")
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                   "pick another --port, or 0 for any free port") from None


async def _serve(settings, bars, items: list) -> None:  # noqa: ANN001 - core types, imported lazily
    import asyncio
    import signal

    from core.venues.sim.launch import start_simulator

    sim = await start_simulator(settings, bars=bars, log=err_console.print)
    gw, urls = sim.gateway, sim.urls
    acct = next(iter(gw.engine.accounts.values()))
    user, key = sim.credentials
    say = lambda text: console.print(text, soft_wrap=True, highlight=False)  # noqa: E731
    say(f"[bold]scalpdesk gateway simulator[/] — replaying {bars.what}, "
        f"{len(bars.frame):,} bars at speed {bars.speed:g}")
    say(f"  REST        {urls.rest}")
    say(f"  user hub    {urls.user_hub}")
    say(f"  market hub  {urls.market_hub}")
    say(f"  admin       {urls.admin}/state · POST {urls.admin}/faults · /feed · /blast")
    say(f"  contract    {gw.contract.id} (symbolId {gw.contract.symbol_id})")
    say(f"  account     {acct.name} (id {acct.id}), balance {money(acct.balance)}, "
        f"brackets {settings.bracket_mode}")
    say(f"  login       export TOPSTEPX_USERNAME={user} TOPSTEPX_API_KEY={key}")
    say(f"  check       scalpdesk venue check --api-url {urls.rest} "
        f"--user-hub {urls.user_hub} --market-hub {urls.market_hub}")
    if items:
        say(f"  faults      {', '.join(f'{i.kind}' for i in items)}")
    say("Ctrl-C to stop.")
    stop = asyncio.Event()
    try:  # SIGTERM (a supervisor, `kill`) stops as cleanly as Ctrl-C
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError):
        pass

    async def feed_then_note() -> None:
        await gw.wait_feed()
        err_console.print("replay finished; the server stays up (Ctrl-C to stop)")

    note = asyncio.create_task(feed_then_note())
    try:
        await stop.wait()
        err_console.print("simulator stopped")
    finally:
        note.cancel()
        await sim.stop()
