"""`scalpdesk live` end to end: the in-process simulator, a trained model, the journal, and
control over the socket from another thread (as `scalpdesk ctl` does from another shell)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from core.config import load_profile
from core.control.client import ControlClient
from core.engine.runner import LiveOptions, run_live


def _train_model(tmp: Path) -> Path:
    from core.bench.inference import train_bench_model
    from core.datasets.synth import generate

    return train_bench_model("lightgbm", generate(2, seed=3, rth_only=True), tmp)


def _wait_socket(path: Path, timeout: float = 60.0) -> ControlClient:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        c = ControlClient(path, timeout=5.0)
        if path.exists() and c.is_running():
            return c
        time.sleep(0.1)
    raise AssertionError(f"no engine answered at {path}")


async def test_live_engine_runs_the_simulator_and_obeys_ctl(tmp_path: Path,
                                                              monkeypatch: Any) -> None:
    monkeypatch.setenv("SCALPDESK_HOME", str(tmp_path / "home"))
    model = await asyncio.to_thread(_train_model, tmp_path)
    sock = tmp_path / "run" / "demo.sock"
    lines: list[str] = []
    stop = asyncio.Event()
    opts = LiveOptions(profile=load_profile("demo"), model=str(model), socket_path=sock,
                       sim_speed=40.0, status_every_s=0.2, shadow_model=str(model))
    run = asyncio.create_task(run_live(opts, out=lines.append, stop=stop))

    def operator() -> dict[str, Any]:
        c = _wait_socket(sock)
        seen = {"first": c.call("status")}
        for _ in range(100):                       # wait for bars and predictions
            st = c.call("status")
            if st["bars"] >= 20:
                break
            time.sleep(0.1)
        seen["paused"] = c.call("pause")
        seen["resumed"] = c.call("resume")
        seen["killed"] = c.call("kill")
        seen["after"] = c.call("status")
        seen["stop"] = c.call("stop", on_exit="flatten")   # `ctl stop` ends the run
        return seen

    seen = await asyncio.to_thread(operator)
    report = await asyncio.wait_for(run, 60)
    assert seen["stop"]["stopping"] and seen["stop"]["on_exit"] == "flatten"
    assert seen["first"]["mode"] in ("ACTIVE", "PAUSED", "REDUCING")
    assert seen["paused"]["mode"] == "PAUSED" and "operator" in seen["paused"]["reason"]
    assert seen["killed"]["killed"] and seen["killed"]["mode"] == "HALTED"
    assert seen["after"]["position"] == 0
    assert report.bars >= 20 and report.flat_at_exit
    assert any(line.startswith("status mode=") for line in lines), lines[-5:]
    from core.journal import Journal

    with Journal(tmp_path / "home" / "journal" / "demo.sqlite") as j:   # the model ran, journaled
        preds = [ev for _seq, ev in j.replay(types=["PredictionMade"])]
    assert len(preds) >= 10
    assert any(getattr(p, "shadow", False) for p in preds)          # the shadow predicted too
    assert any(a.startswith("shadow ") for a in report.alerts)      # … and was backtested


def test_metrics_exposition_counts_events_and_status() -> None:
    from core.engine.metrics import EngineMetrics

    m = EngineMetrics()
    m.on_event({"type": "OrderUpdated", "state": "working"})
    m.on_event({"type": "Heartbeat", "ts_ns": 2_000_000_000})
    m.on_status({"position": -2, "balance": 990.0, "day_pnl": -10.0, "mode": "PAUSED",
                 "armed": True, "bars": 7})
    text = m.text()
    assert 'scalpdesk_order_updates_total{state="working"} 1.0' in text
    assert "scalpdesk_position_contracts -2.0" in text
    assert 'scalpdesk_risk_mode{mode="PAUSED"} 1.0' in text
    assert "scalpdesk_heartbeat_seconds 2.0" in text
