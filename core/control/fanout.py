"""Per-subscriber event queues: the engine never waits for a reader.

:meth:`Subscriber.put` is synchronous and O(1) (amortised): the engine's ``publish`` hands an
event to every subscriber and moves on. What a slow reader cannot take is shed here, in this
order:

1. a :class:`~core.domain.events.QuoteUpdated` replaces the queued quote of the same contract
   (latest wins — counted as *coalesced*, nothing of value is lost);
2. when the queue is still over its bound, the oldest queued quote is dropped;
3. only when no quote is left, the oldest other event is dropped.

Every drop is counted per event type; the pump sends the subscriber an ``Alert`` (code
``control-drops``) with the counts before its next event, so a drop is never silent.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from typing import Any

from core.domain import events as E


class Subscriber:
    """One reader's bounded queue.

    Args:
        maxsize: Most events held; beyond it events are shed as the module docstring says.
    """

    def __init__(self, maxsize: int = 1024) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        # Items are events, or the coalesce key of a quote whose latest value is in _latest.
        self._q: deque[Any] = deque()
        self._latest: dict[tuple[str, str], E.Event] = {}
        self._wake = asyncio.Event()
        self.dropped: Counter[str] = Counter()
        self.coalesced = 0
        self._reported = 0
        self._last_ts = 0

    def __len__(self) -> int:
        return len(self._q)

    @property
    def dropped_total(self) -> int:
        """Events dropped so far (coalesced quotes not included)."""
        return sum(self.dropped.values())

    def put(self, ev: E.Event) -> None:
        """Queue ``ev`` without ever blocking (shedding if the reader is behind)."""
        self._last_ts = getattr(ev, "ts_ns", self._last_ts)
        key = E.coalesce_key(ev)
        if key is not None:
            if key in self._latest:
                self._latest[key] = ev
                self.coalesced += 1
                return
            self._latest[key] = ev
            self._q.append(key)
        else:
            self._q.append(ev)
        if len(self._q) > self.maxsize:
            self._shed()
        self._wake.set()

    def _shed(self) -> None:
        for i, item in enumerate(self._q):       # bounded by maxsize; only on overflow
            if isinstance(item, tuple):
                del self._q[i]
                self._latest.pop(item)
                self.dropped["QuoteUpdated"] += 1
                return
        self.dropped[type(self._q.popleft()).__name__] += 1

    def drop_report(self) -> E.Alert | None:
        """An alert for drops not yet reported to this reader (None when there are none)."""
        total = self.dropped_total
        if total == self._reported:
            return None
        new = total - self._reported
        self._reported = total
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()))
        return E.Alert(ts_ns=self._last_ts, alert_id=f"control-drops-{total}", level="warning",
                       code="control-drops",
                       message=f"this reader fell behind: {new} events dropped "
                               f"({total} in all: {counts}); the engine was not slowed",
                       needs_ack=False)

    async def get(self) -> E.Event:
        """The next event (waits while the queue is empty)."""
        while not self._q:
            self._wake.clear()
            await self._wake.wait()
        item = self._q.popleft()
        if isinstance(item, tuple):
            return self._latest.pop(item)
        return item
