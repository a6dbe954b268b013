"""TopstepXVenue: the :class:`core.venues.base.Venue` on the ProjectX Gateway.

It composes the pieces — REST (:mod:`.http`), login/renewal (:mod:`.auth`), supervised hubs
(:mod:`.realtime`), order execution (:mod:`.execution`) and de-duplicated state
(:mod:`.state`) — and publishes one event stream. It does not know, and must not know,
whether the gateway is TopstepX or the local simulator.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import string
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp

from core.clock import Clock
from core.domain import Account, Bar, Contract, Fill, Order, Position, Quote
from core.errors import FatalVenueError, NonRetryableVenueError, RetryableVenueError
from core.venues.base import OrderRequest, PlaceResult, VenueEvent, VenueHealth
from core.venues.topstepx import parse as p
from core.venues.topstepx import schemas as s
from core.venues.topstepx.auth import TokenManager
from core.venues.topstepx.book import DepthBook
from core.venues.topstepx.codes import bar_unit
from core.venues.topstepx.config import TopstepXConfig
from core.venues.topstepx.execution import OrderExecution
from core.venues.topstepx.http import GatewayHttp, Unauthorized
from core.venues.topstepx.realtime import HubFactory, HubSupervisor, default_market_open
from core.venues.topstepx.signalr import signalrcore_factory
from core.venues.topstepx.state import VenueState
from core.venues.topstepx.streams import StreamsMixin

log = logging.getLogger(__name__)
_DAY_NS = 86_400 * 1_000_000_000
_B36 = string.digits + string.ascii_lowercase


def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


class TopstepXVenue(StreamsMixin):
    """The ProjectX Gateway client.

    Args:
        config: URLs and behaviour settings.
        username: TopstepX user name.
        api_key: API key (never logged).
        clock: Source of "now" (token expiry, search windows, tags).
        session: Optional ``aiohttp.ClientSession`` (the REST seam).
        hub_factory: Builds hub connections (the realtime seam).
        market_open: Whether the market is open now (stall watchdog); CME calendar by default.
        rng: Random source for backoff jitter and tags.
    """

    def __init__(self, config: TopstepXConfig, *, username: str, api_key: str, clock: Clock,
                 session: aiohttp.ClientSession | None = None,
                 hub_factory: HubFactory = signalrcore_factory,
                 market_open: Callable[[], bool] | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.clock = clock
        self._rng = rng or random.Random()
        self.http = GatewayHttp(config, session=session, rng=self._rng)
        self.auth = TokenManager(self.http, config, clock, username=username, api_key=api_key)
        self.state = VenueState()
        self._queue: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._contracts: dict[str, Contract] = {}
        self._quotes: dict[str, Quote] = {}
        self._books: dict[str, DepthBook] = {}
        self._accounts_watched: list[int] = []
        self._run_id = _b36(clock.now_ns() // 1_000_000_000 % 36 ** 5) + _b36(self._rng.randrange(1296))
        self._tags = itertools.count(1)
        self.exec = OrderExecution(self, self.state, config, tick_size=self._tick_size,
                                   new_tag=self._new_tag)
        #: The injected "is the market open now" (None: the CME calendar decides).
        self.market_open_source: Callable[[], bool] | None = market_open
        open_fn = market_open or default_market_open(clock)
        self._market_open = open_fn
        self.user = HubSupervisor("user", config.user_hub_url, token=self.auth.ensure,
                                  events=s.USER_EVENTS + (s.LOGOUT_EVENT,),
                                  on_event=self._on_user, on_state=self._on_state,
                                  after_reconnect=self.resync, config=config, factory=hub_factory,
                                  relogin=self._hub_relogin)
        self.market = HubSupervisor("market", config.market_hub_url, token=self.auth.ensure,
                                    events=s.MARKET_EVENTS + (s.LOGOUT_EVENT,),
                                    on_event=self._on_market, on_state=self._on_state,
                                    after_reconnect=self._market_reconnected, config=config,
                                    factory=hub_factory, watch_target="GatewayQuote",
                                    market_open=open_fn, relogin=self._hub_relogin)
        self.resyncs = 0
        self._last_logout_mono = -1e9
        self.last_resync_s: float | None = None
        self._bg: set[asyncio.Task[Any]] = set()
        self._refresh_task: asyncio.Task[None] | None = None
        self._started = False
        self._on_close: list[Callable[[], Awaitable[None]]] = []

    # ================================================================ lifecycle
    async def connect(self, *, hubs: bool = True) -> None:
        """Log in and (unless ``hubs`` is False) connect both hubs."""
        await self.http.start()
        await self.auth.login()
        self.auth.listeners.append(self._token_changed)
        self._refresh_task = asyncio.create_task(self._refresh_loop(), name="token-refresh")
        self._market_open()  # starts the (slow, threaded) first calendar lookup early
        if hubs:
            await self.user.start()
            await self.market.start()
        self._started = True

    async def close(self) -> None:
        """Stop hubs and background tasks, log out, close the session, then release whatever
        was handed over with :meth:`on_close` (idempotent)."""
        try:
            for t in list(self._bg) + ([self._refresh_task] if self._refresh_task else []):
                t.cancel()
            await self.user.stop()
            await self.market.stop()
            if self._started:
                await self.auth.logout()
            self._started = False
            await self.http.close()
        finally:
            while self._on_close:  # last registered, first released
                await self._on_close.pop()()

    def on_close(self, release: Callable[[], Awaitable[None]]) -> None:
        """Run ``release`` when the venue closes (e.g. stop a server this venue owns)."""
        self._on_close.append(release)

    async def __aenter__(self) -> TopstepXVenue:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _refresh_loop(self) -> None:
        # Renew even when no REST call happens for hours (hubs only use the token at connect).
        while True:
            await asyncio.sleep(min(30.0, max(0.05, self.config.refresh_margin_s / 4)))
            try:
                await self.auth.ensure()
            except Exception as exc:  # noqa: BLE001 - reported through health; next loop retries
                log.warning("token renewal failed: %s", exc)

    async def _hub_relogin(self) -> None:
        rev = self.auth.revision
        await asyncio.sleep(0)  # let a concurrent re-login (other hub) go first
        await self.auth.relogin(rev)

    def _token_changed(self, _token: str) -> None:
        # The hubs carry the token in their URL from connect time: rebuild them with the new one.
        for hub in (self.user, self.market):
            if hub.connected:
                hub.request_rebuild("token renewed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    # ================================================================ REST port
    async def read(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A read: 429/5xx/timeouts backed off and retried; 401 → log in again once."""
        attempts = self.config.max_read_retries + 1
        relogged = False
        for attempt in range(attempts):
            token = await self.auth.ensure()
            rev = self.auth.revision
            try:
                return await self.http.post(path, body, token=token)
            except Unauthorized:
                if relogged:
                    raise FatalVenueError(f"{path}: still unauthorized after logging in again",
                                          hint="check the API key and the API subscription") from None
                relogged = True
                await self.auth.relogin(rev)
            except RetryableVenueError as exc:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(self.http.backoff_s(attempt, getattr(exc, "retry_after", None)))
        raise RetryableVenueError(f"{path}: gave up after {attempts} attempts")

    async def mutate(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One attempt of a mutation; on 401 logs in again and re-raises (caller reconciles)."""
        token = await self.auth.ensure()
        rev = self.auth.revision
        try:
            return await self.http.post(path, body, token=token)
        except Unauthorized:
            await self.auth.relogin(rev)
            raise

    def backoff_s(self, attempt: int, retry_after: float | None = None) -> float:
        """Backoff delay (see :meth:`GatewayHttp.backoff_s`)."""
        return self.http.backoff_s(attempt, retry_after)

    def search_start_ns(self) -> int:
        """Start of search windows: a day before the earliest of our clock and the server's."""
        now = self.clock.now_ns()
        ref = min(now, self.state.server_ts) if self.state.server_ts else now
        return ref - 7 * _DAY_NS

    def _new_tag(self) -> str:
        return f"{self.config.tag_prefix}{self._run_id}-{next(self._tags)}"

    async def ping(self) -> bool:
        """``GET Status/ping``: whether the REST endpoint answers (any 2xx)."""
        return await self.http.ping()

    # ================================================================ reference data
    async def accounts(self, *, only_active: bool = True) -> list[Account]:
        payload = await self.read(s.ACCOUNT_SEARCH, {"onlyActiveAccounts": only_active})
        out = [p.parse_account(d) for d in p.items(payload, "accounts")]
        for a in out:
            self.state.apply_account(a)
        return out

    async def search_contracts(self, text: str) -> list[Contract]:
        payload = await self.read(s.CONTRACT_SEARCH, {"searchText": text,
                                                      "live": self.config.live_data})
        out = [p.parse_contract(d) for d in p.items(payload, "contracts")]
        self._contracts.update((c.id, c) for c in out)
        return out

    async def contract(self, contract_id: str) -> Contract:
        if contract_id in self._contracts:
            return self._contracts[contract_id]
        payload = await self.read(s.CONTRACT_BY_ID, {"contractId": contract_id})
        rows = p.items(payload, "contract") or p.items(payload, "contracts")  # both shapes (§4.3)
        for c in (p.parse_contract(d) for d in rows):
            self._contracts[c.id] = c
        if contract_id not in self._contracts:
            raise NonRetryableVenueError(f"contract {contract_id!r} not found",
                                         hint="look it up with active_contract(symbol_id)")
        return self._contracts[contract_id]

    async def active_contract(self, symbol_id: str) -> Contract:
        """The active contract of ``symbol_id`` (``Contract/available``, then a search)."""
        candidates: list[Contract] = []
        try:
            payload = await self.read(s.CONTRACT_AVAILABLE, {"live": self.config.live_data})
            candidates = [p.parse_contract(d) for d in p.items(payload, "contracts")]
        except NonRetryableVenueError:
            candidates = []
        match = [c for c in candidates if c.symbol_id == symbol_id and c.active]
        if not match:
            root = symbol_id.rsplit(".", 1)[-1]
            match = [c for c in await self.search_contracts(root)
                     if c.symbol_id == symbol_id and c.active]
        if not match:
            raise NonRetryableVenueError(
                f"no active contract for symbolId {symbol_id!r}",
                hint="check the symbol id (MES is F.US.MES; E-mini S&P is F.US.EP, not ES)")
        self._contracts.update((c.id, c) for c in match)
        return match[0]

    async def _tick_size(self, contract_id: str) -> float:
        return (await self.contract(contract_id)).tick_size

    async def bars(self, contract_id: str, start_ns: int, end_ns: int, *, bar_seconds: int = 60,
                   include_partial: bool = False) -> list[Bar]:
        """Bars of ``bar_seconds`` starting in ``[start, end]``, ascending; pages backwards past
        the per-call limit. The size goes out as the gateway's unit/unitNumber (300 → 5 minutes).
        """
        unit, unit_number = bar_unit(bar_seconds)
        got: dict[int, Bar] = {}
        end = end_ns
        while True:
            payload = await self.read(s.RETRIEVE_BARS, {
                "contractId": contract_id, "live": self.config.live_data,
                "startTime": p.format_ts(start_ns), "endTime": p.format_ts(end),
                "unit": unit, "unitNumber": unit_number, "limit": self.config.bars_limit,
                "includePartialBar": include_partial})
            rows = p.items(payload, "bars")
            page = p.parse_bars(rows, symbol=contract_id)
            for b in page:
                if start_ns <= b.ts <= end_ns:
                    got[b.ts] = b
            # Newest bars are kept when the range holds more than `limit`: step the end back.
            if len(rows) < self.config.bars_limit or not page or page[0].ts >= end \
                    or page[0].ts <= start_ns:
                break
            end = page[0].ts
        return [got[k] for k in sorted(got)]

    # ================================================================ subscriptions
    async def watch_account(self, account_id: int) -> None:
        """Subscribe to an account's user events and load its current state via REST."""
        if account_id not in self._accounts_watched:
            self._accounts_watched.append(account_id)
        await self.user.subscribe(("SubscribeAccounts", ""), s.SUB_ACCOUNTS[0], [])
        for sub in (s.SUB_ORDERS, s.SUB_POSITIONS, s.SUB_TRADES):
            await self.user.subscribe((sub[0], str(account_id)), sub[0], [account_id])
        await self._resync_account(account_id)

    async def _sub(self, pair: tuple[str, str], contract_id: str, on: bool) -> None:
        key = (pair[0], contract_id)
        if on:
            try:
                await self.contract(contract_id)  # tick size known → event prices snapped
            except NonRetryableVenueError:
                pass  # unknown contract: the hub will say so
            await self.market.subscribe(key, pair[0], [contract_id])
        else:
            await self.market.unsubscribe(key, pair[1], [contract_id])

    async def subscribe_quotes(self, contract_id: str) -> None:
        await self._sub(s.SUB_QUOTES, contract_id, True)

    async def unsubscribe_quotes(self, contract_id: str) -> None:
        await self._sub(s.SUB_QUOTES, contract_id, False)

    async def subscribe_trades(self, contract_id: str) -> None:
        await self._sub(s.SUB_MARKET_TRADES, contract_id, True)

    async def unsubscribe_trades(self, contract_id: str) -> None:
        await self._sub(s.SUB_MARKET_TRADES, contract_id, False)

    async def subscribe_depth(self, contract_id: str) -> None:
        self._books.pop(contract_id, None)
        await self._sub(s.SUB_DEPTH, contract_id, True)

    async def unsubscribe_depth(self, contract_id: str) -> None:
        await self._sub(s.SUB_DEPTH, contract_id, False)

    # ================================================================ orders
    async def place_order(self, request: OrderRequest) -> PlaceResult:
        return await self.exec.place(request)

    async def modify_order(self, account_id: int, order_id: int, *, size: int | None = None,
                           limit_price: float | None = None, stop_price: float | None = None,
                           trail_price: float | None = None) -> None:
        await self.exec.modify(account_id, order_id, size=size, limit_price=limit_price,
                               stop_price=stop_price, trail_price=trail_price)

    async def cancel_order(self, account_id: int, order_id: int) -> None:
        await self.exec.cancel(account_id, order_id)

    async def open_orders(self, account_id: int, *, include_suspended: bool = True) -> list[Order]:
        return await self.exec.open_orders(account_id, include_suspended=include_suspended)

    async def find_by_tag(self, account_id: int, tag: str) -> Order | None:
        return await self.exec.find_by_tag(account_id, tag)

    async def positions(self, account_id: int) -> list[Position]:
        payload = await self.read(s.POSITION_SEARCH_OPEN, {"accountId": account_id})
        return [pos for pos in (p.parse_position(d) for d in p.items(payload, "positions"))
                if pos.size != 0]

    async def trades(self, account_id: int, start_ns: int, end_ns: int | None = None) -> list[Fill]:
        body: dict[str, Any] = {"accountId": account_id, "startTimestamp": p.format_ts(start_ns)}
        if end_ns is not None:
            body["endTimestamp"] = p.format_ts(end_ns)
        payload = await self.read(s.TRADE_SEARCH, body)
        return [p.parse_trade(d) for d in p.items(payload, "trades")]

    async def partial_close(self, account_id: int, contract_id: str, size: int) -> None:
        """``Position/partialCloseContract`` (the field is ``size``, not ``closeSize``)."""
        await self.mutate(s.POSITION_PARTIAL_CLOSE, {"accountId": account_id,
                                                     "contractId": contract_id, "size": int(size)})

    async def flatten(self, account_id: int, contract_id: str) -> None:
        """Cancel every working order on the contract (bracket legs included), close the position,
        then cancel anything that became working meanwhile. Whether closeContract cancels
        brackets is UNCONFIRMED (§4.9), so we never rely on it."""
        async def size_now() -> int:
            return sum(pos.size for pos in await self.positions(account_id)
                       if pos.contract_id == contract_id)

        for _ in range(2):
            for o in await self.open_orders(account_id, include_suspended=True):
                if o.contract_id == contract_id:
                    try:
                        await self.cancel_order(account_id, o.id)
                    except NonRetryableVenueError as exc:
                        log.info("flatten: cancel %s: %s", o.id, exc)
            await self.exec.close_position(account_id, contract_id, size_now)

    # ================================================================ events / health
    async def events(self) -> AsyncIterator[VenueEvent]:  # type: ignore[override]
        """All events, in arrival order (one consumer)."""
        while True:
            yield await self._queue.get()

    def drain_events(self) -> list[VenueEvent]:
        """Everything queued right now, without waiting (tests, polling consumers)."""
        out = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    def last_quote(self, contract_id: str) -> Quote | None:
        """The latest merged quote of a contract."""
        return self._quotes.get(contract_id)

    def health(self) -> VenueHealth:
        return VenueHealth(hubs=(self.user.health(), self.market.health()),
                           token_expires_ns=self.auth.expires_ns,
                           token_refreshes=self.auth.refreshes, logins=self.auth.logins,
                           resyncs=self.resyncs, rate_limited=self.http.rate_limited,
                           extra={"reconciled_orders": float(self.exec.reconciled),
                                  "queued_events": float(self._queue.qsize())})
