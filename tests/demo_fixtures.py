"""A user home holding the demo's cached model, built once per test session.

`scalpdesk demo` trains its model on first run (~20 s on 2 cores); the demo tests share one
build so each of them starts from a warm cache, as a user's second run does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_BUILT: dict[str, Path] = {}   # one build per process, whichever module asks first


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``SCALPDESK_HOME`` with ``cache/demo`` filled by the shipped recipe."""
    if "home" not in _BUILT:
        from core.training.demo_model import ensure_demo_model

        home = tmp_path_factory.mktemp("demo-home")
        ensure_demo_model(home / "cache" / "demo")
        (home / "run").mkdir()
        _BUILT["home"] = home
    return _BUILT["home"]


def demo_env(home: Path) -> dict[str, str]:
    """Environment of a `scalpdesk demo` subprocess: that home, its own socket directory."""
    return {**os.environ, "SCALPDESK_HOME": str(home), "SCALPDESK_RUN_DIR": str(home / "run"),
            "COLUMNS": "200"}
