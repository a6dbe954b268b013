"""The HTML report renders in headless Chromium without script errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core.backtest.bootstrap import bootstrap_expectancy
from core.backtest.montecarlo import CombineRules, combine_pass_probability
from core.backtest.report import ReportInputs, render_html, write_html
from core.backtest.stats import compute_stats, daily_pnl
from core.backtest.verdict import make_verdict
from tests.unit.test_stats import equity_from, make_trades

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _inputs() -> ReportInputs:
    trades = make_trades(list(np.random.default_rng(5).normal(-1.0, 6.0, 150)))
    equity = equity_from(trades)
    stats = compute_stats(trades, equity, starting_balance=1000)
    ci = bootstrap_expectancy(trades["net_pnl"].to_numpy())
    combine = combine_pass_probability(daily_pnl(trades).to_numpy(),
                                       CombineRules(50_000, 3_000, 2_000), n_paths=200)
    return ReportInputs(title="test <report>", stats=stats, trades=trades, equity=equity,
                        verdict=make_verdict(stats, ci, baseline_percentile=50),
                        baseline_pnls=np.random.default_rng(1).normal(-100, 50, 200),
                        ambiguity=(-200.0, -100.0, 0.05), combine=combine)


def test_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    text = render_html(_inputs())
    assert "test &lt;report&gt;" in text and "<report>" not in text
    assert "<script src=" not in text.replace('<script src="data:', "")  # no CDN
    assert text.count("Plotly.newPlot") == 5
    out = write_html(tmp_path / "r.html", _inputs())
    assert out.exists() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    path = write_html(tmp_path / "report.html", _inputs())
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=5000", "--dump-dom", path.as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    m = re.search(r"<p id=\"render-status\">([^<]*)</p>", out.stdout)
    assert m, f"no render status in DOM; stderr: {out.stderr[-1000:]}"
    assert m.group(1) == "ok: 5 charts", m.group(1)
