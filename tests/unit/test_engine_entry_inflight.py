"""Found in the demo: two entries a bar apart before the first one's fill arrived (the
broker accepted the first, its fill and position events had not come yet). An entry or exit
on its way blocks the next decision's entry; a reversal's own exit does not."""

from __future__ import annotations

import asyncio

from core.bench.engine import RecordingVenue, _engine
from core.domain import Bar


def _bars(n: int, t0: int = 1_735_830_000_000_000_000) -> list[Bar]:
    return [Bar(ts=t0 + k * 60_000_000_000, symbol="CON.F.US.MES.H25", open=5000.0,
                high=5001.0, low=4999.0, close=5000.0 + 0.25 * (k % 3), volume=100.0)
            for k in range(n)]


def test_an_acknowledged_entry_without_its_fill_blocks_the_next_entry() -> None:
    venue = RecordingVenue()                       # accepts every order, never fills
    eng = _engine(venue, lambda bar: (1, 0.9), 60)

    async def run() -> None:
        for bar in _bars(6):
            await eng.on_bar(bar)
    asyncio.run(run())
    entries = [r for _, r in venue.orders if r.bracket is not None]
    assert len(entries) == 1, [r.tag for _, r in venue.orders]


def test_fills_ahead_of_the_position_event_count_as_a_position() -> None:
    venue = RecordingVenue()
    eng = _engine(venue, lambda bar: (1, 0.9), 60)

    async def run() -> None:
        bars = _bars(4)
        await eng.on_bar(bars[0])
        for o in eng.book.live():                  # the entry filled; the position event is late
            eng.book.apply_order(order_id=o.order_id, status="filled", updated_ts=1, filled=1)
        eng.rt.position = 1
        for bar in bars[1:]:
            await eng.on_bar(bar)
    asyncio.run(run())
    assert len(venue.orders) == 1
