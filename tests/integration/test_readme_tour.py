"""Issue 12, done means: the README's tour runs end to end, as written, on a fresh catalog
holding only the real MES 1-minute file — with no bar flag anywhere."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"
runner = CliRunner()


def tour_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A tour"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_tour_has_no_bar_flag() -> None:
    cmds = tour_commands()
    assert len(cmds) == 6 and all(c.startswith("scalpdesk ") for c in cmds)
    assert not any(re.search(r"--bar\b|--bar-seconds|MES:\d", c) for c in cmds)


def test_the_readme_tour_runs_end_to_end(shared_data: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"SCALPDESK_DATA": str(tmp_path / "catalog"), "SCALPDESK_MODELS": str(tmp_path / "models"),
           "SCALPDESK_HOME": str(tmp_path / "home"), "SCALPDESK_LEDGER": str(tmp_path / "t.jsonl")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    *local, sim, check = tour_commands()
    for cmd in local:
        args = shlex.split(cmd.replace("../shared/data", str(shared_data)))[1:]
        res = runner.invoke(app, args, catch_exceptions=False)
        assert res.exit_code == 0, f"{cmd}\n{res.output}"
    assert (tmp_path / "train.html").is_file() and (tmp_path / "report.html").is_file()
    assert (tmp_path / "home" / "profiles" / "mine.toml").is_file()
    proc = subprocess.Popen([sys.executable, "-m", "console", *shlex.split(sim)[1:], "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **env})
    try:
        urls: dict[str, str] = {}
        assert proc.stdout is not None
        while len(urls) < 3:
            line = proc.stdout.readline()
            assert line, "the simulator stopped before printing its URLs"
            m = re.match(r"\s*(REST|user hub|market hub)\s+(http\S+)", line)
            if m:
                urls[m.group(1)] = m.group(2)
        assert check.startswith("scalpdesk venue check --api-url")
        res = runner.invoke(app, ["venue", "check", "--api-url", urls["REST"], "--user-hub",
                                  urls["user hub"], "--market-hub", urls["market hub"],
                                  "--seconds", "1"],
                            env={"TOPSTEPX_USERNAME": "sim", "TOPSTEPX_API_KEY": "sim-key"})
        assert res.exit_code == 0, res.output
    finally:
        proc.terminate()
        proc.wait(timeout=30)
