"""The order state machine: in-flight states, unknown outcomes, idempotent broker events."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.engine import orders as O


def _book(tag: str = "run1-1", size: int = 3) -> O.OrderBook:
    b = O.OrderBook()
    b.add(O.TrackedOrder(tag=tag, role="entry", side=1, type="market", size=size))
    return b


def test_happy_path_intent_to_filled() -> None:
    b = _book()
    assert b.get("run1-1").state == O.INTENT
    b.sent("run1-1")
    assert b.get("run1-1").state == O.SUBMITTED
    b.acknowledged("run1-1", 77)
    b.apply_fill(fill_id=1, order_id=77, size=1, price=5000.0)
    b.apply_fill(fill_id=2, order_id=77, size=2, price=5001.0)
    o = b.get("run1-1")
    assert o.state == O.FILLED and o.filled == 3 and abs(o.avg_fill_price - 5000 - 2 / 3) < 1e-9
    assert o.history == [O.INTENT, O.SUBMITTED, O.WORKING, O.FILLED]


def test_unknown_outcome_is_never_resent_and_an_ack_resolves_it() -> None:
    b = _book()
    b.sent("run1-1")
    b.send_failed("run1-1", unknown=True, reason="timeout")
    assert [o.tag for o in b.unresolved()] == ["run1-1"]
    # the acknowledgement (or the stream's order event carrying our tag) arrives late
    b.apply_order(order_id=9, status="Open", updated_ts=10, tag="run1-1")
    assert b.get("run1-1").state == O.WORKING and not b.unresolved()


def test_unknown_not_found_by_tag_becomes_rejected() -> None:
    b = _book()
    b.sent("run1-1")
    b.send_failed("run1-1", unknown=True, reason="connection reset")
    b.resolved_missing("run1-1")
    assert b.get("run1-1").state == O.REJECTED


def test_late_send_error_after_ack_does_not_unsettle() -> None:
    b = _book()
    b.sent("run1-1")
    b.acknowledged("run1-1", 5)
    b.send_failed("run1-1", unknown=True, reason="timeout of the retry")
    assert b.get("run1-1").state == O.WORKING


def test_rest_snapshot_never_overwrites_newer_stream_state() -> None:
    b = _book()
    b.acknowledged("run1-1", 5)
    b.apply_order(order_id=5, status="PendingCancellation", updated_ts=200)
    b.apply_order(order_id=5, status="Open", updated_ts=100)      # older REST snapshot
    assert b.get("run1-1").state == O.PENDING_CANCEL and b.stale == 1
    b.apply_order(order_id=5, status="Cancelled", updated_ts=300)
    b.apply_order(order_id=5, status="Open", updated_ts=400)      # nothing revives a final order
    assert b.get("run1-1").state == O.CANCELLED


def test_suspended_bracket_leg_is_working_and_flagged() -> None:
    b = O.OrderBook()
    b.add(O.TrackedOrder(tag="t-2", role="stop", side=-1, type="stop", size=1))
    b.apply_order(order_id=8, status="Suspended", updated_ts=1, tag="t-2")
    o = b.get("t-2")
    assert o.state == O.WORKING and o.suspended and o.is_live


@settings(max_examples=60, deadline=None)
@given(events=st.lists(st.tuples(st.sampled_from(["order", "fill"]), st.integers(0, 5),
                                 st.sampled_from(["Open", "Pending", "Filled", "Cancelled"])),
                       min_size=1, max_size=25),
       dup=st.integers(1, 3))
def test_duplicated_and_replayed_events_change_nothing(events, dup) -> None:  # noqa: ANN001
    """Applying every event ``dup`` times (duplicates, replays) gives the state of applying once."""
    def run(times: int) -> tuple:
        b = _book(size=100)
        b.acknowledged("run1-1", 1)
        for kind, k, status in events:
            for _ in range(times):
                if kind == "order":
                    b.apply_order(order_id=1, status=status, updated_ts=k, filled=None)
                else:
                    b.apply_fill(fill_id=k, order_id=1, size=k + 1, price=5000.0 + k)
        o = b.get("run1-1")
        return o.state, o.filled, o.avg_fill_price, o.broker_ts
    assert run(1) == run(dup)
