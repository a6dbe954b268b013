"""Engine events and intents: exact round trips through dicts and JSON, clear refusals."""

from __future__ import annotations

import dataclasses
import json

import pytest

from core.domain import Side
from core.domain import events as E

#: One instance of every event and intent, with the awkward values (None, tuples, negatives).
SAMPLES: list[object] = [
    E.QuoteUpdated("CON.F.US.MES.H26", 5000.25, 5000.5, None, 1234.0, 1_700_000_000_000_000_000),
    E.BarClosed("CON.F.US.MES.H26", 1_700_000_000_000_000_000, 60, 5000.0, 5001.0, 4999.25,
                5000.75, 812.0),
    E.PredictionMade(1, "lgbm-v3", -1, 0.62, (0.62, 0.08, 0.30), -1.75, 41.5, True),
    E.SignalDecided(2, "entry", 1, 0.7, 0, "size limit", 7),
    E.SignalDecided(2, "none", 0, 0.1, 0, "", None),
    E.OrderUpdated(3, "run1-7", None, "unknown", -1, "market", 2, 0, None, None, "timeout"),
    E.OrderUpdated(3, "run1-8", 991, "working", 1, "stop", 1, 0, None, 4990.25, ""),
    E.FillReceived(4, 55, 991, None, "CON.F.US.MES.H26", -1, 1, 5000.5, 0.37),
    E.PositionChanged(5, "CON.F.US.MES.H26", -2, 5000.5, -12.5, "stream"),
    E.RiskStateChanged(6, "ACTIVE", "HALTED", "operator kill", 1000.0, -37.5, None, None),
    E.RiskStateChanged(6, "ACTIVE", "PAUSED", "", 1000.0, 0.0, 512.5, 5),
    E.FeedHealthChanged(7, "market", "stale", 3.5, 12),
    E.FeedHealthChanged(7, "user", "down", None, 0),
    E.Heartbeat(8, 42, 3600.25),
    E.Alert(9, "recon-1", "critical", "recon", "position differs", True),
    E.Pause(), E.Resume(), E.Flatten(), E.Kill(), E.Rearm(), E.Arm(), E.Disarm(),
    E.Acknowledge(), E.Acknowledge("recon-1"),
]


def test_every_event_and_intent_class_has_a_sample() -> None:
    assert {type(s).__name__ for s in SAMPLES} == set(E.TYPES)


@pytest.mark.parametrize("x", SAMPLES, ids=lambda x: type(x).__name__)
def test_round_trip_through_dict_and_json_is_exact(x: object) -> None:
    d = E.to_dict(x)  # type: ignore[arg-type]
    assert d["type"] == type(x).__name__
    assert E.from_dict(d) == x
    wire = json.loads(json.dumps(d))
    assert wire == d                                # to_dict is already JSON-shaped
    back = E.from_dict(wire)
    assert back == x and type(back) is type(x)


def test_events_are_frozen_and_slotted() -> None:
    q = SAMPLES[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.bid = 1.0  # type: ignore[attr-defined]
    assert not hasattr(q, "__dict__")


def test_enum_values_serialise_as_plain_ints() -> None:
    f = E.FillReceived(1, 2, 3, "t-1", "C", Side.SELL, 1, 10.0, 0.0)
    d = E.to_dict(f)
    assert d["side"] == -1 and type(d["side"]) is int
    assert E.from_dict(json.loads(json.dumps(d))) == f


def test_unknown_type_is_named() -> None:
    with pytest.raises(ValueError, match="'OrderExploded'"):
        E.from_dict({"type": "OrderExploded"})
    with pytest.raises(ValueError, match="unknown event type None"):
        E.from_dict({"ts_ns": 1})


def test_missing_and_unexpected_fields_are_named() -> None:
    d = E.to_dict(E.Heartbeat(1, 2, 3.0))
    with pytest.raises(ValueError, match="missing seq"):
        E.from_dict({k: v for k, v in d.items() if k != "seq"})
    with pytest.raises(ValueError, match="unexpected fields colour"):
        E.from_dict({**d, "colour": "red"})
    # A reader of a newer engine's stream may ignore fields it does not know yet.
    assert E.from_dict({**d, "colour": "red"}, strict=False) == E.Heartbeat(1, 2, 3.0)


def test_enumerated_strings_are_checked() -> None:
    with pytest.raises(ValueError, match="OrderUpdated.state"):
        E.OrderUpdated(1, "t", None, "Working", 1, "market", 1, 0, None, None, "")
    with pytest.raises(ValueError, match="SignalDecided.action"):
        E.SignalDecided(1, "buy", 1, 0.5, 1, "", None)
    with pytest.raises(ValueError, match="Alert.level"):
        E.Alert(1, "a", "fatal", "x", "y", False)


def test_to_dict_refuses_foreign_objects() -> None:
    with pytest.raises(TypeError, match="not an engine event"):
        E.to_dict(Side.BUY)  # type: ignore[arg-type]


def test_only_quotes_coalesce_and_only_per_contract() -> None:
    a = E.QuoteUpdated("A", 1.0, 2.0, None, None, 1)
    a2 = E.QuoteUpdated("A", 1.25, 2.0, None, None, 2)
    b = E.QuoteUpdated("B", 1.0, 2.0, None, None, 2)
    assert E.coalesce_key(a) == E.coalesce_key(a2) != E.coalesce_key(b)
    assert a2.can_replace(a) and not b.can_replace(a)
    assert all(E.coalesce_key(x) is None for x in SAMPLES if type(x) is not E.QuoteUpdated)


def test_intents_are_told_apart_from_events() -> None:
    assert E.is_intent(E.Kill()) and E.is_intent(E.Acknowledge("x"))
    assert not E.is_intent(SAMPLES[0])


def test_no_field_is_called_type() -> None:
    # "type" is the class discriminator of to_dict: a field of that name would be overwritten.
    clash = [c.__name__ for c in E.TYPES.values()
             if "type" in {f.name for f in dataclasses.fields(c)}]
    assert not clash
