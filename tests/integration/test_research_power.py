"""Research power (issue 11): planted patterns at their documented, realistic strength are found
out of sample by the real training pipeline; noise and shuffled labels are not.

"Found" (core.bench.research): pooled over the walk-forward test folds, the UP/DOWN
predictions at or above each fold's confidence floor — chosen on that fold's validation bars
(core.training.floor, ``train --auto-floor``) — (≥ 100 bars), held for the label horizon, earn
more per MES contract after costs than the 95th percentile of coin-flip directions on the same
bars (one flip per cluster of overlapping horizons), with precision > 50 %. "Pays": that value
is also above $0 after costs. The ≥ 20-seed figures are `scalpdesk bench research`, not this
suite (one seed each here).

Found item 1 (a sparse volume-triggered drift, ~1.3 % of 1-minute bars, ≈ +$9 per MES trade
after costs): before the mirror orientation and the new early stopping (core/ml) the same run
read AUC 0.50 and its traded subset sat inside the coin-flip band; with a fixed 55 % floor it
was found but lost money after costs (−$0.40 per contract); with the validation-chosen floor
and the tied calibration it is found and pays on this seed. Its power over seeds is partial
(README → Research).
"""

from __future__ import annotations

import pytest

from core.bench.research import research_profile, run_one
from core.datasets import synth_patterns as sp
from core.training.pipeline import TrainRequest, train


@pytest.mark.parametrize("name", ["breakout", "late_trend"])
def test_dense_patterns_are_found_out_of_sample(name: str) -> None:
    run = run_one(name, seed=0)
    assert run.found, run
    assert run.top_dollars > run.top_p95


def test_noise_reads_no_edge() -> None:
    run = run_one(None, seed=0)
    assert not run.found, run
    assert run.verdict != "possible edge", run
    assert "beat coin flips" not in run.verdict_text, run


def test_shuffled_labels_lose_the_pattern() -> None:
    frame, _ = sp.generate_pattern("breakout", 120, seed=0)
    req = TrainRequest(profile=research_profile(), label_kind="binary", threshold_ticks=0.0,
                       lookahead_seconds=300, folds=4, auto_floor=True, shuffle_labels=True)
    out = train(frame, 60, req)
    top = out.summary.horizon.get("traded") or {}
    assert not top or top["bars"] < 100 or top["dollars"] <= top["baseline_p95"] \
        or top["precision"] <= 0.5, out.report
    assert not out.summary.edge


def test_found_item_1_sparse_volume_burst_is_found_and_pays_after_costs() -> None:
    run = run_one("volume_burst", seed=0)
    assert run.found, run
    assert run.pays and run.top_dollars > 0.0, run   # the traded subset, after costs, test folds
    assert abs(run.auc - 0.5) < 0.03   # the all-bar AUC cannot see it; the traded subset can
    assert "beat coin flips on the same bars out of sample and pay after costs" \
        in run.verdict_text, run


HYPOTHESIS = ["ret_1m", "bar_dir", "volume_rel_1h"]   # "volume and the last bar's move"


def test_found_item_1_with_the_hypothesis_as_features_is_found_and_pays() -> None:
    """`train --features ret_1m,bar_dir,volume_rel_1h`: with all 49 columns the sparse trigger
    drowns (4/20 seeds); shown its inputs the same pipeline finds it (17/20 in the bench)."""
    run = run_one("volume_burst", seed=0, features=HYPOTHESIS)
    assert run.found and run.pays, run
    assert run.top_dollars > 2.0, run          # a few dollars per contract after costs
    assert run.trades >= 100 and run.expectancy > 0, run   # the backtester's trades agree


@pytest.mark.parametrize("seed", [0, 1])
def test_noise_with_the_same_hypothesis_still_reads_no_edge(seed: int) -> None:
    run = run_one(None, seed=seed, features=HYPOTHESIS)
    assert not run.found, run
    assert run.verdict != "possible edge", run


def test_found_item_1_on_two_years_of_bars_is_found_and_pays_with_the_defaults() -> None:
    """On 120 days the defaults find the sparse trigger on 4/20 seeds; on 500 trading days
    (the years of bars users import) on 20/20 (`bench research --days 500`)."""
    run = run_one("volume_burst", seed=0, days=500)
    assert run.found and run.pays, run
    assert run.top_dollars > 2.0 and run.trades >= 200 and run.expectancy > 0, run
    assert run.verdict == "possible edge", run   # train's own verdict, same rule as backtest
