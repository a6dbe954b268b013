"""SimGateway: the simulated gateway object (lifecycle, feed, faults, hub fan-out).

The wire shapes it emits are listed in the protocol note of :mod:`core.venues.sim.gateway`.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from aiohttp import web

from core.clock import Clock, LiveClock, SimClock
from core.venues.sim.gateway import market as mk
from core.venues.sim.gateway.auth import RateLimiter, TokenStore
from core.venues.sim.gateway.config import Faults, GatewayConfig
from core.venues.sim.gateway.contracts import build_contracts
from core.venues.sim.gateway.hubs import HubConnection
from core.venues.sim.gateway.wire import (
    TRADE_SIDE_CODE, account_json, iso, order_json, position_json, trade_json,
)
from core.venues.sim.matching import MatchingConfig, MatchingEngine
from core.venues.sim.models import SimAccount, SimEvent
from core.venues.sim.replay import MarketPath, Replay, bar_seconds, bars_to_path
from core.venues.sim.topstep import TopstepLayer, TopstepRules

_KNOWN_SUBS = {"user": {"Accounts", "Orders", "Positions", "Trades"},
               "market": {"ContractQuotes", "ContractTrades", "ContractMarketDepth"}}
_USER_TARGETS = {"account": "GatewayUserAccount", "order": "GatewayUserOrder",
                 "position": "GatewayUserPosition", "trade": "GatewayUserTrade"}


@dataclass(frozen=True, slots=True)
class SimUrls:
    """Where a started gateway listens."""

    rest: str
    user_hub: str
    market_hub: str
    admin: str


class SimGateway:
    """The simulated TopstepX gateway.

    Args:
        bars: Canonical bar frame to replay (None: no market data until fed by a test).
        config: Static settings (credentials, limits, accounts).
        faults: Initial faults.
        matching: Fill-model switches.
        speed: Replay speed (1 real time, 10 = 10×, 0 as fast as possible).
        wall_clock: Clock for token expiry (default: wall time).
        start_ns: Market clock start when there are no bars.
        history_until_ns: Bars before this time are history (served by retrieveBars at once)
            and the replay starts there (see :meth:`Replay.skip_to`).
        max_gap_s: Longest real-time wait of the replay for one market gap (``inf`` for
            paper trading aligned to wall time).
    """

    def __init__(self, bars: pd.DataFrame | None = None, *, config: GatewayConfig | None = None,
                 faults: Faults | None = None, matching: MatchingConfig | None = None,
                 speed: float = 0.0, wall_clock: Clock | None = None,
                 start_ns: int = 1_735_828_200_000_000_000, history_until_ns: int | None = None,
                 max_gap_s: float = 2.0) -> None:
        self.config = config or GatewayConfig()
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        first = int(bars["timestamp"].iloc[0]) if bars is not None and len(bars) else start_ns
        self.clock = SimClock(first - 1)
        self.contracts = build_contracts(self.config.symbol, first)
        self.contract = self.contracts[0]
        accounts, rules = [], {}
        for i, ac in enumerate(self.config.accounts):
            aid = 12_345 + i
            bal = 0.0 if ac.kind == "xfa" else ac.balance
            accounts.append(SimAccount(id=aid, name=ac.name, balance=bal, can_trade=ac.can_trade,
                                       simulated=ac.simulated, bracket_mode=ac.bracket_mode,
                                       starting_balance=bal))
            if ac.kind in ("combine", "xfa"):
                base = TopstepRules.combine(ac.account_size)
                rules[aid] = TopstepRules(starting_balance=bal, max_loss_limit=base.max_loss_limit,
                                          profit_target=base.profit_target if ac.kind == "combine" else None,
                                          max_minis=base.max_minis,
                                          daily_loss_limit=ac.daily_loss_limit)
        self.engine = MatchingEngine(self.clock, self.contracts, accounts, matching)
        self.topstep = TopstepLayer(rules)
        self.engine.hooks.append(self.topstep)
        self.tokens = TokenStore(wall_clock or LiveClock(), self.config.token_lifetime_s)
        self.limiter = RateLimiter()
        self.connections: set[HubConnection] = set()
        self.storm_until = 0.0
        self.bars = bars
        self.path: MarketPath | None = None
        self.replay: Replay | None = None
        self._bar_ns = int(bar_seconds(bars["timestamp"].to_numpy(np.int64)) * 1e9) if bars is not None and len(bars) else 60_000_000_000
        self.bars_arrays: tuple[np.ndarray, ...] = ()
        if bars is not None and len(bars):
            self.bars_arrays = tuple(bars[k].to_numpy(dt) for k, dt in (
                ("timestamp", np.int64), ("open", np.float64), ("high", np.float64),
                ("low", np.float64), ("close", np.float64), ("volume", np.int64)))
            self.path = bars_to_path(bars, self.contract.tick_size)
            self.replay = Replay(self.engine, self.contract.id, self.path, speed=speed,
                                 max_gap_s=max_gap_s)
            if history_until_ns is not None:
                self.replay.skip_to(history_until_ns)
        self._book: dict[str, dict[int, tuple[int, int]]] = {}
        self._runner: web.AppRunner | None = None
        self._feed_task: asyncio.Task | None = None
        self._bg: set[asyncio.Task] = set()
        self.urls: SimUrls | None = None
        self.engine.add_listener(self._on_engine_event)
        self.engine.add_market_listener(self._on_market)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0, *, feed: bool = False) -> SimUrls:
        """Listen on ``host:port`` (0 = any free port); optionally start the replay feed."""
        from core.venues.sim.gateway.app import build_app

        app = build_app(self)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # noqa: SLF001 — the only way to learn port 0's choice
        h, p = sock.getsockname()[:2]
        base = f"http://{h}:{p}"
        self.urls = SimUrls(rest=base, user_hub=f"{base}/hubs/user",
                            market_hub=f"{base}/hubs/market", admin=f"{base}/_sim")
        if feed:
            self.start_feed()
        return self.urls

    async def stop(self) -> None:
        """Stop the feed, close every hub connection and the server."""
        if self._feed_task is not None:
            self._feed_task.cancel()
            try:
                await self._feed_task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 — shutting down
                pass
        for c in list(self.connections):
            c.abort()
        for t in list(self._bg):
            t.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ feed
    def start_feed(self, speed: float | None = None) -> None:
        """Start (or resume) the replay in the background."""
        if self.replay is None:
            return
        if speed is not None:
            self.replay.speed = float(speed)
        if self._feed_task is None or self._feed_task.done():
            self._feed_task = asyncio.create_task(self.replay.run())
        self.replay.resume()

    def roll(self, contract_id: str) -> None:
        """Switch the active contract (the §8 roll): the replay feeds ``contract_id`` from now on."""
        self.engine.set_active_contract(contract_id)
        self.contract = self.engine.contracts[contract_id]
        if self.replay is not None:
            self.replay.contract_id = contract_id

    def pause_feed(self) -> None:
        """Pause the replay."""
        if self.replay is not None:
            self.replay.pause()

    async def wait_feed(self) -> None:
        """Wait until the replay has played everything."""
        if self._feed_task is not None:
            await self._feed_task

    # ------------------------------------------------------------------ faults
    def set_faults(self, **changes: object) -> None:
        """Change faults at runtime (see :class:`Faults`); re-seeds the RNG if ``seed`` given."""
        self.faults.update(**changes)
        if "seed" in changes:
            self.rng.seed(self.faults.seed)

    def drop_hub_connections(self, hub: str | None = None, *, graceful: bool = False) -> int:
        """Drop hub connections (``graceful``: type-7 close first). Returns how many."""
        n = 0
        for c in list(self.connections):
            if hub is None or c.hub == hub:
                n += 1
                if graceful:
                    self._spawn(c.close("Connection closed by the server (simulated).", True))
                else:
                    c.abort()
                self.connections.discard(c)
        return n

    def send_logout(self, hub: str | None = None) -> int:
        """Send the undocumented ``GatewayLogout`` event (§3.5) on the chosen hubs."""
        n = 0
        for c in list(self.connections):
            if hub is None or c.hub == hub:
                c.send_raw(json.dumps({"type": 1, "target": "GatewayLogout", "arguments": []}) + "\x1e")
                n += 1
        return n

    def storm_429(self, seconds: float) -> None:
        """Answer every REST call with 429 for ``seconds``."""
        self.storm_until = time.monotonic() + seconds

    def _spawn(self, coro: object) -> None:
        t = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._bg.add(t)
        t.add_done_callback(self._bg.discard)

    # ------------------------------------------------------------------ hub invocations
    def invoke(self, conn: HubConnection, target: str, args: list) -> object:
        """Run a client invocation; raises KeyError for unknown methods."""
        res = self.config.subscribe_result
        early = self.faults.early_subscribe_false_s
        if early and target.startswith("Subscribe") and time.monotonic() - conn.opened < early:
            if target.split("Subscribe", 1)[1] in _KNOWN_SUBS[conn.hub]:
                return False  # "Subscription returned False": the client must retry
        if conn.hub == "user":
            if target in ("SubscribeAccounts", "UnsubscribeAccounts"):
                conn.accounts_sub = target.startswith("Sub")
                return res
            kind = {"Orders": conn.orders, "Positions": conn.positions, "Trades": conn.trades}
            for suffix, subs in kind.items():
                if target in (f"Subscribe{suffix}", f"Unsubscribe{suffix}"):
                    aid = int(args[0])
                    if target.startswith("Sub"):
                        subs.add(aid)
                    else:
                        subs.discard(aid)
                    return res
            raise KeyError(target)
        kinds = {"Quotes": conn.quotes, "Trades": conn.market_trades, "MarketDepth": conn.depth}
        for suffix, subs in kinds.items():
            if target in (f"SubscribeContract{suffix}", f"UnsubscribeContract{suffix}"):
                cid = str(args[0])
                if cid not in self.engine.contracts:
                    raise ValueError(f"contract {cid} not found")
                if target.startswith("Unsub"):
                    subs.discard(cid)
                    return res
                subs.add(cid)
                conn.after_reply.append(lambda: self._initial_market(conn, suffix, cid))
                return res
        raise KeyError(target)

    def _initial_market(self, conn: HubConnection, kind: str, cid: str) -> None:
        c = self.engine.contracts[cid]
        m = self.engine.market[cid]
        digits = self.config.timestamp_digits
        if kind == "Quotes":
            conn.last_quote.pop(cid, None)
            if m.bid is not None or m.ask is not None:
                full = mk.full_quote(c, m, digits)
                conn.last_quote[cid] = full
                conn.send_event("GatewayQuote", [cid, full])
        elif kind == "MarketDepth":
            bk = self._book.get(cid) or mk.book(m, self.config.depth_levels)
            self._book[cid] = bk
            snap = mk.depth_snapshot(c, bk, iso(m.ts_ns, digits))
            conn.send_event("GatewayDepth", [cid, snap + [None] if self.faults.depth_nulls else snap])

    # ------------------------------------------------------------------ event fan-out
    def _on_engine_event(self, ev: SimEvent) -> None:
        subs = [c for c in self.connections if c.hub == "user" and (
            (ev.kind == "account" and c.accounts_sub)
            or (ev.kind == "order" and ev.account_id in c.orders)
            or (ev.kind == "position" and ev.account_id in c.positions)
            or (ev.kind == "trade" and ev.account_id in c.trades))]
        if not subs:
            return
        d = self.config.timestamp_digits
        o = ev.obj
        if ev.kind == "account":
            data = account_json(o)  # type: ignore[arg-type]
        elif ev.kind == "order":
            data = order_json(o, self.engine.contracts[o.contract_id], d)  # type: ignore[attr-defined]
        elif ev.kind == "position":
            data = position_json(o, self.engine.contracts[o.contract_id], d)  # type: ignore[attr-defined]
        else:
            data = trade_json(o, self.engine.contracts[o.contract_id], d)  # type: ignore[attr-defined]
        arg = [{"action": ev.action, "data": data}] if self.faults.user_shape == "wrapped" else data
        for c in subs:
            c.send_event(_USER_TARGETS[ev.kind], [arg])

    def _on_market(self, kind: str, cid: str, data: dict) -> None:
        conns = [c for c in self.connections if c.hub == "market"]
        if not conns:
            return
        c = self.engine.contracts[cid]
        m = self.engine.market[cid]
        digits = self.config.timestamp_digits
        q_subs = [x for x in conns if cid in x.quotes]
        if q_subs:
            full = mk.full_quote(c, m, digits)
            for x in q_subs:
                last = x.last_quote.get(cid)
                payload = mk.sparse(full, last) if self.config.sparse_quotes else full
                if last is not None and len(payload) <= 4 and all(
                        k in ("symbol", "timestamp", "lastUpdated") for k in payload):
                    continue  # nothing but the clock changed
                x.last_quote[cid] = full
                x.send_event("GatewayQuote", [cid, payload])
        if kind == "trade":
            t_subs = [x for x in conns if cid in x.market_trades]
            if t_subs:
                pr = {"symbolId": c.symbol_id, "price": data["price"],
                      "timestamp": iso(m.ts_ns, digits),
                      "type": TRADE_SIDE_CODE[data["aggressor"]],
                      "volume": data["size"]}
                arg = [pr] if self.faults.market_shape == "wrapped" else pr
                for x in t_subs:
                    x.send_event("GatewayTrade", [cid, arg])
        else:
            d_subs = [x for x in conns if cid in x.depth]
            if d_subs:
                new = mk.book(m, self.config.depth_levels)
                old = self._book.get(cid, {})
                self._book[cid] = new
                inc = mk.depth_diff(c, old, new, iso(m.ts_ns, digits))
                if inc:
                    if self.faults.depth_nulls:
                        inc.append(None)
                    for x in d_subs:
                        x.send_event("GatewayDepth", [cid, inc])

    async def blast_quotes(self, contract_id: str | None = None, count: int = 10_000) -> int:
        """Push ``count`` synthetic quotes to every quote subscriber as fast as possible.

        The quotes bypass the engine (no matching): they measure the wire, for
        ``scalpdesk bench venue``. Returns the number of events queued.
        """
        cid = contract_id or self.contract.id
        c = self.engine.contracts[cid]
        m = self.engine.market[cid]
        base = m.bid if m.bid is not None else c.to_ticks(5000.0)
        subs = [x for x in self.connections if x.hub == "market" and cid in x.quotes]
        sent = 0
        for i in range(count):
            b = base + (i % 8)
            payload = {"symbol": c.symbol_id, "bestBid": c.price(b), "bestAsk": c.price(b + 1),
                       "lastPrice": c.price(b), "timestamp": iso(m.ts_ns, self.config.timestamp_digits),
                       "seq": i}
            for x in subs:
                x.send_event("GatewayQuote", [cid, payload])
                sent += 1
            if i % 512 == 511:
                await asyncio.sleep(0)
        return sent

    # ------------------------------------------------------------------ state for tests/admin
    def state(self) -> dict:
        """A JSON-able summary (admin endpoint, debugging)."""
        e = self.engine
        return {
            "marketTime": iso(self.clock.now_ns()),
            "contracts": [x.id for x in self.contracts],
            "accounts": [account_json(a) for a in e.accounts.values()],
            "connections": [{"hub": c.hub, "events": c.sent_events} for c in self.connections],
            "replay": None if self.replay is None else {
                "index": self.replay.index, "total": len(self.replay.path),
                "paused": self.replay.paused, "speed": self.replay.speed},
            "faults": asdict(self.faults),
            "topstep": {str(k): {"mll": v.mll_level, "breached": v.breached}
                        for k, v in self.topstep.state.items()},
        }

    @property
    def bar_ns(self) -> int:
        """Bar size of the replay data (ns)."""
        return self._bar_ns
