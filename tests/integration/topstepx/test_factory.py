"""open_venue: a profile's venue.kind picks TopstepX or a local simulator (issue 9).

Every simulator here is real and on loopback; no test dials the internet (the in-process case
records every socket connect and DNS lookup to prove it).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from typing import Any

import pytest

from core.config import load_profile
from core.domain import OrderType, PositionType, Side
from core.errors import ConfigError
from core.venues.base import OrderRequest, Venue
from core.venues.factory import is_loopback_url, open_venue
from core.venues.sim.launch import SimSettings
from core.venues.topstepx.venue import TopstepXVenue
from tests.integration.topstepx.conftest import FAST, off_machine, wait_for, watch_network


def _profile(**venue: Any) -> Any:
    prof = load_profile("demo")
    return replace(prof, venue=replace(prof.venue, **venue))


def test_the_demo_profile_is_a_sim_profile() -> None:
    assert load_profile("demo").venue.kind == "sim"


async def test_topstepx_kind_names_missing_variables_never_their_values() -> None:
    prof = _profile(kind="topstepx", username_env="SD_F_USER", api_key_env="SD_F_KEY")
    with pytest.raises(ConfigError) as info:
        await open_venue(prof, env={"SD_F_USER": "someone-secret-name"})
    assert "SD_F_KEY" in str(info.value) and "someone-secret-name" not in str(info.value)
    with pytest.raises(ConfigError, match="SD_F_USER and SD_F_KEY"):
        await open_venue(prof, env={})


async def test_topstepx_kind_uses_the_profile_urls_and_credentials() -> None:
    prof = _profile(kind="topstepx", api_url="https://gw.example.test",
                    user_hub_url="https://rtc.example.test/hubs/user",
                    market_hub_url="https://rtc.example.test/hubs/market")
    v = await open_venue(prof, env={"TOPSTEPX_USERNAME": "u", "TOPSTEPX_API_KEY": "k"},
                         config_overrides={"request_timeout_s": 3.0, "api_url": None})
    try:
        assert isinstance(v, TopstepXVenue) and isinstance(v, Venue)
        assert v.config.api_url == "https://gw.example.test"
        assert v.config.market_hub_url.endswith("/hubs/market") and v.config.request_timeout_s == 3.0
    finally:
        await v.close()  # never connected: nothing was dialled


async def test_unknown_kind_and_remote_sim_urls_are_refused() -> None:
    with pytest.raises(ConfigError, match="venue kind"):
        await open_venue(_profile(), kind="ib")
    with pytest.raises(ConfigError, match="loopback"):
        await open_venue(_profile(api_url="http://10.1.2.3:8000"))
    with pytest.raises(ConfigError, match="not on this machine"):
        await open_venue(_profile(), sim_url="http://sim.example.test:8000")


async def test_sim_kind_at_a_running_simulator_needs_no_credentials(sim: Any) -> None:
    v = await open_venue(_profile(), sim_url=sim.urls.rest, env={}, config_overrides=FAST,
                         market_open=lambda: True)
    try:
        await v.connect()
        assert [a.name for a in await v.accounts()] == ["50KTC-V2-SIM-1"]
        assert v.config.user_hub_url == sim.urls.user_hub  # type: ignore[attr-defined]
    finally:
        await v.close()
    # Someone else's simulator: closing the venue leaves it running.
    _, writer = await asyncio.open_connection("127.0.0.1", int(sim.urls.rest.rsplit(":", 1)[1]))
    writer.close()


async def test_sim_kind_takes_a_loopback_url_from_the_profile(sim: Any) -> None:
    prof = _profile(api_url=sim.urls.rest, user_hub_url=sim.urls.user_hub,
                    market_hub_url=sim.urls.market_hub)
    v = await open_venue(prof, env={}, config_overrides=FAST, market_open=lambda: True)
    try:
        await v.connect(hubs=False)
        assert (await v.active_contract("F.US.MES")).id == sim.contract.id
    finally:
        await v.close()


async def test_sim_kind_starts_an_in_process_simulator_and_stops_it_on_close() -> None:
    with watch_network() as seen:
        v = await open_venue(_profile(), env={}, sim=SimSettings(days=2, serve_history=True,
                                                                speed=20.0),
                             config_overrides=FAST)
        port = int(v.config.api_url.rsplit(":", 1)[1])  # type: ignore[attr-defined]
        assert is_loopback_url(v.config.api_url)  # type: ignore[attr-defined]
        try:
            await v.connect()
            acc = (await v.accounts())[0]
            await v.watch_account(acc.id)
            mes = await v.active_contract("F.US.MES")
            assert await v.bars(mes.id, 0, 2**62, bar_seconds=60)  # the first session is history
            await v.subscribe_quotes(mes.id)
            await wait_for(lambda: v.last_quote(mes.id) is not None, what="a quote")  # type: ignore[attr-defined]
            res = await v.place_order(OrderRequest(acc.id, mes.id, Side.BUY, OrderType.MARKET, 1))
            assert res.order_id > 0
            assert [(p.type, p.size) for p in await v.positions(acc.id)] == [(PositionType.LONG, 1)]
        finally:
            await v.close()
    assert seen and not off_machine(seen), off_machine(seen)
    with pytest.raises(OSError):  # the simulator went away with the venue
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
