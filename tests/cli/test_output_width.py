"""Issue 12, width and money: readable at 80 columns and when piped; one money format.

CliRunner output is not a terminal, so rich renders at 80 columns: exactly the piped case.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from console.cli.app import app
from console.cli.common import wrap_message
from core.money import money

runner = CliRunner()
MES_1M = "mes_1m_frd_2023-11-26_2023-12-11.parquet"


def run(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_train_table_never_cuts_a_number_at_80_columns(shared_data: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALPDESK_MODELS", str(tmp_path / "models"))
    res = run("train", "--data", str(shared_data / MES_1M), "--folds", "2", "--name", "m1")
    assert res.exit_code == 0, res.output
    table = [ln for ln in res.stdout.splitlines() if re.match(r"^(\d|hold) ", ln)]
    assert table and not any("…" in ln for ln in table)
    assert all(len(ln.rstrip()) <= 80 for ln in table)
    aucs = [ln for ln in table if re.search(r"\s0\.\d{3}\s", ln)]
    assert len(aucs) >= 3  # every fold's AUC in full (0.498, not 0.4…)
    res = run("models", "list")
    assert res.exit_code == 0
    assert re.search(r"m1\s+lightgbm\s+MES\s+1m\s+direction\s+\d{4}-\d\d-\d\d \d\d:\d\d", res.stdout)
    res = run("models", "show", "m1")
    assert res.exit_code == 0 and "…" not in res.stdout


def test_warnings_name_the_file_once_and_wrap_under_their_label(shared_data: Path,
                                                                tmp_path: Path) -> None:
    src = str(shared_data / MES_1M)
    res = run("data", "import", src, "--catalog", str(tmp_path / "cat"))
    assert res.exit_code == 0, res.output
    assert res.stdout.count(src) == 1
    warnings = [ln for ln in res.stdout.splitlines() if "warning:" in ln]
    assert len(warnings) == 2 and all(ln.startswith("    warning: [") for ln in warnings)
    wrapped = wrap_message("    warning: [gaps] " + "word " * 30, 40).splitlines()
    assert len(wrapped) > 2 and all(ln.startswith(" " * 13) for ln in wrapped[1:])
    assert all(len(ln) <= 40 for ln in wrapped)


def test_one_money_format() -> None:
    assert money(-3.65) == "−$3.65" and money(3.65) == "$3.65"
    assert money(3.65, signed=True) == "+$3.65" and money(-1234.5) == "−$1,234.50"
    assert money(float("nan")) == "–" and money(None) == "–" and money(-0.001) == "$0.00"


def test_backtest_terminal_and_html_use_the_same_money(tmp_path: Path) -> None:
    from core.backtest.synthetic import random_walk_bars

    bars = tmp_path / "bars.parquet"
    random_walk_bars(3_000, seed=2, bar_seconds=60, sigma_ticks=2.0).to_parquet(bars)
    report = tmp_path / "r.html"
    res = run("backtest", "--profile", "account_1k", "--data", str(bars), "--strategy",
              "sma-cross", "--baseline-seeds", "5", "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "−$" in res.stdout and not re.search(r"\$-\d|-\$\d", res.stdout)
    html = re.sub(r"(?s)<script.*?</script>", "", report.read_text())  # the page's own text
    assert "−$" in html and not re.search(r"\$-\d|-\$\d", html)


def test_html_report_says_there_was_no_winning_trade() -> None:
    from core.backtest.bootstrap import bootstrap_expectancy
    from core.backtest.report import ReportInputs, render_html
    from core.backtest.stats import compute_stats
    from tests.unit.test_stats import equity_from, make_trades

    trades = make_trades(list(-np.abs(np.random.default_rng(1).normal(5, 2, 5))))
    stats = compute_stats(trades, equity_from(trades), starting_balance=1000)
    text = render_html(ReportInputs(title="t", stats=stats, trades=trades,
                                    equity=equity_from(trades)))
    assert "no winning trade" in text and "largest win</td><td>$-" not in text
    del bootstrap_expectancy
