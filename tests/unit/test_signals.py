"""The one probabilities → direction rule: warm-up rows carry no signal on every path."""

from __future__ import annotations

import numpy as np

from core.strategy.signals import direction_from_proba, direction_of_row

CLASSES = np.array([-1, 0, 1])


def test_batch_rule_warm_up_floor_and_ties() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.1, 0.25, 0.65], [0.2, 0.2, 0.6],
                      [np.nan, np.nan, np.nan]])
    valid = np.array([True, True, True, False, True])
    d, c, k = direction_from_proba(proba, CLASSES, valid, min_confidence=0.6)
    assert d.tolist() == [-1, 0, 1, 0, 0]
    assert c.tolist() == [0.7, 0.0, 0.65, 0.0, 0.0]        # warm-up / NaN / below floor: 0
    assert k.tolist()[:3] == [-1, 0, 1]
    d2, c2, _ = direction_from_proba(np.array([[0.4, 0.2, 0.4]]), CLASSES)
    assert d2.tolist() == [-1] and c2.tolist() == [0.4]    # ties go to the first class


def test_row_rule_equals_batch_rule() -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1, 1, 1], size=200)
    valid = rng.random(200) > 0.2
    d, c, k = direction_from_proba(proba, CLASSES, valid)
    for i in range(200):
        assert direction_of_row(proba[i], CLASSES, bool(valid[i])) == (d[i], c[i], k[i])
