"""Bearer tokens (JWT-shaped, with an ``exp`` claim) and the rate-limit windows of §6."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import deque

from core.clock import Clock


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


class TokenStore:
    """Issues and checks tokens. Old tokens stay valid until they expire (§3.1).

    Args:
        clock: Wall clock (tokens expire in real time, whatever the market clock says).
        lifetime_s: Token lifetime (24 h by default; short in tests).
    """

    def __init__(self, clock: Clock, lifetime_s: float) -> None:
        self.clock = clock
        self.lifetime_s = lifetime_s
        self._tokens: dict[str, tuple[str, int]] = {}

    def issue(self, user: str) -> str:
        """A new token for ``user``: ``header.payload.signature`` with ``sub`` and ``exp``."""
        now = self.clock.now_ns()
        exp_ns = now + int(self.lifetime_s * 1e9)
        payload = {"sub": user, "exp": exp_ns // 1_000_000_000, "iat": now // 1_000_000_000,
                   "jti": secrets.token_hex(8), "iss": "scalpdesk-sim"}
        tok = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}.{secrets.token_urlsafe(16)}"
        self._tokens[tok] = (user, exp_ns)
        return tok

    def check(self, token: str | None) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"``."""
        if not token or token not in self._tokens:
            return "invalid"
        _, exp = self._tokens[token]
        return "ok" if self.clock.now_ns() < exp else "expired"

    def revoke(self, token: str) -> bool:
        """Forget a token (logout); returns whether it existed."""
        return self._tokens.pop(token, None) is not None

    def expiry_ns(self, token: str) -> int | None:
        """Expiry of a known token."""
        t = self._tokens.get(token)
        return t[1] if t else None


class RateLimiter:
    """Sliding-window request counters per key (monotonic time; §6 says window type is UNCONFIRMED)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        """Count one request; returns (allowed, seconds until a slot frees when refused)."""
        now = time.monotonic()
        q = self._hits.setdefault(key, deque())
        while q and q[0] <= now - window_s:
            q.popleft()
        if len(q) >= limit:
            return False, max(0.0, q[0] + window_s - now)
        q.append(now)
        return True, 0.0
