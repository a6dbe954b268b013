"""REST transport of the gateway: envelope checks, error mapping, rate limits, read retries.

One seam: an ``aiohttp.ClientSession`` (injectable) and the base URL from the config. This
layer never retries a mutation: it raises, marking whether the request may have been applied
(``ambiguous``), and the execution layer reconciles by ``customTag`` before any retry.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import aiohttp

from core.errors import FatalVenueError, NonRetryableVenueError, RetryableVenueError, VenueError
from core.venues.topstepx import schemas as s
from core.venues.topstepx.config import TopstepXConfig


class Unauthorized(RetryableVenueError):
    """HTTP 401 (or a validate code saying the session is gone): log in again, then retry."""


class RateLimited(RetryableVenueError):
    """HTTP 429: the request was not accepted. Back off."""


def _tag(exc: VenueError, path: str, *, status: int | None = None, code: int | None = None,
         ambiguous: bool = False, retry_after: float | None = None) -> VenueError:
    """Attach wire details to a venue error (kept as attributes; the core classes stay small)."""
    exc.path = path  # type: ignore[attr-defined]
    exc.http_status = status  # type: ignore[attr-defined]
    exc.error_code = code  # type: ignore[attr-defined]
    exc.ambiguous = ambiguous  # type: ignore[attr-defined]
    exc.retry_after = retry_after  # type: ignore[attr-defined]
    return exc


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed mutation may nevertheless have been applied at the venue."""
    return bool(getattr(exc, "ambiguous", False))


class TokenBucket:
    """A token bucket refilled continuously (``capacity`` tokens per ``window_s``).

    Uses ``time.monotonic`` (a latency timer, not wall time).
    """

    def __init__(self, capacity: float, window_s: float) -> None:
        self.capacity = max(1.0, float(capacity))
        self.rate = self.capacity / window_s
        self.tokens = self.capacity
        self._t = time.monotonic()
        self._lock = asyncio.Lock()
        self.waits = 0

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._t) * self.rate)
        self._t = now

    async def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        async with self._lock:
            while True:
                self._refill()
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                self.waits += 1
                await asyncio.sleep((1.0 - self.tokens) / self.rate)

    def drain(self) -> None:
        """Empty the bucket (after a 429 the server's view of our rate is what counts)."""
        self._refill()
        self.tokens = 0.0


class GatewayHttp:
    """One REST client per gateway.

    Args:
        config: Client settings (base URL, timeouts, limits).
        session: An ``aiohttp.ClientSession`` to use (the caller keeps ownership); one is
            created on :meth:`start` otherwise.
        rng: Random source for backoff jitter (inject a seeded one in tests).
    """

    def __init__(self, config: TopstepXConfig, *, session: aiohttp.ClientSession | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self._session = session
        self._own_session = session is None
        self._rng = rng or random.Random()
        self.base = config.api_url.rstrip("/") + "/api/"
        self.history_bucket = TokenBucket(config.bars_rate * config.rate_safety, config.bars_window_s)
        self.general_bucket = TokenBucket(config.rate * config.rate_safety, config.window_s)
        self.rate_limited = 0
        self.requests = 0

    async def start(self) -> None:
        """Create the session if none was injected."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.request_timeout_s))

    async def close(self) -> None:
        """Close the session if this client created it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        if self._own_session:
            self._session = None

    def backoff_s(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with full jitter, at least ``Retry-After`` when given."""
        cap = min(self.config.backoff_max_s, self.config.backoff_base_s * (2 ** attempt))
        delay = self._rng.uniform(cap / 2, cap)
        return max(delay, retry_after or 0.0)

    async def ping(self) -> bool:
        """``GET Status/ping``: True on any 2xx."""
        await self.start()
        assert self._session is not None
        try:
            async with self._session.get(self.base + s.PING,
                                         timeout=aiohttp.ClientTimeout(total=5)) as resp:
                return 200 <= resp.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def post(self, path: str, body: dict[str, Any] | None, *, token: str | None) -> dict[str, Any]:
        """One attempt of ``POST /api/<path>``; returns the payload of a successful envelope.

        Raises:
            Unauthorized: 401, or a session-gone code from ``Auth/validate``.
            RateLimited: 429 (not accepted).
            RetryableVenueError: 5xx, timeout or connection failure (``ambiguous`` when the
                request may have reached the server), or a transient ``errorCode``.
            NonRetryableVenueError: 400 or a rejecting ``errorCode``.
            FatalVenueError: An auth/account ``errorCode`` that makes trading impossible.
        """
        await self.start()
        assert self._session is not None
        bucket = self.history_bucket if path in s.HISTORY_PATHS else self.general_bucket
        await bucket.acquire()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token and path not in s.UNAUTHENTICATED:
            headers["Authorization"] = f"Bearer {token}"
        mutation = path in s.MUTATIONS
        self.requests += 1
        try:
            async with self._session.post(self.base + path, data=json.dumps(body or {}),
                                          headers=headers,
                                          timeout=aiohttp.ClientTimeout(
                                              total=self.config.request_timeout_s)) as resp:
                status = resp.status
                text = await resp.text()
                retry_after = resp.headers.get("Retry-After")
        except aiohttp.ClientConnectorError as exc:
            # Never connected: nothing reached the server, not ambiguous.
            raise _tag(RetryableVenueError(f"{path}: cannot connect to {self.base} ({exc})",
                                           hint="check the API URL and the network"), path) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise _tag(RetryableVenueError(
                f"{path}: no answer ({type(exc).__name__}: {exc})".rstrip(": ()"),
                hint="transient network failure; reads are retried, mutations reconciled"),
                path, ambiguous=mutation) from None
        if status == 401:
            raise _tag(Unauthorized(f"{path}: HTTP 401 (token missing or expired)",
                                    hint="log in again"), path, status=401)
        if status == 429:
            self.rate_limited += 1
            bucket.drain()
            ra = None
            try:
                ra = float(retry_after) if retry_after else None
            except ValueError:
                ra = None
            raise _tag(RateLimited(f"{path}: HTTP 429 rate limited", hint="back off and retry"),
                       path, status=429, retry_after=ra)
        if status >= 500:
            raise _tag(RetryableVenueError(f"{path}: HTTP {status} from the gateway",
                                           hint="transient server failure"),
                       path, status=status, ambiguous=mutation)
        if status == 400:
            raise _tag(NonRetryableVenueError(f"{path}: HTTP 400 bad request: {text[:300]}",
                                              hint="a request field is missing or invalid"),
                       path, status=400)
        if status >= 300:
            raise _tag(NonRetryableVenueError(f"{path}: HTTP {status}: {text[:200]}"), path,
                       status=status)
        try:
            payload = json.loads(text) if text else {}
        except json.JSONDecodeError:
            raise _tag(RetryableVenueError(f"{path}: response is not JSON: {text[:120]!r}"), path,
                       status=status, ambiguous=mutation) from None
        if not isinstance(payload, dict):
            raise _tag(NonRetryableVenueError(f"{path}: unexpected response shape"), path)
        if payload.get("success", True) is False or int(payload.get("errorCode") or 0) != 0:
            raise envelope_error(path, payload)
        return payload


def envelope_error(path: str, payload: dict[str, Any]) -> VenueError:
    """The venue error of a ``success:false`` envelope (HTTP 200 business failure)."""
    code = int(payload.get("errorCode") or 0)
    name, klass = s.classify(path, code)
    msg = payload.get("errorMessage") or "(no message)"
    text = f"{path}: {name} (errorCode {code}): {msg}"
    if klass == s.FATAL:
        exc: VenueError = FatalVenueError(text, hint="the account or login cannot trade; "
                                          "check it in TopstepX before continuing")
    elif klass == s.RETRY:
        exc = RetryableVenueError(text, hint="transient; retried after reconciling")
    elif klass == s.RELOGIN:
        exc = Unauthorized(text, hint="log in again")
    else:
        exc = NonRetryableVenueError(text)
    return _tag(exc, path, status=200, code=code)
