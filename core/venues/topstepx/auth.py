"""API-key login and token renewal (``Auth/loginKey``, ``Auth/validate``).

The token's expiry is read from the JWT ``exp`` claim when present (the docs say 24 h; other
claims exist, so we never assume). Time comes from the injected :class:`core.clock.Clock`.
Renewal never goes through the code path that itself ensures a token, so it cannot deadlock.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

from core.clock import Clock
from core.errors import FatalVenueError
from core.venues.topstepx import schemas as s
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.http import GatewayHttp, Unauthorized

_NS = 1_000_000_000


def jwt_exp_ns(token: str) -> int | None:
    """The ``exp`` claim of a JWT in UTC ns, or ``None`` if the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) < 2:
        return None
    try:
        raw = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(raw.encode()))
        exp = claims.get("exp")
        return int(float(exp) * _NS) if exp is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


class TokenManager:
    """Holds the session token and renews it before expiry.

    Args:
        http: The REST transport.
        config: Client settings (lifetime fallback, refresh margin).
        clock: Source of "now".
        username: TopstepX user name.
        api_key: API key (kept in memory only; never logged).
    """

    def __init__(self, http: GatewayHttp, config: TopstepXConfig, clock: Clock, *, username: str,
                 api_key: str) -> None:
        self._http = http
        self._config = config
        self._clock = clock
        self._username = username
        self._api_key = api_key
        self._lock = asyncio.Lock()
        self.token: str | None = None
        self.expires_ns: int | None = None
        self.refresh_at_ns: int | None = None
        self.logins = 0
        self.refreshes = 0
        self.revision = 0  #: bumps on every new token (hubs rebuild when it changes)
        self.listeners: list[Callable[[str], None]] = []

    def __repr__(self) -> str:  # never show the secret or the token
        return f"TokenManager(user={self._username!r}, logins={self.logins})"

    def _adopt(self, token: str) -> None:
        now = self._clock.now_ns()
        exp = jwt_exp_ns(token) or now + int(self._config.token_lifetime_s * _NS)
        lifetime = max(exp - now, 0)
        margin = min(int(self._config.refresh_margin_s * _NS), lifetime // 2)
        self.token = token
        self.expires_ns = exp
        self.refresh_at_ns = exp - margin
        self.revision += 1
        for fn in list(self.listeners):
            fn(token)

    async def login(self) -> str:
        """Log in with the API key and return the new token.

        Raises:
            FatalVenueError: Credentials/subscription problems (errorCode 1–7, 9, 10).
            RetryableVenueError: Network trouble or errorCode 8.
        """
        async with self._lock:
            return await self._login_locked()

    async def _login_locked(self) -> str:
        payload = await self._http.post(s.LOGIN_KEY, {"userName": self._username,
                                                      "apiKey": self._api_key}, token=None)
        token = payload.get("token")
        if not token:
            raise FatalVenueError("Auth/loginKey: success without a token",
                                  hint="the gateway answered oddly; try again later")
        self.logins += 1
        self._adopt(str(token))
        return str(token)

    async def ensure(self) -> str:
        """A valid token: logs in the first time, renews when the refresh time has come."""
        if self.token is not None and self.refresh_at_ns is not None \
                and self._clock.now_ns() < self.refresh_at_ns:
            return self.token
        async with self._lock:
            if self.token is None:
                return await self._login_locked()
            assert self.refresh_at_ns is not None
            if self._clock.now_ns() >= self.refresh_at_ns:
                await self._refresh_locked()
            return self.token  # type: ignore[return-value]

    async def relogin(self, seen_revision: int | None = None) -> str:
        """Log in again (after 401 / GatewayLogout) unless another task already did."""
        async with self._lock:
            if seen_revision is not None and self.revision != seen_revision and self.token:
                return self.token
            return await self._login_locked()

    async def _refresh_locked(self) -> None:
        try:
            payload = await self._http.post(s.VALIDATE, None, token=self.token)
        except Unauthorized:
            await self._login_locked()
            return
        new = payload.get("newToken")
        if new:
            self.refreshes += 1
            self._adopt(str(new))
        else:
            # Valid but not renewed: the old token still dies at its exp, so get a fresh one.
            await self._login_locked()

    async def logout(self) -> None:
        """Best-effort ``Auth/logout`` (errors ignored: we are leaving anyway)."""
        if self.token is None:
            return
        try:
            await self._http.post(s.LOGOUT, None, token=self.token)
        except Exception:  # noqa: BLE001 - logout failure must not mask the close
            pass
        self.token = None
