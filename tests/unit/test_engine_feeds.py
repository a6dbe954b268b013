"""Quote bursts coalesce per contract; nothing else is ever dropped or reordered."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Quote, TradeTick
from core.engine.feeds import coalesce
from core.venues.base import QuoteEvent, TradeEvent


def _ev(kind: str, k: int, c: str):  # noqa: ANN202
    if kind == "q":
        return QuoteEvent(Quote(ts=k, contract_id=c, bid=1.0, ask=1.25, last=float(k)))
    return TradeEvent(TradeTick(ts=k, contract_id=c, price=float(k), size=1))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("qt"), st.sampled_from(["A", "B"])), max_size=40))
def test_only_stale_quotes_are_dropped(spec) -> None:  # noqa: ANN001
    evs = [_ev(kind, k, c) for k, (kind, c) in enumerate(spec)]
    out, dropped = coalesce(evs)
    trades = [e for e in evs if isinstance(e, TradeEvent)]
    assert [e for e in out if isinstance(e, TradeEvent)] == trades          # all, in order
    for c in ("A", "B"):
        qs = [e for e in evs if isinstance(e, QuoteEvent) and e.quote.contract_id == c]
        kept = [e for e in out if isinstance(e, QuoteEvent) and e.quote.contract_id == c]
        assert kept == qs[-1:]                                              # latest wins
    assert dropped == len(evs) - len(out)
    assert [e.tick.ts if isinstance(e, TradeEvent) else e.quote.ts for e in out] == \
        sorted(e.tick.ts if isinstance(e, TradeEvent) else e.quote.ts for e in out)
