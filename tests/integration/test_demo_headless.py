"""`scalpdesk demo --headless`: the engine paper-trades the simulator with the cached demo model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from console.cli.app import app
from console.cli.demo import Narrator
from tests.demo_fixtures import demo_env, demo_home  # noqa: F401 - fixture

runner = CliRunner()


def test_headless_demo_trades_and_ends_with_the_session_report(demo_home: Path) -> None:  # noqa: F811
    out = subprocess.run([sys.executable, "-m", "console", "demo", "--headless",
                          "--minutes", "0.2", "--speed", "40"],
                         capture_output=True, text=True, timeout=120, env=demo_env(demo_home))
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    assert "Traceback" not in text
    assert "first run" not in text                      # the cache was used
    assert "SYNTHETIC MES 1-second bars with a planted pattern, strength 3.0" in text
    assert "every trade is out of sample" in text
    m = re.search(r"session demo-\S+: [\d,]+ s, [\d,]+ bars, (\d+) trades, .* flat at exit", text)
    assert m, text[-2000:]
    assert int(m.group(1)) > 0, text[-2000:]
    assert re.search(r"\d\d:\d\d:\d\d ET  signal entry (long|short) \d at \d+% confidence", text)
    assert '{"type"' not in text                        # events are narrated, not JSON


def test_demo_refuses_bad_options() -> None:
    for args, word in ((["--minutes", "0"], "--minutes"), (["--speed", "0"], "--speed")):
        res = runner.invoke(app, ["demo", "--headless", *args])
        assert res.exit_code == 2 and word in res.output, res.output


def test_narration_keeps_market_time_monotonic() -> None:
    say = Narrator()
    assert say('{"type":"FillReceived","ts_ns":1709649093250000000,"side":1,"size":1,'
               '"price":4913.0}') == "09:31:33 ET  fill buy 1 @ 4913.00"
    # a broker position event stamped when the position opened: shown at the latest time seen
    line = say('{"type":"PositionChanged","ts_ns":1709649000000000000,"size":0,'
               '"avg_price":0.0}')
    assert line == "09:31:33 ET  position flat"
    assert say('{"type":"FeedHealthChanged","ts_ns":1,"hub":"user","state":"connected"}') is None
    assert say("status mode=ACTIVE") == "status mode=ACTIVE"


def test_narration_shows_a_repeated_refusal_once() -> None:
    say = Narrator()
    refused = ('{"type":"SignalDecided","ts_ns":1709649093000000000,"action":"entry",'
               '"direction":-1,"confidence":0.77,"contracts":0,"reason":"entries blocked",'
               '"denied_code":7}')
    assert "refused (entries blocked" in say(refused)
    assert say(refused) is None                          # every bar while blocked: once
    say(refused.replace('"contracts":0', '"contracts":2').replace('"entries blocked"', '""')
        .replace('"denied_code":7', '"denied_code":null'))
    assert say(refused) is not None                      # after an entry, shown again


def test_narration_of_an_exit_has_no_side_or_size() -> None:
    line = Narrator()('{"type":"SignalDecided","ts_ns":1709650725000000000,"action":"exit",'
                      '"direction":0,"confidence":0.6,"contracts":0,"reason":"",'
                      '"denied_code":null}')
    assert line == "09:58:45 ET  signal exit at 60% confidence"
