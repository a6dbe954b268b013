"""One verdict rule for train and backtest (issue 11, found 4): a 95 % expectancy interval
wholly below zero is "no edge after costs" whatever the trade count; "too few trades" only
when a small sample's interval straddles zero."""

from __future__ import annotations

import numpy as np

from core.backtest.bootstrap import Interval
from core.backtest.stats import compute_stats
from core.backtest.verdict import edge_verdict, make_verdict


def test_interval_below_zero_is_no_edge_whatever_the_count() -> None:
    """Failed before: 60 trades losing −$3 ± 1 each read "too few trades"."""
    label, head = edge_verdict(60, Interval(-3.0, -4.0, -2.0, 0.95))
    assert label == "no edge after costs" and head.startswith("loses −$3.00 per trade")
    assert edge_verdict(5, Interval(-3.0, -4.0, -2.0, 0.95))[0] == "no edge after costs"


def test_too_few_only_when_the_interval_straddles_zero() -> None:
    assert edge_verdict(60, Interval(-1.0, -4.0, 2.0, 0.95))[0] == "too few trades"
    assert edge_verdict(60, Interval(3.0, 1.0, 5.0, 0.95))[0] == "inconclusive"
    assert edge_verdict(0, Interval(0.0, 0.0, 0.0, 0.95))[0] == "too few trades"


def test_enough_trades_labels() -> None:
    ci_up = Interval(3.0, 1.0, 5.0, 0.95)
    assert edge_verdict(500, ci_up)[0] == "possible edge"
    lab, head = edge_verdict(500, ci_up, failures=("random entries do as well",))
    assert lab == "inconclusive" and head.endswith("random entries do as well")
    assert edge_verdict(500, Interval(-0.5, -2.0, 1.0, 0.95))[0] == "no edge after costs"
    assert edge_verdict(500, Interval(0.5, -2.0, 3.0, 0.95))[0] == "inconclusive"


def test_backtest_verdict_uses_the_shared_rule() -> None:
    """Failed before: the backtest's verdict on 60 clearly losing trades was "too few trades"."""
    from tests.unit.test_stats import equity_from, make_trades

    from core.backtest.bootstrap import bootstrap_expectancy

    t = make_trades(list(np.random.default_rng(0).normal(-3.0, 1.0, 60)))
    s = compute_stats(t, equity_from(t), starting_balance=1000)
    v = make_verdict(s, bootstrap_expectancy(t["net_pnl"].to_numpy()))
    assert v.label == "no edge after costs" and v.headline.startswith("loses")


def test_train_verdict_uses_the_shared_rule() -> None:
    """Failed before: train said "no edge shown — not enough trades to judge" for folds of
    40 trades losing −$3 ± $0.2 each; the same numbers in a backtest say "no edge after costs"."""
    from types import SimpleNamespace

    from core.training.report import summarize
    from core.training.trading import TradingMetrics

    def fold(k: int) -> SimpleNamespace:
        t = TradingMetrics(trades=40, counts=False, win_rate=0.2, expectancy=-3.0,
                           expectancy_gross=-1.0, expectancy_se=0.2, profit_factor=0.4,
                           net_pnl=-120.0, costs=80.0, baseline_expectancy=-3.1, by_exit={})
        m = SimpleNamespace(auc=0.5, balanced_accuracy=0.5, log_loss=1.0, log_loss_prior=1.0)
        return SimpleNamespace(is_holdout=False, metrics=m, trading=t, number=k,
                               traded=None, deciles=None)

    s = summarize([fold(k) for k in range(3)], min_confidence=0.5)  # type: ignore[list-item]
    assert s.verdict.startswith("no edge after costs: loses −$3.00 per trade"), s.verdict
    assert not s.edge


def test_a_single_trade_or_identical_ones_is_too_few_not_a_verdict() -> None:
    """A bootstrap interval without width (one trade, or identical stops) judges nothing."""
    assert edge_verdict(1, Interval(-13.0, -13.0, -13.0, 0.95))[0] == "too few trades"
    lab, head = edge_verdict(3, Interval(-5.0, -5.0, -5.0, 0.95))
    assert lab == "too few trades" and "3 trades are below the minimum" in head
