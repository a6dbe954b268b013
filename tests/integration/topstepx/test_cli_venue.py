"""`scalpdesk venue check` against the simulator (run in a background thread), and bad input."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from console.cli.app import app
from tests.integration.topstepx.conftest import SimGateway, make_bars, off_machine, watch_network


@pytest.fixture(scope="module")
def sim_thread() -> Iterator[Any]:
    """A simulator serving from its own thread and loop (the CLI runs its own asyncio.run)."""
    from core.venues.sim.gateway.config import GatewayConfig

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        gw = SimGateway(make_bars(), config=GatewayConfig())

        async def boot() -> None:
            box["urls"] = await gw.start()
            gw.replay.step(40)
            gw.start_feed(speed=120)  # quotes keep coming while the check listens

        loop.run_until_complete(boot())
        box["gw"] = gw
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(20)
    yield box
    fut = asyncio.run_coroutine_threadsafe(box["gw"].stop(), loop)
    fut.result(10)
    loop.call_soon_threadsafe(loop.stop)
    t.join(10)


def _urls(box: dict[str, Any]) -> list[str]:
    u = box["urls"]
    return ["--api-url", u.rest, "--user-hub", u.user_hub, "--market-hub", u.market_hub]


def test_venue_check_bad_key_fails_with_exit_1_and_no_secret(sim_thread: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPSTEPX_USERNAME", "sim")
    monkeypatch.setenv("TOPSTEPX_API_KEY", "not-the-key-123")
    r = CliRunner().invoke(app, ["venue", "check", *_urls(sim_thread), "--seconds", "1"])
    assert r.exit_code == 1
    assert "FAIL" in r.output and "SKIP" in r.output and "not-the-key-123" not in r.output


def test_venue_check_missing_env_var_is_exit_2_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOPSTEPX_USERNAME", raising=False)
    monkeypatch.setenv("TOPSTEPX_API_KEY", "x")
    r = CliRunner().invoke(app, ["venue", "check"])
    assert r.exit_code == 2
    assert "TOPSTEPX_USERNAME" in r.output and "Traceback" not in r.output


def test_venue_check_bad_url_is_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPSTEPX_USERNAME", "u")
    monkeypatch.setenv("TOPSTEPX_API_KEY", "k")
    r = CliRunner().invoke(app, ["venue", "check", "--api-url", "api.topstepx.com"])
    assert r.exit_code == 2 and "api_url" in r.output


def test_venue_check_unreachable_gateway_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPSTEPX_USERNAME", "u")
    monkeypatch.setenv("TOPSTEPX_API_KEY", "k")
    r = CliRunner().invoke(app, ["venue", "check", "--api-url", "http://127.0.0.1:9",
                                 "--user-hub", "http://127.0.0.1:9/hubs/user",
                                 "--market-hub", "http://127.0.0.1:9/hubs/market"])
    assert r.exit_code == 1 and "cannot connect" in r.output and "Traceback" not in r.output


def test_venue_check_takes_urls_and_env_names_from_the_profile(
        sim_thread: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import PROFILES_DIR

    u = sim_thread["urls"]
    text = (PROFILES_DIR / "demo.toml").read_text()
    head, _, _ = text.partition("[venue]")
    prof = tmp_path / "simcheck.toml"
    prof.write_text(head + f'[venue]\nkind = "topstepx"\napi_url = "{u.rest}"\n'
                    f'user_hub_url = "{u.user_hub}"\nmarket_hub_url = "{u.market_hub}"\n'
                    'username_env = "SD_T_USER"\napi_key_env = "SD_T_KEY"\n'
                    'account_name = "50KTC-V2-SIM-1"\n')
    monkeypatch.setenv("SD_T_USER", "sim")
    monkeypatch.delenv("SD_T_KEY", raising=False)
    r = CliRunner().invoke(app, ["venue", "check", "--profile", str(prof), "--seconds", "1"])
    assert r.exit_code == 2 and "SD_T_KEY" in r.output  # the profile's variable is named
    monkeypatch.setenv("SD_T_KEY", "sim-key")
    r = CliRunner().invoke(app, ["--profile", str(prof), "venue", "check", "--seconds", "1"])
    assert r.exit_code == 0, r.output
    for step in ("login", "accounts", "contract", "market hub + quotes", "bars", "user hub"):
        assert step in r.output
    assert "50KTC-V2-SIM-1" in r.output and "sim-key" not in r.output and "FAIL" not in r.output


def test_venue_check_demo_profile_checks_an_in_process_simulator_offline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (issue 9): nothing read venue.kind, so the demo ("sim") profile dialled TopstepX.
    # No credentials in the environment: the TopstepX route would stop at exit 2.
    monkeypatch.delenv("TOPSTEPX_USERNAME", raising=False)
    monkeypatch.delenv("TOPSTEPX_API_KEY", raising=False)
    with watch_network() as seen:
        r = CliRunner().invoke(app, ["venue", "check", "--profile", "demo", "--seconds", "1"])
    assert r.exit_code == 0, r.output
    assert "in-process simulator" in r.output and "127.0.0.1" in r.output
    for step in ("login", "accounts", "contract", "market hub + quotes", "bars", "user hub"):
        assert step in r.output
    assert "FAIL" not in r.output and "WARN" not in r.output and "topstepx.com" not in r.output
    assert seen and not off_machine(seen), off_machine(seen)
