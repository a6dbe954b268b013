"""REST layer rules: envelope → error classes, token bucket, backoff, token renewal timing."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import SimClock
from core.errors import ConfigError, FatalVenueError, NonRetryableVenueError, RetryableVenueError
from core.venues.topstepx import schemas as s
from core.venues.topstepx.auth import TokenManager
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.http import GatewayHttp, TokenBucket, Unauthorized, envelope_error, is_ambiguous
from core.venues.topstepx.realtime import hub_url_with_token

RES = Path(__file__).parent / "resources"


def test_login_failure_is_fatal_and_names_the_code() -> None:
    payload = json.loads((RES / "login_no_subscription.json").read_text())
    exc = envelope_error(s.LOGIN_KEY, payload)
    assert isinstance(exc, FatalVenueError)
    assert "ApiSubscriptionNotFound" in str(exc) and exc.error_code == 9  # type: ignore[attr-defined]


def test_rejected_order_with_an_id_is_still_a_rejection() -> None:
    payload = json.loads((RES / "place_rejected_with_id.json").read_text())
    exc = envelope_error(s.ORDER_PLACE, payload)
    assert isinstance(exc, NonRetryableVenueError) and not is_ambiguous(exc)
    assert "tick size" in str(exc)


@pytest.mark.parametrize("path,code,cls", [
    (s.ORDER_PLACE, 4, FatalVenueError), (s.ORDER_PLACE, 6, RetryableVenueError),
    (s.ORDER_PLACE, 9, NonRetryableVenueError), (s.ORDER_CANCEL, 6, FatalVenueError),
    (s.ORDER_MODIFY, 4, RetryableVenueError), (s.POSITION_CLOSE, 2, NonRetryableVenueError),
    (s.POSITION_PARTIAL_CLOSE, 5, NonRetryableVenueError), (s.VALIDATE, 3, Unauthorized),
    (s.RETRIEVE_BARS, 4, NonRetryableVenueError), (s.ACCOUNT_SEARCH, 42, NonRetryableVenueError),
])
def test_per_endpoint_error_codes(path: str, code: int, cls: type) -> None:
    exc = envelope_error(path, {"success": False, "errorCode": code, "errorMessage": None})
    assert type(exc) is cls or isinstance(exc, cls)
    assert "(no message)" in str(exc)  # errorMessage can be null even on failure


async def test_token_bucket_never_exceeds_its_capacity() -> None:
    b = TokenBucket(5, 60.0)  # 5 per minute: the 6th call would have to wait ~12 s
    for _ in range(5):
        await b.acquire()
    assert b.tokens < 1.0 and b.waits == 0
    b.drain()
    assert b.tokens == 0.0


@given(st.integers(min_value=0, max_value=20), st.floats(min_value=0, max_value=30))
def test_backoff_is_bounded_and_honours_retry_after(attempt: int, retry_after: float) -> None:
    h = GatewayHttp(TopstepXConfig(), rng=random.Random(attempt))
    d = h.backoff_s(attempt, retry_after)
    assert d >= retry_after
    assert d <= max(TopstepXConfig().backoff_max_s, retry_after)


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as exc:
        TopstepXConfig(api_url="api.topstepx.com", bars_limit=50_000, rate_safety=0,
                       tag_prefix="much-too-long")
    assert len(exc.value.problems) == 4


def test_hub_url_carries_the_token_and_a_websocket_scheme() -> None:
    assert hub_url_with_token("https://rtc.topstepx.com/hubs/user", "a.b+c") == \
        "wss://rtc.topstepx.com/hubs/user?access_token=a.b%2Bc"
    assert hub_url_with_token("http://127.0.0.1:9/hubs/market?x=1", "t").startswith(
        "ws://127.0.0.1:9/hubs/market?x=1&access_token=t")


class _FakeHttp:
    """Stands in for the wire in token-timing tests (records calls, issues tokens)."""

    def __init__(self, new_token: bool = True) -> None:
        self.calls: list[str] = []
        self.new_token = new_token
        self.n = 0

    async def post(self, path: str, body: Any, *, token: str | None) -> dict[str, Any]:
        self.calls.append(path)
        self.n += 1
        if path == s.LOGIN_KEY:
            return {"token": f"login-{self.n}"}
        return {"newToken": f"renewed-{self.n}" if self.new_token else None}


async def test_token_renewed_at_expiry_minus_margin_from_the_injected_clock() -> None:
    clock = SimClock(1_000 * 10**9)
    http = _FakeHttp()
    tm = TokenManager(http, TopstepXConfig(token_lifetime_s=3600, refresh_margin_s=600), clock,  # type: ignore[arg-type]
                      username="u", api_key="secret")
    seen: list[str] = []
    tm.listeners.append(seen.append)
    assert await tm.ensure() == "login-1"
    clock.advance_ns(2999 * 10**9)  # 1 s before the refresh time: nothing happens
    assert await tm.ensure() == "login-1" and http.calls == [s.LOGIN_KEY]
    clock.advance_ns(2 * 10**9)
    assert (await tm.ensure()).startswith("renewed") and http.calls[-1] == s.VALIDATE
    assert tm.refreshes == 1 and len(seen) == 2
    assert "secret" not in repr(tm)


async def test_validate_without_new_token_logs_in_again() -> None:
    clock = SimClock(0)
    http = _FakeHttp(new_token=False)
    tm = TokenManager(http, TopstepXConfig(token_lifetime_s=100, refresh_margin_s=600), clock,  # type: ignore[arg-type]
                      username="u", api_key="k")
    await tm.ensure()
    clock.advance_ns(60 * 10**9)  # margin is capped at half the lifetime (50 s)
    await tm.ensure()
    assert http.calls == [s.LOGIN_KEY, s.VALIDATE, s.LOGIN_KEY] and tm.logins == 2
