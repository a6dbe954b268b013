"""Shared fixtures: the real market data beside the project, and a tmp data home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCALPDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))

# Tests never spend time compiling twice: keep numba's cache inside the checkout.
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skips the test with a clear reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA} "
                    "(set SCALPDESK_SHARED_DATA or check out ../shared beside the project)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_trial_ledger(tmp_path_factory: pytest.TempPathFactory,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Backtests append to the trial ledger: keep tests from writing into the checkout."""
    if "SCALPDESK_LEDGER" not in os.environ:
        monkeypatch.setenv("SCALPDESK_LEDGER",
                           str(tmp_path_factory.getbasetemp() / "trials.jsonl"))


@pytest.fixture(autouse=True)
def _isolated_user_home(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """User profiles go to $SCALPDESK_HOME/profiles: never the tester's real home."""
    if "SCALPDESK_HOME" not in os.environ:
        monkeypatch.setenv("SCALPDESK_HOME", str(tmp_path_factory.mktemp("home")))
