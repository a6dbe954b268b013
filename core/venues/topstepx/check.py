"""A connection check: log in, list accounts, find the contract, read bars, receive quotes.

Used by ``scalpdesk venue check``. Each step is timed and reported pass/fail/warn; a step that
needs an earlier one is skipped when that one failed. Secrets never appear in the results.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.clock import Clock
from core.errors import ConfigError, CoreError
from core.venues.base import QuoteEvent, Venue
from core.venues.topstepx.parse import format_ts
from core.venues.topstepx.venue import TopstepXVenue

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of the check: ``status`` is ``pass``, ``fail``, ``warn`` or ``skip``."""

    name: str
    status: str
    detail: str
    ms: float


async def run_check(venue: Venue, *, clock: Clock, symbol_id: str = "F.US.MES",
                    account_name: str | None = None, quote_seconds: float = 5.0,
                    bar_days: float = 3.0,
                    market_open: Callable[[], bool] | None = None) -> list[StepResult]:
    """Run the check steps through ``venue`` (from :func:`core.venues.factory.open_venue`, not
    yet connected) and return their results. The venue is closed at the end.

    Args:
        venue: The TopstepX client (pointed at TopstepX or a simulator: the steps are the same).
        clock: Source of "now" (bar windows, token validity).
        symbol_id: Contract symbol to look up.
        account_name: Account to use (default: the first active).
        quote_seconds: How long to listen for quotes.
        bar_days: How far back to read one-minute bars.
        market_open: Whether quotes are expected now (default: what the venue was given, else
            the CME calendar); decides whether "no quotes" fails or only warns.

    Raises:
        ConfigError: ``venue`` is not the TopstepX client (the steps use its hubs directly).
    """
    if not isinstance(venue, TopstepXVenue):
        await venue.close()
        raise ConfigError(f"venue check needs the TopstepX client, not {type(venue).__name__}")
    config = venue.config
    results: list[StepResult] = []
    market_open = market_open or venue.market_open_source

    def calendar_open() -> bool:
        if market_open is not None:
            return market_open()
        try:
            import numpy as np

            from core.calendar import in_session_mask
            return bool(in_session_mask(np.array([clock.now_ns()], dtype="int64"))[0])
        except Exception:  # noqa: BLE001 - no calendar: assume open (strict)
            return True

    async def step(name: str, fn: Callable[[], object]) -> object | None:
        t0 = time.perf_counter()
        try:
            detail, value, status = await fn()  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - a check reports failures, it never crashes
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not isinstance(exc, CoreError):
                msg = f"{type(exc).__name__}: {msg}"
            results.append(StepResult(name, "fail", msg, (time.perf_counter() - t0) * 1e3))
            return None
        results.append(StepResult(name, status, detail, (time.perf_counter() - t0) * 1e3))
        return value

    def skip(name: str, why: str) -> None:
        results.append(StepResult(name, "skip", why, 0.0))

    try:
        async def login() -> tuple[str, object, str]:
            await venue.connect(hubs=False)
            exp = venue.auth.expires_ns
            left = f"; token valid {((exp or 0) - clock.now_ns()) / 3600e9:.1f} h" if exp else ""
            return f"logged in at {config.api_url}{left}", True, "pass"

        if await step("login", login) is None:
            for n in ("accounts", "contract", "market hub + quotes", "bars", "user hub"):
                skip(n, "login failed")
            return results

        async def accounts() -> tuple[str, object, str]:
            accs = await venue.accounts(only_active=True)
            if account_name:
                chosen = [a for a in accs if a.name == account_name]
                if not chosen:
                    names = ", ".join(a.name for a in accs) or "none"
                    return f"account {account_name!r} not found (have: {names})", None, "fail"
            else:
                chosen = accs
            if not chosen:
                return "no active account", None, "fail"
            a = chosen[0]
            return (f"{len(accs)} active; using {a.name} (id {a.id}, balance {a.balance:,.2f}, "
                    f"canTrade={a.can_trade})"), a, "pass"

        account = await step("accounts", accounts)

        async def contract() -> tuple[str, object, str]:
            c = await venue.active_contract(symbol_id)
            return f"{symbol_id} → {c.id} ({c.name}, tick {c.tick_size} = ${c.tick_value})", c, "pass"

        con = await step("contract", contract)
        if con is None:
            for n in ("market hub + quotes", "bars"):
                skip(n, "no contract")
        else:
            async def quotes() -> tuple[str, object, str]:
                await asyncio.wait_for(venue.market.start(), config.handshake_timeout_s * 3)
                await venue.subscribe_quotes(con.id)
                n = 0
                deadline = time.monotonic() + quote_seconds
                events = venue.events()
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        ev = await asyncio.wait_for(events.__anext__(), left)
                    except asyncio.TimeoutError:
                        break
                    n += isinstance(ev, QuoteEvent)
                q = venue.last_quote(con.id)
                if n == 0:
                    is_open = await asyncio.to_thread(calendar_open)
                    status = "fail" if is_open else "warn"
                    why = "market open" if is_open else "market closed now"
                    return f"0 quotes in {quote_seconds:g} s ({why})", 0, status
                return (f"{n} quotes in {quote_seconds:g} s; last bid {q.bid} ask {q.ask}"
                        if q else f"{n} quotes"), n, "pass"

            await step("market hub + quotes", quotes)

            async def bars() -> tuple[str, object, str]:
                # Server time when we have it (from quotes): a replaying simulator or a
                # skewed local clock would otherwise ask for the wrong days.
                end = min(clock.now_ns(), venue.state.server_ts or clock.now_ns())
                got = await venue.bars(con.id, end - int(bar_days * 86400 * _NS), end,
                                       bar_seconds=60)
                if not got:
                    return f"0 one-minute bars in the last {bar_days:g} days (quiet period?)", 0, "warn"
                return (f"{len(got)} one-minute bars, last starts {format_ts(got[-1].ts)[:19]}Z",
                        len(got), "pass")

            await step("bars", bars)

        if account is None:
            skip("user hub", "no account")
        else:
            async def user_hub() -> tuple[str, object, str]:
                await asyncio.wait_for(venue.user.start(), config.handshake_timeout_s * 3)
                await venue.watch_account(account.id)  # type: ignore[attr-defined]
                n_orders = len(venue.state.working(account.id))  # type: ignore[attr-defined]
                n_pos = sum(1 for pos in venue.state.positions.values() if pos.size)
                return f"subscribed; {n_orders} working orders, {n_pos} open positions", True, "pass"

            await step("user hub", user_hub)
    finally:
        await venue.close()
    return results
