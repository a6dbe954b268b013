"""`scalpdesk tour` (what `scalpdesk demo` printed before issue 10) runs end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_tour_runs_end_to_end(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "console", "tour", "--days", "2",
                          "--keep", str(tmp_path / "tour")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path,
                         env={**__import__("os").environ, "COLUMNS": "200"})
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    for marker in ("1. Synthetic MES", "VERDICT", "out of sample only", "venue check",
                   "tour finished"):
        assert marker in text, marker
    assert (tmp_path / "tour" / "report.html").exists()
    assert (tmp_path / "tour" / "models" / "demo" / "model_card.json").exists()
    assert "Traceback" not in text
